package mockservices_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ok(context.Context) error { return nil }

// schedule schedules a task for the plugin "todo" of s and returns the
// plugin's scheduler.
func schedule(t *testing.T, s *mockservices.SchedulerService, task core.Task) core.Scheduler {
	t.Helper()
	v := s.ForPlugin("todo")
	if task.Timeout == 0 {
		task.Timeout = time.Minute
	}
	if task.Fn == nil {
		task.Fn = ok
	}
	if err := v.ScheduleTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	return v
}

// state returns the state of the plugin's only task.
func state(t *testing.T, v core.Scheduler) core.TaskState {
	t.Helper()
	states, err := v.Tasks(context.Background())
	if err != nil || len(states) != 1 {
		t.Fatalf("Tasks() = %v, %v; want one task", states, err)
	}
	return states[0]
}

// runTimes returns when each run started.
func runTimes(runs []mockservices.TaskRun) []time.Time {
	ts := []time.Time{}
	for _, r := range runs {
		ts = append(ts, r.StartedAt)
	}
	return ts
}

func TestSchedulerValidation(t *testing.T) {
	t.Parallel()
	valid := core.Task{ID: "purge", Fn: ok, Frequency: core.Every(time.Hour), Timeout: time.Minute}
	tests := []struct {
		name   string
		change func(*core.Task)
		want   string
	}{
		{"empty id", func(c *core.Task) { c.ID = "" }, "the ID is empty"},
		{"long id", func(c *core.Task) { c.ID = strings.Repeat("x", 256) }, "256 bytes"},
		{"nil fn", func(c *core.Task) { c.Fn = nil }, "Fn is nil"},
		{"no frequency", func(c *core.Task) { c.Frequency = core.Frequency{} }, "the frequency is not set"},
		{"negative interval", func(c *core.Task) { c.Frequency = core.Every(-time.Second) }, "the interval -1s is not positive"},
		// As production: an interval under 1ms is refused, not run in a loop.
		{"sub-millisecond interval", func(c *core.Task) { c.Frequency = core.Every(500 * time.Microsecond) }, "shorter than a millisecond; use at least 1ms"},
		{"bad cron", func(c *core.Task) { c.Frequency = core.Cron("61 * * * *") }, `the cron expression "61 * * * *" cannot be parsed`},
		{"zero timeout", func(c *core.Task) { c.Timeout = 0 }, "the timeout 0s is not positive"},
		{"negative delay", func(c *core.Task) { c.InitialDelay = -time.Second }, "the initial delay -1s is negative"},
		{"bad scope", func(c *core.Task) { c.Scope = "cluster" }, `the scope "cluster" is unknown`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			task := valid
			tt.change(&task)
			err := mockservices.Scheduler().ForPlugin("todo").ScheduleTask(context.Background(), task)
			if !errs.Is(err, errs.Input) || !strings.Contains(err.Error(), "Plugin 'todo' cannot schedule task '"+task.ID+"'") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ScheduleTask() = %v, want an Input error naming the plugin and the task and containing %q", err, tt.want)
			}
		})
	}
	t.Run("valid forms", func(t *testing.T) {
		t.Parallel()
		v := mockservices.Scheduler().ForPlugin("todo")
		for i, f := range []core.Frequency{core.Every(time.Second), core.Cron("0 3 * * *"), core.Cron("30 0 3 * * *"), core.Cron("@hourly"), core.Cron("CRON_TZ=Europe/Paris 0 3 * * *"), core.Manual()} {
			task := valid
			task.ID = fmt.Sprint("t", i)
			task.Frequency = f
			task.Scope = []core.TaskScope{"", core.ScopeGlobal, core.ScopeLocal}[i%3]
			if err := v.ScheduleTask(context.Background(), task); err != nil {
				t.Errorf("ScheduleTask(%#v) = %v", f, err)
			}
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		t.Parallel()
		s := mockservices.Scheduler()
		v := schedule(t, s, valid)
		err := v.ScheduleTask(context.Background(), valid)
		if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "Plugin 'todo' already scheduled a task 'purge'") {
			t.Errorf("second ScheduleTask() = %v, want a Conflict naming the plugin and the task", err)
		}
		// Another plugin may use the ID.
		if err := s.ForPlugin("catalog").ScheduleTask(context.Background(), valid); err != nil {
			t.Errorf("ScheduleTask() for another plugin = %v", err)
		}
	})
}

func TestSchedulerUnknownTask(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler()
	v := schedule(t, s, core.Task{ID: "purge", Frequency: core.Manual()})
	const want = "Plugin 'todo' has no scheduled task 'nope'"
	_, runErr := s.Run(ctx, "todo", "nope")
	_, waitErr := s.WaitForRun(ctx, "todo", "nope")
	_, otherPluginErr := s.Run(ctx, "catalog", "purge")
	for name, err := range map[string]error{
		"TriggerTask": v.TriggerTask(ctx, "nope"),
		"Run":         runErr,
		"WaitForRun":  waitErr,
	} {
		if !errs.Is(err, errs.NotFound) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s(nope) = %v, want a NotFound error containing %q", name, err, want)
		}
	}
	if !errs.Is(otherPluginErr, errs.NotFound) {
		t.Errorf("Run(catalog, purge) = %v, want NotFound: tasks belong to their plugin", otherPluginErr)
	}
	if runs := s.Runs("todo", "nope"); runs != nil {
		t.Errorf("Runs(nope) = %v, want none", runs)
	}
}

func TestSchedulerRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler()
	fail := errors.New("database is down")
	calls := 0
	v := schedule(t, s, core.Task{ID: "purge", Frequency: core.Every(time.Hour), InitialDelay: time.Minute, Fn: func(ctx context.Context) error {
		calls++
		if calls == 2 {
			return fail
		}
		return nil
	}})
	run, err := s.Run(ctx, "todo", "purge")
	want := mockservices.TaskRun{PluginID: "todo", TaskID: "purge", N: 1, StartedAt: start, EndedAt: start}
	if diff := cmp.Diff(want, run); err != nil || diff != "" {
		t.Errorf("Run() = _, %v; run (-want +got):\n%s", err, diff)
	}
	// A run plans the next one an interval after it, as a trigger does.
	if st := state(t, v); !st.NextRunAt.Equal(start.Add(time.Hour)) || !st.LastRunStartedAt.Equal(start) || st.LastError != "" || st.Running {
		t.Errorf("after a run, state %+v; want next run at %v", st, start.Add(time.Hour))
	}
	run, err = s.Run(ctx, "todo", "purge")
	if !errors.Is(err, fail) || !errors.Is(run.Err, fail) || run.N != 2 {
		t.Errorf("Run() = %v, %v; want run 2 failing with %v", run, err, fail)
	}
	if st := state(t, v); st.LastError != fail.Error() {
		t.Errorf("LastError = %q, want %q", st.LastError, fail)
	}
	if got := s.Runs("todo", "purge"); len(got) != 2 || got[1].Err != fail {
		t.Errorf("Runs() = %v, want the two runs", got)
	}
}

func TestSchedulerRunContext(t *testing.T) {
	t.Parallel()
	s := mockservices.Scheduler()
	var deadline time.Time
	var cancelled error
	schedule(t, s, core.Task{ID: "purge", Frequency: core.Manual(), Timeout: time.Hour, Fn: func(ctx context.Context) error {
		deadline, _ = ctx.Deadline()
		cancelled = ctx.Err()
		return ctx.Err()
	}})
	before := time.Now()
	if _, err := s.Run(context.Background(), "todo", "purge"); err != nil {
		t.Fatal(err)
	}
	// The timeout is on the real clock: the run's deadline is an hour away.
	if deadline.Before(before.Add(time.Hour)) || cancelled != nil {
		t.Errorf("run context: deadline %v, err %v; want a deadline an hour after %v, not cancelled", deadline, cancelled, before)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Run(ctx, "todo", "purge"); !errors.Is(err, context.Canceled) {
		t.Errorf("Run(cancelled ctx) = %v, want the function to see the context cancelled", err)
	}
}

func TestSchedulerInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler()
	v := schedule(t, s, core.Task{ID: "purge", Frequency: core.Every(time.Hour), InitialDelay: 10 * time.Minute})
	if st := state(t, v); !st.NextRunAt.Equal(start.Add(10*time.Minute)) || st.Scope != core.ScopeGlobal {
		t.Errorf("state %+v, want the first run due after the initial delay, scope global", st)
	}
	steps := []struct {
		advance  time.Duration
		wantRuns int
		wantNext time.Duration // after start
	}{
		{0, 0, 10 * time.Minute},
		{9 * time.Minute, 0, 10 * time.Minute},
		{time.Minute, 1, 70 * time.Minute},
		{59 * time.Minute, 0, 70 * time.Minute},
		{time.Minute, 1, 130 * time.Minute},
		// Five periods late: one run, due again at once (the later of the
		// planned start plus the interval and now), then back to hourly.
		{5 * time.Hour, 1, 6*time.Hour + 10*time.Minute},
		{0, 1, 7*time.Hour + 10*time.Minute},
		{0, 0, 7*time.Hour + 10*time.Minute},
	}
	for i, st := range steps {
		runs := s.Advance(ctx, st.advance)
		if len(runs) != st.wantRuns {
			t.Errorf("step %d: Advance(%v) ran %v, want %d runs", i, st.advance, runs, st.wantRuns)
		}
		if got := state(t, v).NextRunAt; !got.Equal(start.Add(st.wantNext)) {
			t.Errorf("step %d: next run at %v, want %v", i, got, start.Add(st.wantNext))
		}
	}
	if got := s.Now(); !got.Equal(start.Add(6*time.Hour + 10*time.Minute)) {
		t.Errorf("Now() = %v", got)
	}
}

func TestSchedulerCron(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		expr  string
		delay time.Duration
		want  []string // the first runs
	}{
		{"0 3 * * *", 0, []string{"2026-01-01T03:00:00Z", "2026-01-02T03:00:00Z", "2026-01-03T03:00:00Z"}},
		{"30 0 3 * * *", 0, []string{"2026-01-01T03:00:30Z", "2026-01-02T03:00:30Z"}},
		{"@hourly", 90 * time.Minute, []string{"2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"}},
		{"CRON_TZ=Europe/Paris 0 3 * * *", 0, []string{"2026-01-01T02:00:00Z", "2026-01-02T02:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			s := mockservices.Scheduler()
			schedule(t, s, core.Task{ID: "purge", Frequency: core.Cron(tt.expr), InitialDelay: tt.delay})
			var got []string
			for len(got) < len(tt.want) {
				for _, r := range s.Advance(ctx, time.Second) {
					got = append(got, r.StartedAt.Format(time.RFC3339))
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSchedulerManual(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler(mockservices.WithSchedulerStart(time.Date(2030, 6, 1, 12, 0, 0, 0, time.FixedZone("X", 3600))))
	v := schedule(t, s, core.Task{ID: "reindex", Frequency: core.Manual()})
	if runs := s.Advance(ctx, 1000*time.Hour); len(runs) != 0 {
		t.Errorf("a manual task ran on its own: %v", runs)
	}
	if st := state(t, v); !st.NextRunAt.IsZero() {
		t.Errorf("NextRunAt = %v, want zero for a manual task", st.NextRunAt)
	}
	run, err := s.Run(ctx, "todo", "reindex")
	want := time.Date(2030, 6, 1, 11, 0, 0, 0, time.UTC).Add(1000 * time.Hour)
	if err != nil || !run.StartedAt.Equal(want) || run.StartedAt.Location() != time.UTC {
		t.Errorf("Run() = %v, %v; want a run at %v UTC", run, err, want)
	}
	if st := state(t, v); !st.NextRunAt.IsZero() {
		t.Errorf("after a run, NextRunAt = %v, want zero", st.NextRunAt)
	}
}

func TestSchedulerRunDueOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler()
	for _, p := range []string{"todo", "catalog"} {
		for _, task := range []core.Task{
			{ID: "b", Frequency: core.Every(time.Hour), InitialDelay: time.Minute},
			{ID: "a", Frequency: core.Every(time.Hour), InitialDelay: time.Minute},
			{ID: "early", Frequency: core.Every(time.Hour)},
			{ID: "later", Frequency: core.Every(time.Hour), InitialDelay: time.Hour},
		} {
			task.Fn, task.Timeout = ok, time.Minute
			if err := s.ForPlugin(p).ScheduleTask(ctx, task); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []string
	for _, r := range s.Advance(ctx, time.Minute) {
		got = append(got, r.PluginID+"/"+r.TaskID)
	}
	want := []string{"catalog/early", "todo/early", "catalog/a", "catalog/b", "todo/a", "todo/b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RunDue order (-want +got):\n%s", diff)
	}
	if runs := s.RunDue(ctx); len(runs) != 0 {
		t.Errorf("RunDue() after the runs = %v, want none", runs)
	}
}

// blocker is a task function that signals when it starts and returns when
// released (or its context is done), with the context's error.
type blocker struct {
	started, release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 10), release: make(chan struct{})}
}

func (b *blocker) fn(ctx context.Context) error {
	b.started <- struct{}{}
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestSchedulerTriggerAndWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler()
	b := newBlocker()
	v := schedule(t, s, core.Task{ID: "purge", Frequency: core.Every(time.Hour), Fn: b.fn})

	if err := v.TriggerTask(ctx, "purge"); err != nil {
		t.Fatal(err)
	}
	<-b.started
	// While it runs: a Conflict for another trigger or run, no next run,
	// and RunDue leaves it alone.
	err := v.TriggerTask(ctx, "purge")
	_, runErr := s.Run(ctx, "todo", "purge")
	for name, err := range map[string]error{"TriggerTask": err, "Run": runErr} {
		if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "Task 'purge' of plugin 'todo' is running") {
			t.Errorf("%s while running = %v, want a Conflict naming the task and the plugin", name, err)
		}
	}
	if st := state(t, v); !st.Running || !st.NextRunAt.IsZero() {
		t.Errorf("state while running %+v, want Running and no next run", st)
	}
	if runs := s.RunDue(ctx); len(runs) != 0 {
		t.Errorf("RunDue() while running = %v", runs)
	}
	close(b.release)
	run, err := s.WaitForRun(ctx, "todo", "purge")
	if err != nil || run.N != 1 || run.Err != nil {
		t.Fatalf("WaitForRun() = %v, %v; want run 1", run, err)
	}
	if st := state(t, v); st.Running || !st.NextRunAt.Equal(start.Add(time.Hour)) {
		t.Errorf("state after the run %+v", st)
	}

	// A run of Run is handed to the test by Run, not by WaitForRun.
	if _, err := s.Run(ctx, "todo", "purge"); err != nil {
		t.Fatal(err)
	}
	// Two triggered runs that finish before the test waits are both handed,
	// in order.
	for n := 3; n <= 4; n++ {
		if err := v.TriggerTask(ctx, "purge"); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, func() bool { return len(s.Runs("todo", "purge")) == n })
	}
	for want := 3; want <= 4; want++ {
		if run, err := s.WaitForRun(ctx, "todo", "purge"); err != nil || run.N != want {
			t.Errorf("WaitForRun() = %v, %v; want run %d", run, err, want)
		}
	}
	// Nothing left: WaitForRun waits until ctx is done.
	wctx, cancel := context.WithCancel(ctx)
	cancel()
	if run, err := s.WaitForRun(wctx, "todo", "purge"); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "task 'purge' of plugin 'todo'") {
		t.Errorf("WaitForRun() with nothing to hand = %v, %v; want the context's error", run, err)
	}
}

// waitUntil polls cond until it holds, failing the test after a while.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func TestSchedulerWaitForRunWakesUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler()
	b := newBlocker()
	v := schedule(t, s, core.Task{ID: "purge", Frequency: core.Manual(), Fn: b.fn})
	got := make(chan mockservices.TaskRun)
	go func() {
		run, err := s.WaitForRun(ctx, "todo", "purge")
		if err != nil {
			t.Error(err)
		}
		got <- run
	}()
	if err := v.TriggerTask(ctx, "purge"); err != nil {
		t.Fatal(err)
	}
	close(b.release)
	if run := <-got; run.N != 1 {
		t.Errorf("WaitForRun() = %v, want run 1", run)
	}
}

func TestSchedulerPanic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler()
	v := schedule(t, s, core.Task{ID: "boom", Frequency: core.Manual(), Fn: func(context.Context) error { panic("kaboom") }})
	schedule(t, s, core.Task{ID: "exit", Frequency: core.Manual(), Fn: func(context.Context) error { runtime.Goexit(); return nil }})
	run, err := s.Run(ctx, "todo", "boom")
	if err == nil || !strings.Contains(err.Error(), "task 'boom' of plugin 'todo' panicked: kaboom") || run.Err != err {
		t.Errorf("Run() of a panicking task = %v, %v", run, err)
	}
	if err := v.TriggerTask(ctx, "boom"); err != nil {
		t.Fatal(err)
	}
	if run, err := s.WaitForRun(ctx, "todo", "boom"); err != nil || run.N != 2 || !strings.Contains(fmt.Sprint(run.Err), "panicked") {
		t.Errorf("a triggered panicking run = %v, %v", run, err)
	}
	if err := v.TriggerTask(ctx, "exit"); err != nil {
		t.Fatal(err)
	}
	if run, err := s.WaitForRun(ctx, "todo", "exit"); err != nil || !strings.Contains(fmt.Sprint(run.Err), "runtime.Goexit") {
		t.Errorf("a run that called runtime.Goexit = %v, %v", run, err)
	}
	states, _ := v.Tasks(ctx)
	if len(states) != 2 || states[0].ID != "boom" || !strings.Contains(states[0].LastError, "kaboom") {
		t.Errorf("Tasks() = %+v, want boom's panic as its last error", states)
	}
}

func TestSchedulerAdvanceNegative(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); !strings.Contains(fmt.Sprint(r), "the clock does not go back") {
			t.Errorf("Advance(-1s) panicked with %v", r)
		}
	}()
	mockservices.Scheduler().Advance(context.Background(), -time.Second)
}

func TestSchedulerStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler()
	b := newBlocker()
	v := schedule(t, s, core.Task{ID: "purge", Frequency: core.Every(time.Hour), Fn: b.fn})
	if err := v.TriggerTask(ctx, "purge"); err != nil {
		t.Fatal(err)
	}
	<-b.started
	// Stop cancels the run and waits for it.
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if runs := s.Runs("todo", "purge"); len(runs) != 1 || !errors.Is(runs[0].Err, context.Canceled) {
		t.Errorf("after Stop, Runs() = %v, want the cancelled run", runs)
	}
	if run, err := s.WaitForRun(ctx, "todo", "purge"); err != nil || run.N != 1 {
		t.Errorf("WaitForRun() = %v, %v; want the cancelled run", run, err)
	}
	_, runErr := s.Run(ctx, "todo", "purge")
	_, waitErr := s.WaitForRun(ctx, "todo", "purge")
	for name, err := range map[string]error{
		"TriggerTask":  v.TriggerTask(ctx, "purge"),
		"Run":          runErr,
		"WaitForRun":   waitErr,
		"ScheduleTask": v.ScheduleTask(ctx, core.Task{ID: "other", Fn: ok, Frequency: core.Manual(), Timeout: time.Second}),
	} {
		if !errs.Is(err, errs.ServiceUnavailable) || !strings.Contains(err.Error(), "Plugin 'todo' has shut down") {
			t.Errorf("%s after Stop = %v, want ServiceUnavailable", name, err)
		}
	}
	if runs := s.Advance(ctx, 2*time.Hour); len(runs) != 0 {
		t.Errorf("after Stop, Advance ran %v", runs)
	}
}

func TestSchedulerStopTimesOut(t *testing.T) {
	t.Parallel()
	s := mockservices.Scheduler()
	release := make(chan struct{})
	started := make(chan struct{})
	v := schedule(t, s, core.Task{ID: "stubborn", Frequency: core.Manual(), Fn: func(context.Context) error {
		close(started)
		<-release // ignores its context
		return nil
	}})
	if err := v.TriggerTask(context.Background(), "stubborn"); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "scheduler of plugin 'todo'") {
		t.Errorf("Stop() with a run that ignores its context = %v, want ctx's error naming the plugin", err)
	}
	close(release)
	if _, err := s.WaitForRun(context.Background(), "todo", "stubborn"); err != nil {
		t.Error(err)
	}
}

// purgePlugin schedules an hourly task "purge" in its init, which counts
// its runs and fails when told to.
func purgePlugin(count *int, fail *error) *backend.Plugin {
	return backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d struct {
		Scheduler core.Scheduler
		Router    core.HTTPRouter
	}) error {
		d.Router.HandleFunc("POST /purge", func(w http.ResponseWriter, r *http.Request) {
			if err := d.Scheduler.TriggerTask(r.Context(), "purge"); err != nil {
				errs.WriteJSON(w, r, err)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		})
		return d.Scheduler.ScheduleTask(ctx, core.Task{
			ID:        "purge",
			Frequency: core.Every(time.Hour),
			Timeout:   time.Minute,
			Fn: func(ctx context.Context) error {
				*count++
				return *fail
			},
		})
	}))
}

func TestSchedulerInTestBackend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler()
	var count int
	var fail error
	tb := testbackend.Start(t, purgePlugin(&count, &fail), mockservices.SchedulerFactory(s))

	if runs := s.RunDue(ctx); len(runs) != 1 || count != 1 {
		t.Fatalf("RunDue() = %v, count %d; want the task scheduled in init to run once", runs, count)
	}
	fail = errors.New("disk full")
	if runs := s.Advance(ctx, time.Hour); len(runs) != 1 || runs[0].Err != fail {
		t.Errorf("Advance(1h) = %v, want one failed run", runs)
	}
	log := testbackend.Service(t, tb, core.RootLoggerRef, "").(*mockservices.LoggerService)
	if !log.Contains("Scheduled task failed", "plugin", "todo", "task", "purge", "run", 2) {
		t.Errorf("the failed run was not logged: %v", log.Records())
	}
	// A trigger from an HTTP handler; the test waits for the run.
	fail = nil
	tb.Post("/api/todo/purge", nil).AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusAccepted)
	if run, err := s.WaitForRun(ctx, "todo", "purge"); err != nil || run.N != 3 || run.Err != nil {
		t.Errorf("WaitForRun() = %v, %v; want the triggered run 3", run, err)
	}
	states, err := testbackend.Service(t, tb, core.SchedulerRef, "todo").Tasks(ctx)
	if err != nil || len(states) != 1 || !states[0].NextRunAt.Equal(start.Add(2*time.Hour)) {
		t.Errorf("Tasks() = %+v, %v", states, err)
	}
}

func TestSchedulerStopsWithTheBackend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mockservices.Scheduler()
	b := newBlocker()
	plugin := backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d struct{ Scheduler core.Scheduler }) error {
		if err := d.Scheduler.ScheduleTask(ctx, core.Task{ID: "purge", Frequency: core.Manual(), Timeout: time.Hour, Fn: b.fn}); err != nil {
			return err
		}
		return d.Scheduler.TriggerTask(ctx, "purge")
	}))
	bk := backend.New(backend.WithDefaults(mockservices.DefaultFactories(t)...))
	if err := bk.Add(plugin, mockservices.SchedulerFactory(s)); err != nil {
		t.Fatal(err)
	}
	if err := bk.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-b.started
	if err := bk.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// Stop returned after the run, which saw its context cancelled.
	if runs := s.Runs("todo", "purge"); len(runs) != 1 || !errors.Is(runs[0].Err, context.Canceled) {
		t.Errorf("after the backend stopped, Runs() = %v, want the cancelled run", runs)
	}
}

// TestSchedulerDefault checks that a plugin depending on the scheduler
// starts in a default test backend, and that each backend has its own fake.
func TestSchedulerDefault(t *testing.T) {
	t.Parallel()
	var count int
	var fail error
	for range 2 {
		// The same task ID in each: no Conflict across backends.
		tb := testbackend.Start(t, purgePlugin(&count, &fail))
		states, err := testbackend.Service(t, tb, core.SchedulerRef, "todo").Tasks(context.Background())
		if err != nil || len(states) != 1 || !states[0].NextRunAt.Equal(start) {
			t.Errorf("Tasks() = %+v, %v; want the task due at the fake clock's start", states, err)
		}
	}
	if count != 0 {
		t.Errorf("the default fake ran the task %d times, want none: tasks run when the test says so", count)
	}
}
