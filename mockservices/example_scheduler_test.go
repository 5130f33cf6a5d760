package mockservices_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// reportPlugin schedules a daily task "report" and triggers it on
// POST /api/reports/run.
var reportPlugin = backend.NewPlugin("reports", backend.Init(func(ctx context.Context, d struct {
	Scheduler core.Scheduler
	Router    core.HTTPRouter
}) error {
	d.Router.HandleFunc("POST /run", func(w http.ResponseWriter, r *http.Request) {
		if err := d.Scheduler.TriggerTask(r.Context(), "report"); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	return d.Scheduler.ScheduleTask(ctx, core.Task{
		ID:        "report",
		Frequency: core.Cron("0 6 * * *"),
		Timeout:   time.Minute,
		Fn:        func(ctx context.Context) error { return nil },
	})
}))

func ExampleScheduler() {
	ctx := context.Background()
	s := mockservices.Scheduler()
	fmt.Println(s.Now())

	plugin := s.ForPlugin("todo") // the core.Scheduler the plugin sees
	_ = plugin.ScheduleTask(ctx, core.Task{
		ID:        "purge",
		Frequency: core.Every(time.Hour),
		Timeout:   time.Minute,
		Fn:        func(ctx context.Context) error { fmt.Println("purging"); return nil },
	})
	runs := s.RunDue(ctx) // due at once: no initial delay
	fmt.Println(runs[0])
	// Output:
	// 2026-01-01 00:00:00 +0000 UTC
	// purging
	// todo/purge run 1 at 2026-01-01T00:00:00Z: ok
}

func ExampleWithSchedulerStart() {
	s := mockservices.Scheduler(mockservices.WithSchedulerStart(time.Date(2030, 2, 28, 23, 0, 0, 0, time.UTC)))
	fmt.Println(s.Now())
	// Output: 2030-02-28 23:00:00 +0000 UTC
}

func ExampleSchedulerFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()
	ctx := context.Background()

	s := mockservices.Scheduler()
	tb := testbackend.Start(t, reportPlugin, mockservices.SchedulerFactory(s))

	tasks, _ := testbackend.Service(t, tb, core.SchedulerRef, "reports").Tasks(ctx)
	fmt.Println(tasks[0].ID, tasks[0].NextRunAt)
	// Output: report 2026-01-01 06:00:00 +0000 UTC
}

func ExampleSchedulerService_Run() {
	ctx := context.Background()
	s := mockservices.Scheduler()
	_ = s.ForPlugin("todo").ScheduleTask(ctx, core.Task{
		ID:        "purge",
		Frequency: core.Manual(),
		Timeout:   time.Minute,
		Fn:        func(ctx context.Context) error { return errors.New("database is down") },
	})

	run, err := s.Run(ctx, "todo", "purge")
	fmt.Println(run.N, err)
	_, err = s.Run(ctx, "todo", "nope")
	fmt.Println(err)
	// Output:
	// 1 database is down
	// NotFoundError: Plugin 'todo' has no scheduled task 'nope'; schedule it with ScheduleTask before running it
}

func ExampleSchedulerService_RunDue() {
	ctx := context.Background()
	s := mockservices.Scheduler()
	for _, id := range []string{"now", "later"} {
		delay := map[string]time.Duration{"later": time.Minute}[id]
		_ = s.ForPlugin("todo").ScheduleTask(ctx, core.Task{
			ID: id, Frequency: core.Every(time.Hour), InitialDelay: delay, Timeout: time.Minute,
			Fn: func(ctx context.Context) error { return nil },
		})
	}
	for _, run := range s.RunDue(ctx) {
		fmt.Println(run)
	}
	// Output: todo/now run 1 at 2026-01-01T00:00:00Z: ok
}

func ExampleSchedulerService_Advance() {
	ctx := context.Background()
	s := mockservices.Scheduler()
	_ = s.ForPlugin("todo").ScheduleTask(ctx, core.Task{
		ID: "purge", Frequency: core.Every(time.Hour), InitialDelay: 10 * time.Minute, Timeout: time.Minute,
		Fn: func(ctx context.Context) error { return nil },
	})

	fmt.Println(len(s.Advance(ctx, 5*time.Minute)))
	fmt.Println(s.Advance(ctx, 5*time.Minute))
	// A day later: one run, not one per hour missed.
	fmt.Println(s.Advance(ctx, 24*time.Hour))
	// Output:
	// 0
	// [todo/purge run 1 at 2026-01-01T00:10:00Z: ok]
	// [todo/purge run 2 at 2026-01-02T00:10:00Z: ok]
}

func ExampleSchedulerService_WaitForRun() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()
	ctx := context.Background()

	s := mockservices.Scheduler()
	tb := testbackend.Start(t, reportPlugin, mockservices.SchedulerFactory(s))
	// The handler triggers the task, which runs in the background.
	tb.Post("/api/reports/run", nil).AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusAccepted)

	run, err := s.WaitForRun(ctx, "reports", "report")
	fmt.Println(run, err)
	// Output: reports/report run 1 at 2026-01-01T00:00:00Z: ok <nil>
}

func ExampleSchedulerService_Runs() {
	ctx := context.Background()
	s := mockservices.Scheduler()
	_ = s.ForPlugin("todo").ScheduleTask(ctx, core.Task{
		ID: "purge", Frequency: core.Every(time.Hour), Timeout: time.Minute,
		Fn: func(ctx context.Context) error { return nil },
	})
	s.Advance(ctx, 0)
	s.Advance(ctx, time.Hour)
	for _, run := range s.Runs("todo", "purge") {
		fmt.Println(run.N, run.StartedAt.Format(time.Kitchen))
	}
	// Output:
	// 1 12:00AM
	// 2 1:00AM
}

func ExampleSchedulerService_ForPlugin() {
	ctx := context.Background()
	s := mockservices.Scheduler()
	// Code under test takes a core.Scheduler.
	var sched core.Scheduler = s.ForPlugin("todo")
	err := sched.ScheduleTask(ctx, core.Task{ID: "purge", Frequency: core.Every(time.Hour)})
	fmt.Println(err)
	// Output: InputError: Plugin 'todo' cannot schedule task 'purge': Fn is nil; set the function that does the work
}

func ExampleSchedulerService_Stop() {
	ctx := context.Background()
	s := mockservices.Scheduler()
	plugin := s.ForPlugin("todo")
	_ = plugin.ScheduleTask(ctx, core.Task{
		ID: "purge", Frequency: core.Manual(), Timeout: time.Hour,
		Fn: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
	})
	_ = plugin.TriggerTask(ctx, "purge")
	fmt.Println(s.Stop(ctx)) // cancels the run and waits for it
	fmt.Println(s.Runs("todo", "purge")[0].Err)
	// Output:
	// <nil>
	// context canceled
}

func ExampleSchedulerService_Now() {
	ctx := context.Background()
	s := mockservices.Scheduler()
	s.Advance(ctx, 90*time.Minute)
	fmt.Println(s.Now().Format(time.RFC3339))
	// Output: 2026-01-01T01:30:00Z
}

func ExampleTaskRun_String() {
	run := mockservices.TaskRun{PluginID: "todo", TaskID: "purge", N: 3, StartedAt: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC), Err: errors.New("disk full")}
	fmt.Println(run)
	// Output: todo/purge run 3 at 2026-01-01T02:00:00Z: error: disk full
}
