package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/scheduler"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// run is one run of a task as seen from inside it: the instance, and the
// row's planned start (next_run_at, unchanged by a claim) and end of the
// previous run, both on the database clock.
type run struct {
	instance  string
	planned   int64
	prevEnded int64
}

// exactlyOnce runs an interval task on three instances whose local clocks
// are skewed by skews, and checks the runs it records: never two at once,
// and each planned start is the previous one plus the interval, or the
// previous run's end if that came later (GREATEST(next + interval, now)):
// no period is run twice and none is lost.
func exactlyOnce(t *testing.T, db *testdatabases.DB, skews []time.Duration) {
	const interval = 150 * time.Millisecond
	const runs = 8
	var (
		mu      sync.Mutex
		got     []run
		active  atomic.Int32
		overlap atomic.Bool
		done    = make(chan struct{})
	)
	for i, skew := range skews {
		opts := scheduler.WithClock(scheduler.Options{InstanceID: fmt.Sprintf("i%d", i)},
			func() time.Time { return time.Now().Add(skew) })
		s := instance(t, db, opts)
		name := s.InstanceID()
		err := s.ScheduleTask(context.Background(), core.Task{ID: "tick", Frequency: core.Every(interval), Timeout: time.Minute,
			Fn: func(ctx context.Context) error {
				if active.Add(1) > 1 {
					overlap.Store(true)
				}
				defer active.Add(-1)
				r, err := tryReadRow(db, "p", "tick")
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				got = append(got, run{instance: name, planned: r.next.Int64, prevEnded: r.lastEnded.Int64})
				if len(got) == runs {
					close(done)
				}
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	receive(t, done, fmt.Sprintf("%d runs", runs))
	if overlap.Load() {
		t.Error("two runs of the task overlapped")
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < runs; i++ {
		prev, cur := got[i-1], got[i]
		want := max(prev.planned+interval.Milliseconds(), cur.prevEnded)
		// The release reads the clock twice (PostgreSQL's clock_timestamp
		// advances within a statement): allow a third of the interval,
		// well short of a lost period.
		if cur.planned < prev.planned+interval.Milliseconds() || cur.planned > want+interval.Milliseconds()/3 {
			t.Errorf("run %d (on %s) was planned at %d, want %d (previous planned at %d, ended at %d): a period was run twice or lost",
				i, cur.instance, cur.planned, want, prev.planned, cur.prevEnded)
		}
	}
}

func TestExactlyOncePerPeriodAcrossInstances(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		exactlyOnce(t, db, []time.Duration{0, 0, 0})
	})
}

func TestExactlyOnceUnderClockSkew(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		exactlyOnce(t, db, []time.Duration{-3 * time.Second, 0, 3 * time.Second})
	})
}

// An instance that died mid-run left a lease it never renews: another
// instance runs the task once the lease expires, long before the task's
// one-hour timeout.
func TestDeadOwnerIsTakenOverAfterItsLease(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		_, err := db.Exec(q(db, `INSERT INTO greenroom_scheduler_tasks
(plugin_id, id, settings, next_run_at, run_ticket, run_owner, run_started_at, lease_expires_at)
VALUES ('p', 'job', '{}', {now}, 'dead-ticket', 'dead-instance', {now}, {now} + 1000)`))
		if err != nil {
			t.Fatal(err)
		}
		deadLease := readRow(t, db, "p", "job").leaseExpires.Int64
		s := instance(t, db, scheduler.Options{InstanceID: "survivor"})
		started := make(chan taskRow, 1)
		err = s.ScheduleTask(context.Background(), core.Task{ID: "job", Frequency: core.Every(time.Hour), Timeout: time.Hour,
			Fn: func(ctx context.Context) error {
				r, err := tryReadRow(db, "p", "job")
				if err != nil {
					t.Error(err)
				}
				started <- r
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		r := receive(t, started, "the takeover of the dead instance's run")
		if r.owner.String != "survivor" {
			t.Errorf("run owner = %q, want survivor", r.owner.String)
		}
		if r.runStarted.Int64 <= deadLease {
			t.Errorf("the run started at %d, before the dead lease expired at %d", r.runStarted.Int64, deadLease)
		}
	})
}

// The instance running a task shuts down mid-run: the run's context is
// cancelled, the lease is released without advancing the next run time,
// and the other instance runs the task at once, although the next period
// is an hour away.
func TestShutdownHandsTheRunOver(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		type event struct{ instance, what string }
		events := make(chan event, 10)
		instances := map[string]*scheduler.Scheduler{}
		for _, name := range []string{"a", "b"} {
			s := instance(t, db, scheduler.Options{InstanceID: name})
			instances[name] = s
			err := s.ScheduleTask(context.Background(), core.Task{ID: "long", Frequency: core.Every(time.Hour), Timeout: time.Hour,
				Fn: func(ctx context.Context) error {
					events <- event{name, "started"}
					<-ctx.Done()
					events <- event{name, "cancelled"}
					return ctx.Err()
				}})
			if err != nil {
				t.Fatal(err)
			}
		}
		first := receive(t, events, "the first run")
		if first.what != "started" {
			t.Fatalf("first event = %+v, want a start", first)
		}
		if err := instances[first.instance].Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if e := receive(t, events, "the cancellation"); e != (event{first.instance, "cancelled"}) {
			t.Fatalf("after shutdown of %s: event %+v, want its run cancelled", first.instance, e)
		}
		other := map[string]string{"a": "b", "b": "a"}[first.instance]
		if e := receive(t, events, "the run on the other instance"); e != (event{other, "started"}) {
			t.Fatalf("event %+v, want the run started on %s", e, other)
		}
		r := readRow(t, db, "p", "long")
		if want := "interrupted: instance " + first.instance + " shut down"; r.lastError.String != want {
			t.Errorf("last_error = %q, want %q", r.lastError.String, want)
		}
	})
}

// A renewal that finds the ticket gone cancels the run's context.
func TestLostLeaseCancelsTheRun(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		s := instance(t, db, scheduler.Options{LeaseDuration: 300 * time.Millisecond})
		started, cancelled := make(chan struct{}, 1), make(chan error, 1)
		err := s.ScheduleTask(context.Background(), core.Task{ID: "victim", Frequency: core.Every(time.Hour), Timeout: time.Hour,
			Fn: func(ctx context.Context) error {
				started <- struct{}{}
				<-ctx.Done()
				cancelled <- ctx.Err()
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		receive(t, started, "the run")
		if _, err := db.Exec(q(db, "UPDATE greenroom_scheduler_tasks SET run_ticket = 'stolen' WHERE plugin_id = 'p' AND id = 'victim'")); err != nil {
			t.Fatal(err)
		}
		receive(t, cancelled, "the cancellation of the run whose claim was lost")
	})
}

// The first time of a cron task comes from the database's clock: an
// instance whose own clock is 400 days ahead does not move it.
func TestCronNextTimeFromDatabaseClock(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		s := instance(t, db, scheduler.WithClock(scheduler.Options{}, func() time.Time { return time.Now().Add(400 * 24 * time.Hour) }))
		before := dbNow(t, db)
		err := s.ScheduleTask(context.Background(), core.Task{ID: "yearly", Frequency: core.Cron("0 0 1 1 *"), Timeout: time.Minute,
			Fn: func(context.Context) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		after := dbNow(t, db)
		lo, hi := nextNewYear(before), nextNewYear(after)
		if next := readRow(t, db, "p", "yearly").next.Int64; next < lo || next > hi {
			t.Errorf("next_run_at = %v, want the next new year after the database's now, %v", time.UnixMilli(next).UTC(), time.UnixMilli(lo).UTC())
		}
	})
}

func nextNewYear(ms int64) int64 {
	y := time.UnixMilli(ms).UTC().Year()
	return time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
}

// A restart with the same settings keeps the next run time (a task that
// just ran does not run again); changed settings take the earlier of the
// stored time and the new first time.
func TestRestartKeepsOrUpdatesTheNextRun(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := context.Background()
		noop := func(context.Context) error { return nil }
		task := core.Task{ID: "hourly", Fn: noop, Frequency: core.Every(time.Hour), Timeout: time.Minute, InitialDelay: time.Hour}
		first := instance(t, db, scheduler.Options{})
		if err := first.ScheduleTask(ctx, task); err != nil {
			t.Fatal(err)
		}
		if err := first.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		r1 := readRow(t, db, "p", "hourly")

		same := instance(t, db, scheduler.Options{})
		if err := same.ScheduleTask(ctx, task); err != nil {
			t.Fatal(err)
		}
		if r2 := readRow(t, db, "p", "hourly"); r2.next != r1.next || r2.settings != r1.settings {
			t.Errorf("after a restart with the same settings: next_run_at %v, settings %s; want %v, %s unchanged", r2.next, r2.settings, r1.next, r1.settings)
		}
		if err := same.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}

		changed := task
		changed.Frequency, changed.InitialDelay = core.Every(2*time.Hour), 10*time.Minute
		before := dbNow(t, db)
		if err := instance(t, db, scheduler.Options{}).ScheduleTask(ctx, changed); err != nil {
			t.Fatal(err)
		}
		r3 := readRow(t, db, "p", "hourly")
		if r3.settings == r1.settings {
			t.Errorf("settings were not updated: %s", r3.settings)
		}
		if r3.next.Int64 >= r1.next.Int64 || r3.next.Int64 < before+(10*time.Minute).Milliseconds() {
			t.Errorf("next_run_at = %d after a settings change, want about %d (now + 10m), earlier than %d", r3.next.Int64, before+(10*time.Minute).Milliseconds(), r1.next.Int64)
		}
	})
}

// A global task can be triggered from an instance that did not schedule
// it; the instance that did runs it.
func TestTriggerFromAnotherInstance(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, db *testdatabases.DB) {
		ran := make(chan struct{}, 1)
		err := instance(t, db, scheduler.Options{}).ScheduleTask(context.Background(), core.Task{ID: "manual", Frequency: core.Manual(),
			Timeout: time.Minute, Fn: func(context.Context) error { ran <- struct{}{}; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		other := instance(t, db, scheduler.Options{})
		if err := other.TriggerTask(context.Background(), "manual"); err != nil {
			t.Fatal(err)
		}
		receive(t, ran, "the triggered run")
		if r := readRow(t, db, "p", "manual"); r.next.Valid {
			// The release may not have happened yet when ran is received:
			// wait for the row to settle.
			deadline := time.Now().Add(wait)
			for r.next.Valid && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				r = readRow(t, db, "p", "manual")
			}
			if r.next.Valid {
				t.Errorf("a manual task's next_run_at after its run = %d, want NULL", r.next.Int64)
			}
		}
		err = other.TriggerTask(context.Background(), "missing")
		if !errs.Is(err, errs.NotFound) || !strings.Contains(err.Error(), "Task 'missing' of plugin 'p' does not exist") {
			t.Errorf("TriggerTask(missing) = %v, want NotFound naming the task and plugin", err)
		}
	})
}

// Local tasks run on every instance, without the database.
func TestLocalTasksRunOnEveryInstance(t *testing.T) {
	t.Parallel()
	db := testdatabases.New(t, testdatabases.SQLite3, testdatabases.WithMigrator(scheduler.Migrations)).Init(t, testdatabases.SQLite3)
	for _, name := range []string{"a", "b"} {
		ran := make(chan struct{}, 10)
		s := instance(t, db, scheduler.Options{InstanceID: name})
		err := s.ScheduleTask(context.Background(), core.Task{ID: "local", Scope: core.ScopeLocal, Frequency: core.Every(10 * time.Millisecond),
			Timeout: time.Minute, Fn: func(context.Context) error {
				select {
				case ran <- struct{}{}:
				default:
				}
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		receive(t, ran, "a first local run on "+name)
		receive(t, ran, "a second local run on "+name)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM greenroom_scheduler_tasks").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("local tasks wrote %d rows, want none", n)
	}
}

func TestScheduleTaskErrors(t *testing.T) {
	t.Parallel()
	db := testdatabases.New(t, testdatabases.SQLite3, testdatabases.WithMigrator(scheduler.Migrations)).Init(t, testdatabases.SQLite3)
	s := instance(t, db, scheduler.Options{PluginID: "catalog"})
	ctx := context.Background()
	err := s.ScheduleTask(ctx, core.Task{ID: "refresh", Fn: func(context.Context) error { return nil }, Frequency: core.Cron("every day"), Timeout: time.Minute})
	if !errs.Is(err, errs.Input) || !strings.Contains(err.Error(), "Task 'refresh' of plugin 'catalog'") || !strings.Contains(err.Error(), "five fields") {
		t.Errorf("bad cron: %v, want an input error naming the task, the plugin and the fix", err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	err = s.ScheduleTask(ctx, core.Task{ID: "late", Fn: func(context.Context) error { return nil }, Frequency: core.Manual(), Timeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("ScheduleTask after shutdown = %v, want an error saying the scheduler is shutting down", err)
	}
	for _, opts := range []scheduler.Options{{PluginID: "p"}, {DB: db.DB, Dialect: "oracle", PluginID: "p"}, {DB: db.DB, Dialect: core.DialectSQLite, PluginID: "p", LeaseDuration: time.Millisecond}} {
		if _, err := scheduler.New(ctx, opts); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", opts)
		}
	}
}

// A trigger asks for a run now, also during the task's initial delay.
func TestTriggerDuringInitialDelay(t *testing.T) {
	t.Parallel()
	db := testdatabases.New(t, testdatabases.SQLite3, testdatabases.WithMigrator(scheduler.Migrations)).Init(t, testdatabases.SQLite3)
	s := instance(t, db, scheduler.Options{})
	ran := make(chan struct{}, 1)
	err := s.ScheduleTask(context.Background(), core.Task{ID: "delayed", Frequency: core.Every(time.Hour), InitialDelay: time.Hour,
		Timeout: time.Minute, Fn: func(context.Context) error { ran <- struct{}{}; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.TriggerTask(context.Background(), "delayed"); err != nil {
		t.Fatal(err)
	}
	receive(t, ran, "the triggered run")
}

// core.Cron's times are in UTC unless the expression starts with
// CRON_TZ=<zone>, whatever the machine's zone: instances in different zones
// must agree on a global task's next run. The test re-runs itself with TZ
// set.
func TestCronIsUTCWhateverTheLocalZone(t *testing.T) {
	t.Parallel()
	if os.Getenv("SCHEDULER_TZ_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCronIsUTCWhateverTheLocalZone$", "-test.v")
		cmd.Env = append(os.Environ(), "TZ=Asia/Tokyo", "SCHEDULER_TZ_CHILD=1")
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

// ScheduleTask racing Shutdown: a task is either refused or started and
// waited for; the race detector checks that no wg.Add races wg.Wait.
func TestScheduleTaskRacingShutdown(t *testing.T) {
	t.Parallel()
	testdatabases.New(t, testdatabases.WithMigrator(scheduler.Migrations), testdatabases.SQLite3).With(testdatabases.Clone).Each(t, func(t *testing.T, db *testdatabases.DB) {
		for round := 0; round < 20; round++ {
			s := instance(t, db, scheduler.Options{InstanceID: fmt.Sprintf("i%d", round)})
			var wg sync.WaitGroup
			for i := 0; i < 16; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.ScheduleTask(context.Background(), core.Task{ID: fmt.Sprintf("t%d", i), Scope: core.ScopeLocal, Frequency: core.Every(time.Hour),
						InitialDelay: time.Hour, Timeout: time.Minute, Fn: func(context.Context) error { return nil }})
					if err != nil && !errs.Is(err, errs.ServiceUnavailable) {
						t.Errorf("ScheduleTask during shutdown = %v, want nil or a ServiceUnavailable error", err)
					}
				}()
			}
			if err := s.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
			wg.Wait()
		}
	})
}
