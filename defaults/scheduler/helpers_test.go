package scheduler_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/scheduler"
	"github.com/greenroom-dev/greenroom/sqlkit"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// wait is how long a test waits for something it expects; it is never a
// timed assertion, only a bound on a hang.
const wait = 30 * time.Second

// eachEngine runs fn on a clone database of every engine, migrated with the
// scheduler's migrations.
func eachEngine(t *testing.T, fn func(t *testing.T, db *testdatabases.DB)) {
	t.Helper()
	testdatabases.New(t, testdatabases.WithMigrator(scheduler.Migrations)).With(testdatabases.Clone).Each(t, func(t *testing.T, db *testdatabases.DB) {
		t.Parallel()
		fn(t, db)
	})
}

// instance starts a scheduler on a pool of its own on db, as another
// backend instance would; it is shut down, then its pool closed, when the
// test ends. Zero fields of opts get test defaults: plugin "p", lease 1s,
// poll 50ms.
func instance(t *testing.T, db *testdatabases.DB, opts scheduler.Options) *scheduler.Scheduler {
	t.Helper()
	driver, dsn := db.DriverDSN()
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	opts.DB, opts.Dialect = pool, db.Dialect
	if opts.PluginID == "" {
		opts.PluginID = "p"
	}
	if opts.LeaseDuration == 0 {
		opts.LeaseDuration = time.Second
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	s, err := scheduler.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutting instance %s down: %v", s.InstanceID(), err)
		}
	})
	return s
}

// nowSQL is the database clock in ms, for rows a test writes itself.
func nowSQL(d core.Dialect) string {
	switch d {
	case core.DialectPostgres:
		return "(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000))::BIGINT"
	case core.DialectMySQL:
		return "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)"
	}
	return "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
}

// q rewrites {now} and ? placeholders for db's dialect.
func q(db *testdatabases.DB, query string) string {
	return sqlkit.Rebind(db.Dialect, strings.ReplaceAll(query, "{now}", nowSQL(db.Dialect)))
}

// taskRow is what tests read of a task's row.
type taskRow struct {
	settings                 string
	next, leaseExpires       sql.NullInt64
	runStarted, lastEnded    sql.NullInt64
	ticket, owner, lastError sql.NullString
}

func readRow(t *testing.T, db *testdatabases.DB, plugin, id string) taskRow {
	t.Helper()
	r, err := tryReadRow(db, plugin, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryReadRow is readRow for goroutines other than the test's.
func tryReadRow(db *testdatabases.DB, plugin, id string) (taskRow, error) {
	var r taskRow
	err := db.QueryRow(q(db, `SELECT settings, next_run_at, lease_expires_at, run_started_at, last_run_ended_at, run_ticket, run_owner, last_error
FROM greenroom_scheduler_tasks WHERE plugin_id = ? AND id = ?`), plugin, id).
		Scan(&r.settings, &r.next, &r.leaseExpires, &r.runStarted, &r.lastEnded, &r.ticket, &r.owner, &r.lastError)
	if err != nil {
		return r, fmt.Errorf("reading the row of task %s/%s: %w", plugin, id, err)
	}
	return r, nil
}

func dbNow(t *testing.T, db *testdatabases.DB) int64 {
	t.Helper()
	var now int64
	if err := db.QueryRow(q(db, "SELECT {now}")).Scan(&now); err != nil {
		t.Fatal(err)
	}
	return now
}

// receive waits for a value on c, failing the test after [wait].
func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(wait):
		t.Fatalf("%s did not happen within %v", what, wait)
		var zero T
		return zero
	}
}
