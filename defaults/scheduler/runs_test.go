package scheduler_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/scheduler"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// An error text the database would refuse (a NUL byte on PostgreSQL,
// invalid UTF-8 on PostgreSQL and MariaDB's utf8mb4) is sanitized: the
// release succeeds, rather than the lease expiring and the same period
// running again one lease later.
func TestErrorTextTheDatabaseRefusesIsReleased(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		s := instance(t, db, scheduler.Options{InstanceID: "a"})
		runs := make(chan struct{}, 10)
		err := s.ScheduleTask(context.Background(), core.Task{ID: "bad-error", Frequency: core.Every(time.Hour), Timeout: time.Minute,
			Fn: func(ctx context.Context) error {
				runs <- struct{}{}
				return errors.New("decode failed on \x00\xff\xfe bytes")
			}})
		if err != nil {
			t.Fatal(err)
		}
		receive(t, runs, "the first run")
		released := make(chan struct{})
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				r, err := tryReadRow(db, "p", "bad-error")
				if err == nil && !r.ticket.Valid && r.lastEnded.Valid {
					close(released)
					return
				}
			}
		}()
		select {
		case <-released:
		case <-runs:
			t.Fatal("the hourly task ran a second time in the same period: its release failed (error text refused by the database), its lease expired and it was claimed again")
		case <-time.After(wait):
			t.Fatal("the run was never released")
		}
	})
}

// The owner of a run fences itself: when it cannot renew its lease (it
// cannot reach the database; simulated here by holding its pool's only
// connection) it cancels the run before the lease expires on the database's
// clock, so that the instance that takes the run over does not run it
// alongside.
func TestOwnerThatCannotRenewStopsBeforeItsLeaseExpires(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		driver, dsn := db.DriverDSN()
		pool, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pool.Close() })
		pool.SetMaxOpenConns(1)
		var active atomic.Int32
		var overlap atomic.Bool
		aStarted := make(chan struct{})
		bRan := make(chan struct{}, 1)
		fn := func(name string) core.TaskFunc {
			return func(ctx context.Context) error {
				if active.Add(1) > 1 {
					overlap.Store(true)
				}
				defer active.Add(-1)
				if name == "a" {
					close(aStarted)
					<-ctx.Done()
					return ctx.Err()
				}
				bRan <- struct{}{}
				return nil
			}
		}
		a, err := scheduler.New(context.Background(), scheduler.Options{DB: pool, Dialect: db.Dialect, PluginID: "p", InstanceID: "a",
			LeaseDuration: 300 * time.Millisecond, PollInterval: 50 * time.Millisecond, SkipMigrations: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.ScheduleTask(context.Background(), core.Task{ID: "job", Frequency: core.Every(time.Hour), Timeout: time.Hour, Fn: fn("a")}); err != nil {
			t.Fatal(err)
		}
		receive(t, aStarted, "a's run")
		// a loses its database: take its only connection.
		conn, err := pool.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		b := instance(t, db, scheduler.Options{InstanceID: "b", LeaseDuration: 300 * time.Millisecond})
		if err := b.ScheduleTask(context.Background(), core.Task{ID: "job", Frequency: core.Every(time.Hour), Timeout: time.Hour, Fn: fn("b")}); err != nil {
			t.Fatal(err)
		}
		receive(t, bRan, "b's takeover")
		conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = a.Shutdown(ctx)
		if overlap.Load() {
			t.Error("instance b ran the task while instance a, which could not renew its lease, was still running it")
		}
	})
}

// The lease is renewed until the function returns, not until its context
// is cancelled (at shutdown or past the timeout): a function that needs
// longer than one lease to wind down (roll back a transaction, flush a
// batch) is not run alongside by another instance meanwhile.
func TestNoTakeoverWhileCancelledRunIsWindingDown(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		const lease = 300 * time.Millisecond
		aStarted := make(chan struct{})
		bStarted := make(chan struct{})
		var overlap atomic.Bool
		a, err := scheduler.New(context.Background(), scheduler.Options{DB: mustPool(t, db), Dialect: db.Dialect, PluginID: "p", InstanceID: "a",
			LeaseDuration: lease, PollInterval: 50 * time.Millisecond, SkipMigrations: true})
		if err != nil {
			t.Fatal(err)
		}
		err = a.ScheduleTask(context.Background(), core.Task{ID: "job", Frequency: core.Every(time.Hour), Timeout: time.Hour,
			Fn: func(ctx context.Context) error {
				close(aStarted)
				<-ctx.Done()
				// Winding down takes a few leases; b must not start meanwhile.
				select {
				case <-bStarted:
					overlap.Store(true)
				case <-time.After(5 * lease):
				}
				return ctx.Err()
			}})
		if err != nil {
			t.Fatal(err)
		}
		receive(t, aStarted, "a's run")
		b := instance(t, db, scheduler.Options{InstanceID: "b", LeaseDuration: lease})
		var once sync.Once
		if err := b.ScheduleTask(context.Background(), core.Task{ID: "job", Frequency: core.Every(time.Hour), Timeout: time.Hour,
			Fn: func(ctx context.Context) error { once.Do(func() { close(bStarted) }); return nil }}); err != nil {
			t.Fatal(err)
		}
		if err := a.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if overlap.Load() {
			t.Error("instance b started the task while instance a's cancelled run had not returned yet")
		}
	})
}

func mustPool(t *testing.T, db *testdatabases.DB) *sql.DB {
	t.Helper()
	driver, dsn := db.DriverDSN()
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

// A run whose function returned nil (it finished its work) while shutdown
// was beginning is a completed run, not an interrupted one: next_run_at
// advances, so that no instance runs the same period again.
func TestRunThatSucceededDuringShutdownIsNotRerun(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		a, err := scheduler.New(context.Background(), scheduler.Options{DB: mustPool(t, db), Dialect: db.Dialect, PluginID: "p", InstanceID: "a",
			LeaseDuration: time.Second, PollInterval: 50 * time.Millisecond, SkipMigrations: true})
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		err = a.ScheduleTask(context.Background(), core.Task{ID: "job", Frequency: core.Every(time.Hour), Timeout: time.Hour,
			Fn: func(ctx context.Context) error {
				close(started)
				<-ctx.Done() // the last step of the work did not look at ctx
				return nil   // and the work is done
			}})
		if err != nil {
			t.Fatal(err)
		}
		receive(t, started, "the run")
		planned := readRow(t, db, "p", "job").next.Int64
		if err := a.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := readRow(t, db, "p", "job")
		if r.next.Int64 < planned+time.Hour.Milliseconds() {
			t.Errorf("after a run that returned nil, next_run_at = %d (planned %d): the completed period is due again at once (last error %q)", r.next.Int64, planned, r.lastError.String)
		}
	})
}

// A release that fails (the database is out for a moment) is retried while
// the lease is held, rather than left to the lease's expiry, after which the
// completed period would run again.
func TestReleaseIsRetriedDuringAShortOutage(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		pool := mustPool(t, db)
		pool.SetMaxOpenConns(1)
		logger := mockservices.Logger(t)
		a, err := scheduler.New(context.Background(), scheduler.Options{DB: pool, Dialect: db.Dialect, PluginID: "p", InstanceID: "a", Logger: logger,
			LeaseDuration: 3 * time.Second, PollInterval: 50 * time.Millisecond, SkipMigrations: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
		proceed := make(chan struct{})
		var runs atomic.Int32
		if err := a.ScheduleTask(context.Background(), core.Task{ID: "job", Frequency: core.Every(time.Hour), Timeout: time.Hour,
			Fn: func(ctx context.Context) error {
				if runs.Add(1) == 1 {
					<-proceed
				}
				return nil
			}}); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(wait); runs.Load() == 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the task did not run")
			}
		}
		planned := readRow(t, db, "p", "job").next.Int64
		// The database goes away for a's pool: the release fails.
		conn, err := pool.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		close(proceed)
		for deadline := time.Now().Add(wait); !logger.Contains("scheduler: could not release a run; retrying"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				conn.Close()
				t.Fatal("the release did not fail while the database was away")
			}
		}
		conn.Close()
		for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
			r := readRow(t, db, "p", "job")
			if !r.ticket.Valid {
				if r.next.Int64 < planned+time.Hour.Milliseconds() {
					t.Fatalf("next_run_at = %d after the release, want the next period (planned %d + 1h)", r.next.Int64, planned)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the run was never released once the database was back")
			}
		}
		if n := runs.Load(); n != 1 {
			t.Errorf("the task ran %d times, want once", n)
		}
	})
}

func TestSanitizeError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"nul\x00byte", "nulbyte"},
		{"bad \xff\xfe utf8", "bad \uFFFD utf8"},
	} {
		if got := scheduler.SanitizeError(c.in); got != c.want {
			t.Errorf("SanitizeError(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := strings.Repeat("é", 40000) // 80000 bytes: more than MySQL's TEXT
	got := scheduler.SanitizeError(long)
	if len(got) > 8<<10 || !utf8.ValidString(got) || !strings.HasSuffix(got, "(truncated)") || !strings.HasPrefix(got, "éé") {
		t.Errorf("SanitizeError(80000 bytes) = %d bytes, valid UTF-8 %v, ends %q", len(got), utf8.ValidString(got), got[max(0, len(got)-20):])
	}
}
