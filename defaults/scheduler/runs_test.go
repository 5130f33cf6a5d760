package scheduler_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/scheduler"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// REVIEW: a task whose error text the database refuses (a NUL byte on
// PostgreSQL, invalid UTF-8 on PostgreSQL and MariaDB's utf8mb4) makes the
// release UPDATE fail: the run is never released, its lease expires, and the
// same period runs again one lease later (hourly task run every second).
func TestReviewErrorTextTheDatabaseRefusesIsReleased(t *testing.T) {
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

// REVIEW: core.Cron documents "Times are in UTC unless the expression starts
// with CRON_TZ=<zone>", but robfig/cron's parser defaults to time.Local and
// the scheduler passes time.UnixMilli (local) times: with TZ=Asia/Tokyo a
// "0 3 * * *" task is due at 18:00 UTC. Instances in different zones then
// disagree on a global task's next run. The test re-runs itself with TZ set.
func TestReviewCronIsUTCWhateverTheLocalZone(t *testing.T) {
	t.Parallel()
	if os.Getenv("REVIEW_TZ_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReviewCronIsUTCWhateverTheLocalZone$", "-test.v")
		cmd.Env = append(os.Environ(), "TZ=Asia/Tokyo", "REVIEW_TZ_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("with TZ=Asia/Tokyo: %v\n%s", err, out)
		}
		return
	}
	testdatabases.New(t, testdatabases.WithMigrator(scheduler.Migrations), testdatabases.SQLite3).With(testdatabases.Clone).Each(t, func(t *testing.T, db *testdatabases.DB) {
		s := instance(t, db, scheduler.Options{InstanceID: "a"})
		if err := s.ScheduleTask(context.Background(), core.Task{ID: "nightly", Frequency: core.Cron("0 3 * * *"), Timeout: time.Minute,
			Fn: func(context.Context) error { return nil }}); err != nil {
			t.Fatal(err)
		}
		r := readRow(t, db, "p", "nightly")
		next := time.UnixMilli(r.next.Int64).UTC()
		if next.Hour() != 3 || next.Minute() != 0 {
			t.Errorf("next run of cron \"0 3 * * *\" is %s (local zone %s), want 03:00 UTC as core.Cron documents", next.Format(time.RFC3339), time.Local)
		}
	})
}

// REVIEW: the owner of a run never fences itself: when its renewals fail
// (the owner cannot reach the database; simulated here by holding its pool's
// only connection), runGlobal logs and keeps running, the lease expires on
// the database clock, another instance claims the same period and both run
// it at once. The owner only stops after it reaches the database again and
// its renewal finds the ticket gone.
func TestReviewOwnerThatCannotRenewStopsBeforeItsLeaseExpires(t *testing.T) {
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

// REVIEW: at shutdown (and on timeout) runGlobal stops renewing the lease as
// soon as the run's context is cancelled, not when the function returns. A
// function that needs longer than one lease to wind down (roll back a
// transaction, flush a batch) is still running when its lease expires, and
// another instance claims and runs the same period alongside it.
func TestReviewNoTakeoverWhileCancelledRunIsWindingDown(t *testing.T) {
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

// REVIEW: a run whose function returned nil (it finished its work) while
// shutdown was beginning is released as "interrupted": next_run_at is kept,
// so another instance runs the same, completed, period again at once. A nil
// return should count as a completed run.
func TestReviewRunThatSucceededDuringShutdownIsNotRerun(t *testing.T) {
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
