package todo_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/scheduler"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/sqlkit"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// The multi-instance tests run the production scheduler (package
// defaults/scheduler) in three instances of one backend that share one
// database, with real connections: a Clone test database on every engine.
//
// They read the scheduler's table, greenroom_scheduler_tasks, to learn
// each run's planned start and when it was claimed, both on the
// database's clock (the one the instances coordinate with): that makes
// "exactly once per period" an exact check instead of a timing guess.

const (
	instances  = 3
	tickPeriod = 250 * time.Millisecond
	tickRuns   = 8
)

// dbNow is the database's clock in milliseconds since the epoch, as the
// scheduler reads it.
func dbNow(ctx context.Context, db *sql.DB, d core.Dialect) (int64, error) {
	q := map[core.Dialect]string{
		core.DialectSQLite:   "SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
		core.DialectPostgres: "SELECT (FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000))::BIGINT",
		core.DialectMySQL:    "SELECT (TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)",
	}[d]
	var now int64
	err := db.QueryRowContext(ctx, q).Scan(&now)
	return now, err
}

// run is one run of a task, as the task itself saw it.
type run struct {
	owner   string // the instance that claimed it (run_owner)
	planned int64  // next_run_at while it ran: the start it was planned for
	claimed int64  // run_started_at: when the claim succeeded
	ended   int64  // the database's clock when the function returned
}

// readRun reads the row of the running task: what the scheduler wrote
// when this instance claimed it.
func readRun(ctx context.Context, db core.Database, pluginID, taskID string) (run, error) {
	sqlDB, err := db.DB(ctx)
	if err != nil {
		return run{}, err
	}
	var r run
	var owner sql.NullString
	var planned, claimed sql.NullInt64
	err = sqlDB.QueryRowContext(ctx, sqlkit.Rebind(db.Dialect(),
		"SELECT run_owner, next_run_at, run_started_at FROM greenroom_scheduler_tasks WHERE plugin_id = ? AND id = ?"),
		pluginID, taskID).Scan(&owner, &planned, &claimed)
	if err != nil {
		return run{}, fmt.Errorf("read the row of task %s: %w", taskID, err)
	}
	r.owner, r.planned, r.claimed = owner.String, planned.Int64, claimed.Int64
	return r, nil
}

// recorder collects the runs of the instances' tasks.
type recorder struct {
	mu      sync.Mutex
	runs    []run
	starts  chan run
	blocked atomic.Bool // the first run of "long", on any instance, blocks
}

func newRecorder() *recorder { return &recorder{starts: make(chan run, 64)} }

func (rec *recorder) add(r run) {
	rec.mu.Lock()
	rec.runs = append(rec.runs, r)
	rec.mu.Unlock()
}

func (rec *recorder) snapshot() []run {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]run(nil), rec.runs...)
}

// jobsDeps are what the jobs test plugin needs.
type jobsDeps struct {
	Scheduler core.Scheduler
	Database  core.Database
}

// jobsPlugin schedules the global task "tick" every tickPeriod, which
// records each run in rec, and the task "long", hourly with a timeout of an
// hour, whose first run blocks until its context is cancelled.
func jobsPlugin(tick, long *recorder) *backend.Plugin {
	return backend.NewPlugin("jobs", backend.Init(func(ctx context.Context, d jobsDeps) error {
		sqlDB, err := d.Database.DB(ctx)
		if err != nil {
			return err
		}
		record := func(ctx context.Context, rec *recorder, id string, work func(ctx context.Context) error) error {
			r, err := readRun(ctx, d.Database, "jobs", id)
			if err != nil {
				return err
			}
			select {
			case rec.starts <- r:
			default:
			}
			werr := work(ctx)
			// The end is read on the database's clock, which the
			// release that follows also reads: ended <= release time.
			if r.ended, err = dbNow(context.WithoutCancel(ctx), sqlDB, d.Database.Dialect()); err != nil {
				return err
			}
			rec.add(r)
			return werr
		}
		if err := d.Scheduler.ScheduleTask(ctx, core.Task{
			ID:        "tick",
			Frequency: core.Every(tickPeriod),
			Timeout:   time.Minute,
			Fn: func(ctx context.Context) error {
				return record(ctx, tick, "tick", func(context.Context) error { return nil })
			},
		}); err != nil {
			return err
		}
		return d.Scheduler.ScheduleTask(ctx, core.Task{
			ID:        "long",
			Frequency: core.Every(time.Hour),
			Timeout:   time.Hour,
			Fn: func(ctx context.Context) error {
				return record(ctx, long, "long", func(ctx context.Context) error {
					if !long.blocked.CompareAndSwap(false, true) {
						return nil
					}
					<-ctx.Done()
					return context.Cause(ctx)
				})
			},
		})
	}))
}

// ownerOf returns the index of the instance whose jobs scheduler has the
// instance id owner.
func ownerOf(t *testing.T, tbs []*testbackend.Backend, owner string) int {
	t.Helper()
	for i, tb := range tbs {
		s, ok := testbackend.Service(t, tb, core.SchedulerRef, "jobs").(*scheduler.Scheduler)
		if !ok {
			t.Fatalf("instance %d: the jobs plugin's scheduler is not the production one", i)
		}
		if s.InstanceID() == owner {
			return i
		}
	}
	t.Fatalf("no instance has the scheduler instance id %q", owner)
	return -1
}

// waitStart waits for the next run of a task to start.
func waitStart(t *testing.T, rec *recorder, what string) run {
	t.Helper()
	select {
	case r := <-rec.starts:
		return r
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no run started within 30s", what)
		return run{}
	}
}

// TestGlobalTaskRunsOnceAcrossInstances runs three instances of a backend
// with the todo plugin and a jobs plugin on one database, on every engine,
// with the production scheduler:
//   - the global task "tick" runs exactly once per period: the periods its
//     runs were planned for follow each other by exactly one period, or,
//     when a run ended late, by the time of its end (no catch-up burst);
//     no two runs share a period, none overlaps another;
//   - when the instance running the task "long" is stopped mid-run, the
//     run is handed over: another instance runs the same planned period at
//     once. Its timeout and period are an hour, so only the hand-over can
//     explain the second run;
//   - todo's purge task is scheduled once in the shared table and runs on
//     one of the instances.
func TestGlobalTaskRunsOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	testdatabases.New(t).With(testdatabases.Clone).Each(t, func(t *testing.T, db *testdatabases.DB) {
		t.Parallel()
		tick, long := newRecorder(), newRecorder()
		tbs := testbackend.New(
			testbackend.WithDatabase(db),
			testbackend.WithConfig(map[string]any{
				// A lease well above a stall of a loaded -race run: a
				// run that cannot renew for two thirds of its lease is
				// given up, and another instance may then claim it while
				// the first still runs (seen with a 1s lease at load 16).
				// Stop releases a lease, so the hand-over does not wait.
				"backend.scheduler.leaseDuration": "5s",
				"backend.scheduler.pollInterval":  "100ms",
				"todo.purge.frequency":            "100ms",
			}),
		).StartInstances(t, instances, todo.Plugin, jobsPlugin(tick, long), scheduler.Factory(),
			// One cache for every instance, as a shared Redis cache is in
			// production (backend.cache.store: redis): with a cache of its
			// own, an instance would serve a todo purged through another
			// until todo.cache.ttl passed.
			mockservices.CacheFactory(mockservices.Cache()))

		t.Run("once per period", func(t *testing.T) {
			for len(tick.snapshot()) < tickRuns {
				waitStart(t, tick, "tick")
			}
			runs := tick.snapshot()
			period := tickPeriod.Milliseconds()
			owners := map[string]bool{}
			for k, r := range runs {
				owners[r.owner] = true
				if r.claimed < r.planned {
					t.Errorf("run %d claimed at %d, before its planned start %d", k, r.claimed, r.planned)
				}
				if k == 0 {
					continue
				}
				prev := runs[k-1]
				gap := r.planned - prev.planned
				switch {
				case gap < period:
					t.Errorf("runs %d and %d were planned %d ms apart, less than the period (%d ms): two runs in one period", k-1, k, gap, period)
				case gap > period && r.planned < prev.ended:
					t.Errorf("run %d was planned %d ms after run %d, more than the period, though run %d ended at %d, before %d: a period was lost", k, gap, k-1, k-1, prev.ended, r.planned)
				}
				if r.claimed < prev.ended {
					t.Errorf("run %d (instance %s) was claimed at %d, before run %d (instance %s) ended at %d: the runs overlap", k, r.owner, r.claimed, k-1, prev.owner, prev.ended)
				}
			}
			t.Logf("%d runs of tick by %d of %d instances", len(runs), len(owners), instances)
		})

		stopped := -1
		t.Run("hand-over when the running instance stops", func(t *testing.T) {
			first := waitStart(t, long, "long")
			i := ownerOf(t, tbs, first.owner)
			stopped = i
			tbs[i].Stop(t)
			second := waitStart(t, long, "long after the stop")
			if second.owner == first.owner {
				t.Fatalf("the run after the stop was on the stopped instance %s", second.owner)
			}
			if second.planned != first.planned {
				t.Errorf("the interrupted run was planned for %d, the next for %d: the interrupted period was skipped", first.planned, second.planned)
			}
			runs := long.snapshot()
			if len(runs) < 1 || runs[0].owner != first.owner {
				t.Fatalf("the interrupted run was not recorded: %+v", runs)
			}
			t.Logf("instance %d ran long and was stopped; instance %d took the same period over", i, ownerOf(t, tbs, second.owner))
		})

		t.Run("todo purge runs on the shared table", func(t *testing.T) {
			live := tbs[(stopped+1)%len(tbs)] // instances still running
			other := tbs[(stopped+2)%len(tbs)]
			// A todo completed 31 days ago, created through one instance,
			// is purged by whichever instance runs the task, and is gone
			// when read through another.
			var old todo.Todo
			live.Post("/api/todo/todos", map[string]any{"title": "long done", "done": true}).AsUser(alice).Do(t).
				ExpectStatus(t, http.StatusCreated).DecodeJSON(t, &old)
			if _, err := db.Exec(sqlkit.Rebind(db.Dialect, "UPDATE todos SET completed_at = ? WHERE id = ?"),
				time.Now().Add(-31*24*time.Hour).UTC(), old.ID); err != nil {
				t.Fatal(err)
			}
			var fresh todo.Todo
			live.Post("/api/todo/todos", map[string]any{"title": "just done", "done": true}).AsUser(alice).Do(t).
				ExpectStatus(t, http.StatusCreated).DecodeJSON(t, &fresh)
			path := fmt.Sprintf("/api/todo/todos/%d", old.ID)
			for deadline := time.Now().Add(30 * time.Second); other.Get(path).AsUser(alice).Do(t).StatusCode != http.StatusNotFound; {
				if time.Now().After(deadline) {
					t.Fatal("the todo completed 31 days ago was not purged within 30s")
				}
				time.Sleep(20 * time.Millisecond)
			}
			other.Get(fmt.Sprintf("/api/todo/todos/%d", fresh.ID)).AsUser(alice).Do(t).ExpectStatus(t, http.StatusOK)
			deadline := time.Now().Add(30 * time.Second)
			for {
				states, err := testbackend.Service(t, live, core.SchedulerRef, "todo").Tasks(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(states) != 1 || states[0].ID != todo.PurgeTaskID {
					t.Fatalf("todo's tasks: %+v, want only %s", states, todo.PurgeTaskID)
				}
				if !states[0].LastRunEndedAt.IsZero() {
					if states[0].LastError != "" {
						t.Errorf("the purge failed: %s", states[0].LastError)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("todo's purge did not run within 30s")
				}
				time.Sleep(20 * time.Millisecond)
			}
			var rows int
			if err := db.QueryRow(sqlkit.Rebind(db.Dialect, "SELECT COUNT(*) FROM greenroom_scheduler_tasks WHERE plugin_id = ?"), "todo").Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if rows != 1 {
				t.Errorf("todo has %d rows in greenroom_scheduler_tasks, want 1 for 3 instances", rows)
			}
		})
	})
}
