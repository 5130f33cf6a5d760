package servicetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// schedulerWait is how long the scheduler suite waits for a run it asked
// for: generous, since a run is only waited for, never timed.
const schedulerWait = 30 * time.Second

// TestScheduler checks an implementation of [core.Scheduler]: invalid
// tasks are errs.Input errors naming the task, a taken ID is an
// errs.Conflict, triggering an unknown task an errs.NotFound, Tasks lists
// what was scheduled with its scope, frequency and timeout, a triggered
// manual task runs, and triggering a task that is running is an
// errs.Conflict.
//
// newScheduler returns a fresh scheduler for one plugin, stopped by its
// own t.Cleanup. The suite never waits on time passing by itself: the
// tasks it schedules are manual, or due in an hour or more.
func TestScheduler(t *testing.T, newScheduler func(t testing.TB) core.Scheduler) {
	t.Helper()
	ctx := context.Background()
	noop := func(context.Context) error { return nil }

	t.Run("invalid tasks are input errors naming the task", func(t *testing.T) {
		s := newScheduler(t)
		valid := core.Task{ID: "valid", Fn: noop, Frequency: core.Every(time.Hour), Timeout: time.Minute, InitialDelay: time.Hour}
		cases := []struct {
			name   string
			change func(*core.Task)
		}{
			{"an empty ID", func(tk *core.Task) { tk.ID = "" }},
			{"an ID longer than 255 bytes", func(tk *core.Task) { tk.ID = strings.Repeat("x", 256) }},
			{"no function", func(tk *core.Task) { tk.ID, tk.Fn = "no-fn", nil }},
			{"no frequency", func(tk *core.Task) { tk.ID, tk.Frequency = "no-frequency", core.Frequency{} }},
			{"a zero interval", func(tk *core.Task) { tk.ID, tk.Frequency = "zero-interval", core.Every(0) }},
			{"a negative interval", func(tk *core.Task) { tk.ID, tk.Frequency = "negative-interval", core.Every(-time.Second) }},
			{"an interval under 1ms", func(tk *core.Task) { tk.ID, tk.Frequency = "sub-ms-interval", core.Every(500*time.Microsecond) }},
			{"an unparsable cron expression", func(tk *core.Task) { tk.ID, tk.Frequency = "bad-cron", core.Cron("not a cron") }},
			{"a zero timeout", func(tk *core.Task) { tk.ID, tk.Timeout = "zero-timeout", 0 }},
			{"a negative timeout", func(tk *core.Task) { tk.ID, tk.Timeout = "negative-timeout", -time.Second }},
			{"a negative initial delay", func(tk *core.Task) { tk.ID, tk.InitialDelay = "negative-delay", -time.Second }},
			{"an unknown scope", func(tk *core.Task) { tk.ID, tk.Scope = "unknown-scope", "everywhere" }},
		}
		for _, c := range cases {
			tk := valid
			c.change(&tk)
			err := s.ScheduleTask(ctx, tk)
			checkErr(t, "ScheduleTask with "+c.name, err, errs.Input, "")
			if e, ok := errs.As(err); ok && tk.ID != "" && len(tk.ID) <= 255 && !strings.Contains(e.Message, tk.ID) {
				t.Errorf("ScheduleTask with %s: message %q does not name task %q", c.name, e.Message, tk.ID)
			}
		}
		states, err := s.Tasks(ctx)
		if err != nil {
			t.Fatalf("Tasks() = %v", err)
		}
		if len(states) != 0 {
			t.Errorf("Tasks() after invalid tasks only = %d tasks, want none", len(states))
		}
	})

	t.Run("a taken ID is a conflict", func(t *testing.T) {
		s := newScheduler(t)
		tk := core.Task{ID: "twice", Fn: noop, Frequency: core.Manual(), Timeout: time.Minute}
		if err := s.ScheduleTask(ctx, tk); err != nil {
			t.Fatalf("first ScheduleTask = %v", err)
		}
		tk.Scope = core.ScopeLocal
		err := s.ScheduleTask(ctx, tk)
		checkErr(t, "second ScheduleTask with the same ID", err, errs.Conflict, "")
		if e, ok := errs.As(err); ok && !strings.Contains(e.Message, "twice") {
			t.Errorf("conflict message %q does not name the task", e.Message)
		}
	})

	t.Run("triggering an unknown task is not found", func(t *testing.T) {
		s := newScheduler(t)
		err := s.TriggerTask(ctx, "nope")
		checkErr(t, "TriggerTask of an unknown ID", err, errs.NotFound, "")
		if e, ok := errs.As(err); ok && !strings.Contains(e.Message, "nope") {
			t.Errorf("not-found message %q does not name the task", e.Message)
		}
	})

	t.Run("Tasks lists the scheduled tasks by ID", func(t *testing.T) {
		s := newScheduler(t)
		tasks := []core.Task{
			{ID: "c-local", Fn: noop, Frequency: core.Manual(), Timeout: 3 * time.Minute, Scope: core.ScopeLocal},
			{ID: "a-every", Fn: noop, Frequency: core.Every(time.Hour), Timeout: time.Minute, InitialDelay: time.Hour},
			{ID: "b-cron", Fn: noop, Frequency: core.Cron("0 0 1 1 *"), Timeout: 2 * time.Minute, Scope: core.ScopeGlobal},
		}
		for _, tk := range tasks {
			if err := s.ScheduleTask(ctx, tk); err != nil {
				t.Fatalf("ScheduleTask(%s) = %v", tk.ID, err)
			}
		}
		states, err := s.Tasks(ctx)
		if err != nil {
			t.Fatalf("Tasks() = %v", err)
		}
		want := []core.TaskState{
			{ID: "a-every", Scope: core.ScopeGlobal, Frequency: core.Every(time.Hour), Timeout: time.Minute, InitialDelay: time.Hour},
			{ID: "b-cron", Scope: core.ScopeGlobal, Frequency: core.Cron("0 0 1 1 *"), Timeout: 2 * time.Minute},
			{ID: "c-local", Scope: core.ScopeLocal, Frequency: core.Manual(), Timeout: 3 * time.Minute},
		}
		if len(states) != len(want) {
			t.Fatalf("Tasks() = %d tasks, want %d", len(states), len(want))
		}
		for i, w := range want {
			g := states[i]
			if g.ID != w.ID || g.Scope != w.Scope || g.Frequency != w.Frequency || g.Timeout != w.Timeout || g.InitialDelay != w.InitialDelay {
				t.Errorf("Tasks()[%d] = {%s %s %#v %v %v}, want {%s %s %#v %v %v}", i,
					g.ID, g.Scope, g.Frequency, g.Timeout, g.InitialDelay, w.ID, w.Scope, w.Frequency, w.Timeout, w.InitialDelay)
			}
			if g.Running {
				t.Errorf("Tasks()[%d] (%s) is running, want not running", i, g.ID)
			}
		}
		if !states[2].NextRunAt.IsZero() {
			t.Errorf("manual task c-local has NextRunAt %v, want zero", states[2].NextRunAt)
		}
		if states[0].NextRunAt.IsZero() || states[1].NextRunAt.IsZero() {
			t.Errorf("scheduled tasks have NextRunAt %v and %v, want both set", states[0].NextRunAt, states[1].NextRunAt)
		}
	})

	for _, scope := range []core.TaskScope{core.ScopeGlobal, core.ScopeLocal} {
		t.Run("a triggered manual "+string(scope)+" task runs", func(t *testing.T) {
			s := newScheduler(t)
			ran := make(chan struct{}, 1)
			err := s.ScheduleTask(ctx, core.Task{ID: "manual", Scope: scope, Frequency: core.Manual(), Timeout: time.Minute,
				Fn: func(context.Context) error {
					select {
					case ran <- struct{}{}:
					default:
					}
					return nil
				}})
			if err != nil {
				t.Fatalf("ScheduleTask = %v", err)
			}
			if err := s.TriggerTask(ctx, "manual"); err != nil {
				t.Fatalf("TriggerTask = %v", err)
			}
			select {
			case <-ran:
			case <-time.After(schedulerWait):
				t.Fatalf("the triggered task did not run within %v", schedulerWait)
			}
		})

		t.Run("triggering a running "+string(scope)+" task is a conflict", func(t *testing.T) {
			s := newScheduler(t)
			started := make(chan struct{}, 1)
			release := make(chan struct{})
			t.Cleanup(func() { close(release) }) // runs before the scheduler stops
			err := s.ScheduleTask(ctx, core.Task{ID: "busy", Scope: scope, Frequency: core.Manual(), Timeout: time.Hour,
				Fn: func(ctx context.Context) error {
					started <- struct{}{}
					select {
					case <-release:
					case <-ctx.Done():
					}
					return nil
				}})
			if err != nil {
				t.Fatalf("ScheduleTask = %v", err)
			}
			if err := s.TriggerTask(ctx, "busy"); err != nil {
				t.Fatalf("TriggerTask = %v", err)
			}
			select {
			case <-started:
			case <-time.After(schedulerWait):
				t.Fatalf("the triggered task did not start within %v", schedulerWait)
			}
			err = s.TriggerTask(ctx, "busy")
			checkErr(t, "TriggerTask of a running task", err, errs.Conflict, "")
			states, err := s.Tasks(ctx)
			if err != nil {
				t.Fatalf("Tasks() = %v", err)
			}
			if len(states) != 1 || !states[0].Running {
				t.Errorf("Tasks() while the task runs = %+v, want it running", states)
			}
		})
	}
}
