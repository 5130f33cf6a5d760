package todo_test

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/sqlkit"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// purgeEnv is a test backend running the todo plugin on one engine's
// database, with a scheduler fake the test drives.
type purgeEnv struct {
	tb        *testbackend.Backend
	db        *testdatabases.DB
	scheduler *mockservices.SchedulerService
}

// eachDatabaseWithScheduler is eachDatabase with a scheduler fake and the
// test's database at hand.
func eachDatabaseWithScheduler(t *testing.T, setup *testbackend.Setup, fn func(t *testing.T, env purgeEnv)) {
	testdatabases.New(t, testdatabases.WithMigrator(todo.Migrations)).Each(t, func(t *testing.T, db *testdatabases.DB) {
		t.Parallel()
		s := mockservices.Scheduler()
		tb := setup.Start(t, todo.Plugin, mockservices.DatabaseFactory(t, mockservices.FromTestDatabase(db)), mockservices.SchedulerFactory(s))
		fn(t, purgeEnv{tb: tb, db: db, scheduler: s})
	})
}

// exec runs a statement with ? placeholders on the test's database.
func (e purgeEnv) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := e.db.ExecContext(context.Background(), sqlkit.Rebind(core.Dialect(e.db.Dialect), query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// completedAt returns the completed_at of each todo by title; a title
// maps to false when its completed_at is NULL.
func (e purgeEnv) completedAt(t *testing.T) map[string]bool {
	t.Helper()
	rows, err := e.db.QueryContext(context.Background(), "SELECT title, completed_at FROM todos")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var title string
		var at sql.NullTime
		if err := rows.Scan(&title, &at); err != nil {
			t.Fatal(err)
		}
		got[title] = at.Valid
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// create creates a todo as user and returns its id.
func (e purgeEnv) create(t *testing.T, user, title string, done bool) int64 {
	t.Helper()
	var created todo.Todo
	e.tb.Post("/api/todo/todos", map[string]any{"title": title, "done": done}).AsUser(user).Do(t).
		ExpectStatus(t, http.StatusCreated).DecodeJSON(t, &created)
	return created.ID
}

func (e purgeEnv) setDone(t *testing.T, id int64, done bool) {
	t.Helper()
	e.tb.Patch("/api/todo/todos/"+itoa(id), map[string]any{"done": done}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusOK)
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestPurgeCompleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachDatabaseWithScheduler(t, testbackend.New(), func(t *testing.T, env purgeEnv) {
		// The default age is 720h (30 days); times are on the real clock,
		// which the plugin's store reads, with days of margin.
		old := time.Now().UTC().Add(-800 * time.Hour)
		recent := time.Now().UTC().Add(-700 * time.Hour)

		oldDone := env.create(t, alice, "old done", true)
		bobsOld := env.create(t, bob, "bob's old done", true)
		recentDone := env.create(t, alice, "recent done", true)
		env.create(t, alice, "open", false)
		reopened := env.create(t, alice, "reopened", true)
		redone := env.create(t, alice, "done again", true)
		doneByPatch := env.create(t, alice, "done by patch", false)
		for _, id := range []int64{oldDone, bobsOld, reopened, redone} {
			env.exec(t, "UPDATE todos SET completed_at = ? WHERE id = ?", old, id)
		}
		env.exec(t, "UPDATE todos SET completed_at = ? WHERE id = ?", recent, recentDone)
		env.setDone(t, reopened, false)   // clears completed_at
		env.setDone(t, redone, false)     // clears it...
		env.setDone(t, redone, true)      // ...and sets it to now
		env.setDone(t, doneByPatch, true) // sets it to now
		// Marking a done todo done again keeps its completion time.
		env.setDone(t, oldDone, true)

		want := map[string]bool{"old done": true, "bob's old done": true, "recent done": true, "open": false, "reopened": false, "done again": true, "done by patch": true}
		if diff := cmp.Diff(want, env.completedAt(t)); diff != "" {
			t.Errorf("completed_at set (-want +got):\n%s", diff)
		}

		run, err := env.scheduler.Run(ctx, todo.PluginID, todo.PurgeTaskID)
		if err != nil {
			t.Fatalf("the purge failed: %v", err)
		}
		delete(want, "old done")
		delete(want, "bob's old done")
		if diff := cmp.Diff(want, env.completedAt(t)); diff != "" {
			t.Errorf("todos left by the purge (-want +got):\n%s", diff)
		}
		log := testbackend.Service(t, env.tb, core.RootLoggerRef, "").(*mockservices.LoggerService)
		if !log.Contains("purged completed todos", "plugin", "todo", "count", 2) {
			t.Errorf("no record of the two todos purged; records:\n%v", log.Records())
		}
		// The API agrees.
		env.tb.Get("/api/todo/todos/"+itoa(oldDone)).AsUser(alice).Do(t).ExpectStatus(t, http.StatusNotFound)
		env.tb.Get("/api/todo/todos/"+itoa(recentDone)).AsUser(alice).Do(t).ExpectStatus(t, http.StatusOK)

		// The next run, an hour later, finds nothing to purge.
		runs := env.scheduler.Advance(ctx, time.Hour)
		if len(runs) != 1 || runs[0].Err != nil || runs[0].N != run.N+1 {
			t.Errorf("an hour later, Advance ran %v; want the purge once more", runs)
		}
		if !log.Contains("purged completed todos", "plugin", "todo", "count", 0) {
			t.Errorf("no record of the second purge; records:\n%v", log.Records())
		}
	})
}

func TestPurgeSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		config map[string]any
		want   core.TaskState
	}{
		{"defaults", nil, core.TaskState{Frequency: core.Every(time.Hour), Timeout: time.Minute}},
		{"configured", map[string]any{"todo.purge": map[string]any{"frequency": "15m", "timeout": 30, "completedOlderThan": "24h"}},
			core.TaskState{Frequency: core.Every(15 * time.Minute), Timeout: 30 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mockservices.Scheduler()
			testbackend.New(testbackend.WithConfig(tt.config)).Start(t, todo.Plugin, mockservices.SchedulerFactory(s))
			tasks, err := s.ForPlugin(todo.PluginID).Tasks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.ID, want.Scope, want.NextRunAt = todo.PurgeTaskID, core.ScopeGlobal, s.Now()
			if diff := cmp.Diff([]core.TaskState{want}, tasks, cmp.AllowUnexported(core.Frequency{})); diff != "" {
				t.Errorf("Tasks() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPurgeAge checks that todo.purge.completedOlderThan sets the age.
func TestPurgeAge(t *testing.T) {
	t.Parallel()
	s := mockservices.Scheduler()
	tb := testbackend.New(testbackend.WithConfig(map[string]any{"todo.purge.completedOlderThan": "1h"}), testbackend.WithDefaultUser(alice)).
		Start(t, todo.Plugin, mockservices.SchedulerFactory(s))
	tb.Post("/api/todo/todos", map[string]any{"title": "done", "done": true}).Do(t).ExpectStatus(t, http.StatusCreated)
	if _, err := s.Run(context.Background(), todo.PluginID, todo.PurgeTaskID); err != nil {
		t.Fatal(err)
	}
	// Completed just now: not an hour ago.
	tb.Get("/api/todo/todos/1").Do(t).ExpectStatus(t, http.StatusOK)
}

func TestPurgeDatabaseFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachDatabaseWithScheduler(t, testbackend.New(), func(t *testing.T, env purgeEnv) {
		if err := env.db.Close(); err != nil {
			t.Fatal(err)
		}
		run, err := env.scheduler.Run(ctx, todo.PluginID, todo.PurgeTaskID)
		if err == nil || run.Err != err || !strings.Contains(err.Error(), "purge the todos completed before") {
			t.Fatalf("Run() with the database closed = %v, %v; want the purge's error", run, err)
		}
		tasks, _ := env.scheduler.ForPlugin(todo.PluginID).Tasks(ctx)
		if len(tasks) != 1 || tasks[0].LastError != err.Error() {
			t.Errorf("Tasks() = %+v, want the error recorded as the last error", tasks)
		}
		log := testbackend.Service(t, env.tb, core.RootLoggerRef, "").(*mockservices.LoggerService)
		if !log.Contains("Scheduled task failed", "plugin", "todo", "task", todo.PurgeTaskID) {
			t.Errorf("the failed run was not logged; records:\n%v", log.Records())
		}
	})
}

func TestPurgeConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key   string
		value any
		want  string
	}{
		{"todo.purge.completedOlderThan", "a month", `config key "todo.purge.completedOlderThan": expected a duration`},
		{"todo.purge.frequency", "-1h", `config key "todo.purge.frequency": expected a positive duration such as "1h", got -1h0m0s; remove the key for the default (1h0m0s)`},
		{"todo.purge.timeout", 0, `config key "todo.purge.timeout": expected a positive duration`},
		{"todo.purge.timeout", true, `config key "todo.purge.timeout": expected a duration`},
		{"todo.purge", "often", `config key "todo.purge"`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			_, err := testbackend.New(testbackend.WithConfig(map[string]any{tt.key: tt.value})).TryStart(t, todo.Plugin)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "todo") {
				t.Errorf("TryStart() with %s=%v = %v, want an error containing %q", tt.key, tt.value, err, tt.want)
			}
		})
	}
}
