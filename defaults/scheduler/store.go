package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/sqlkit"
)

// store is the table of global tasks. Every time comparison happens in SQL
// against the database's clock (nowExpr), so instances whose clocks
// disagree still agree on who may run a task.
type store struct {
	db       *sql.DB
	dialect  core.Dialect
	pluginID string
	now      string // SQL expression: the database's clock in ms since the epoch
}

func newStore(db *sql.DB, dialect core.Dialect, pluginID string) (*store, error) {
	s := &store{db: db, dialect: dialect, pluginID: pluginID}
	switch dialect {
	case core.DialectSQLite:
		s.now = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
	case core.DialectPostgres:
		s.now = "(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000))::BIGINT"
	case core.DialectMySQL:
		// UTC_TIMESTAMP and TIMESTAMPDIFF do not depend on the session's
		// time zone: UNIX_TIMESTAMP(NOW(3)) would jump back an hour when
		// daylight saving time ends.
		s.now = "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)"
	default:
		return nil, fmt.Errorf("unknown dialect %q; use %q, %q or %q", dialect, core.DialectSQLite, core.DialectPostgres, core.DialectMySQL)
	}
	return s, nil
}

// q rewrites the query's {now} markers and placeholders for the dialect.
func (s *store) q(query string) string {
	out := make([]byte, 0, len(query)+64)
	for i := 0; i < len(query); i++ {
		if query[i] == '{' && len(query) >= i+5 && query[i:i+5] == "{now}" {
			out = append(out, s.now...)
			i += 4
			continue
		}
		out = append(out, query[i])
	}
	return sqlkit.Rebind(s.dialect, string(out))
}

// greatest is the dialect's two-argument maximum.
func (s *store) greatest(a, b string) string {
	if s.dialect == core.DialectSQLite {
		return "MAX(" + a + ", " + b + ")"
	}
	return "GREATEST(" + a + ", " + b + ")"
}

// dbNow reads the database's clock.
func (s *store) dbNow(ctx context.Context) (int64, error) {
	var now int64
	if err := s.db.QueryRowContext(ctx, s.q("SELECT {now}")).Scan(&now); err != nil {
		return 0, fmt.Errorf("read the database clock: %w", err)
	}
	return now, nil
}

// row is a task's row, read together with the database's clock.
type row struct {
	settings         string
	nextRunAt        sql.NullInt64
	ticket           sql.NullString
	owner            sql.NullString
	runStartedAt     sql.NullInt64
	leaseExpiresAt   sql.NullInt64
	lastRunStartedAt sql.NullInt64
	lastRunEndedAt   sql.NullInt64
	lastError        sql.NullString
	now              int64
}

// running reports whether a live lease is held on the task.
func (r row) running() bool {
	return r.ticket.Valid && r.leaseExpiresAt.Valid && r.leaseExpiresAt.Int64 >= r.now
}

const rowColumns = "settings, next_run_at, run_ticket, run_owner, run_started_at, lease_expires_at, last_run_started_at, last_run_ended_at, last_error, {now}"

func (r *row) dest() []any {
	return []any{&r.settings, &r.nextRunAt, &r.ticket, &r.owner, &r.runStartedAt, &r.leaseExpiresAt,
		&r.lastRunStartedAt, &r.lastRunEndedAt, &r.lastError, &r.now}
}

// get reads the task's row; ok is false if there is none.
func (s *store) get(ctx context.Context, id string) (r row, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, s.q("SELECT "+rowColumns+" FROM greenroom_scheduler_tasks WHERE plugin_id = ? AND id = ?"),
		s.pluginID, id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("read task '%s': %w", id, err)
	}
	return r, true, nil
}

// all reads the plugin's rows by task ID.
func (s *store) all(ctx context.Context) (map[string]row, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT id, "+rowColumns+" FROM greenroom_scheduler_tasks WHERE plugin_id = ?"), s.pluginID)
	if err != nil {
		return nil, fmt.Errorf("read the tasks: %w", err)
	}
	defer rows.Close()
	out := map[string]row{}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(append([]any{&id}, r.dest()...)...); err != nil {
			return nil, fmt.Errorf("read the tasks: %w", err)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the tasks: %w", err)
	}
	return out, nil
}

// initialNext returns the first due time of a task whose row is new, from
// the database clock now (ms); null for a manual task.
func initialNext(t *task, now int64) sql.NullInt64 {
	switch {
	case t.every > 0:
		return sql.NullInt64{Int64: now + t.InitialDelay.Milliseconds(), Valid: true}
	case t.cron != nil:
		from := time.UnixMilli(now + t.InitialDelay.Milliseconds())
		return sql.NullInt64{Int64: t.cron.Next(from).UnixMilli(), Valid: true}
	}
	return sql.NullInt64{}
}

// persist upserts the task's row. A row with the same settings keeps its
// next_run_at, so that a restart does not re-run a task that just ran; a
// row with other settings gets the earlier of its next_run_at and the new
// settings' first due time.
func (s *store) persist(ctx context.Context, t *task) error {
	for attempt := 0; ; attempt++ {
		r, ok, err := s.get(ctx, t.ID)
		if err != nil {
			return err
		}
		if !ok {
			now, err := s.dbNow(ctx)
			if err != nil {
				return err
			}
			_, err = s.db.ExecContext(ctx, s.q("INSERT INTO greenroom_scheduler_tasks (plugin_id, id, settings, next_run_at) VALUES (?, ?, ?, ?)"),
				s.pluginID, t.ID, t.settings, initialNext(t, now))
			if err != nil && sqlkit.IsUnique(err) && attempt == 0 {
				continue // another instance inserted it first: compare with its row
			}
			if err != nil {
				return fmt.Errorf("insert task '%s': %w", t.ID, err)
			}
			return nil
		}
		if r.settings == t.settings {
			return nil
		}
		next := initialNext(t, r.now)
		if next.Valid && r.nextRunAt.Valid && r.nextRunAt.Int64 < next.Int64 {
			next = r.nextRunAt
		}
		_, err = s.db.ExecContext(ctx, s.q("UPDATE greenroom_scheduler_tasks SET settings = ?, next_run_at = ? WHERE plugin_id = ? AND id = ?"),
			t.settings, next, s.pluginID, t.ID)
		if err != nil {
			return fmt.Errorf("update the settings of task '%s': %w", t.ID, err)
		}
		return nil
	}
}

// claim takes the run of a due task whose lease is free or expired. It
// reports whether this instance now owns the run.
func (s *store) claim(ctx context.Context, id, ticket, owner string, lease time.Duration) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE greenroom_scheduler_tasks
SET run_ticket = ?, run_owner = ?, run_started_at = {now}, lease_expires_at = {now} + ?
WHERE plugin_id = ? AND id = ? AND next_run_at <= {now} AND (run_ticket IS NULL OR lease_expires_at < {now})`),
		ticket, owner, lease.Milliseconds(), s.pluginID, id)
	if err != nil {
		return false, fmt.Errorf("claim task '%s': %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim task '%s': %w", id, err)
	}
	return n == 1, nil
}

// renew extends the lease of the run with the ticket; false means the run
// was lost (taken over after its lease expired, or the row was changed).
func (s *store) renew(ctx context.Context, id, ticket string, lease time.Duration) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE greenroom_scheduler_tasks SET lease_expires_at = {now} + ?
WHERE plugin_id = ? AND id = ? AND run_ticket = ?`), lease.Milliseconds(), s.pluginID, id, ticket)
	if err != nil {
		return false, fmt.Errorf("renew the lease of task '%s': %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("renew the lease of task '%s': %w", id, err)
	}
	// MySQL counts changed rows: a renewal within the same millisecond
	// changes nothing. Tell that apart from a lost ticket.
	if n == 0 && s.dialect == core.DialectMySQL {
		r, ok, err := s.get(ctx, id)
		if err != nil {
			return false, err
		}
		return ok && r.ticket.Valid && r.ticket.String == ticket, nil
	}
	return n == 1, nil
}

// release ends the run with the ticket. With interrupted, next_run_at is
// kept, so that the run is due again at once; otherwise it advances to the
// task's next due time. It reports whether the ticket was still held.
func (s *store) release(ctx context.Context, t *task, ticket string, runErr string, interrupted bool) (bool, error) {
	var errArg sql.NullString
	if runErr != "" {
		errArg = sql.NullString{String: runErr, Valid: true}
	}
	// last_run_started_at comes first: MySQL assigns left to right and
	// reads the new values of columns already assigned.
	set := "last_run_started_at = run_started_at, last_run_ended_at = {now}, last_error = ?, " +
		"run_ticket = NULL, run_owner = NULL, run_started_at = NULL, lease_expires_at = NULL"
	args := []any{errArg}
	switch {
	case interrupted:
	case t.every > 0:
		set += ", next_run_at = " + s.greatest("COALESCE(next_run_at, {now}) + ?", "{now}")
		args = append(args, t.every.Milliseconds())
	case t.cron != nil:
		r, ok, err := s.get(ctx, t.ID)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
		from := r.now
		if r.nextRunAt.Valid && r.nextRunAt.Int64 > from {
			from = r.nextRunAt.Int64
		}
		set += ", next_run_at = ?"
		args = append(args, t.cron.Next(time.UnixMilli(from)).UnixMilli())
	default:
		set += ", next_run_at = NULL"
	}
	args = append(args, s.pluginID, t.ID, ticket)
	res, err := s.db.ExecContext(ctx, s.q("UPDATE greenroom_scheduler_tasks SET "+set+" WHERE plugin_id = ? AND id = ? AND run_ticket = ?"), args...)
	if err != nil {
		return false, fmt.Errorf("release task '%s': %w", t.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("release task '%s': %w", t.ID, err)
	}
	return n == 1, nil
}

// trigger makes a task whose run is not in progress due now. It reports
// whether the row was updated.
func (s *store) trigger(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE greenroom_scheduler_tasks SET next_run_at = {now}
WHERE plugin_id = ? AND id = ? AND (run_ticket IS NULL OR lease_expires_at < {now})`), s.pluginID, id)
	if err != nil {
		return false, fmt.Errorf("trigger task '%s': %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("trigger task '%s': %w", id, err)
	}
	if n == 0 && s.dialect == core.DialectMySQL {
		// Unchanged rows count 0 on MySQL: next_run_at may already be now.
		r, ok, err := s.get(ctx, id)
		if err != nil {
			return false, err
		}
		return ok && !r.running(), nil
	}
	return n == 1, nil
}
