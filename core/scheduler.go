package core

import (
	"context"
	"fmt"
	"time"
)

// SchedulerRef is the reference of the scheduler service (plugin scope).
var SchedulerRef = NewServiceRef[Scheduler]("core.scheduler")

// TaskScope says where a scheduled task runs.
type TaskScope string

const (
	// ScopeGlobal runs the task once per period across every instance of
	// the backend that shares the plugin's database: the instances
	// coordinate through a table in that database, and one of them runs
	// each period. It is the default.
	ScopeGlobal TaskScope = "global"
	// ScopeLocal runs the task on every instance, independently.
	ScopeLocal TaskScope = "local"
)

// Frequency says when a task runs: every fixed interval, at the times of a
// cron expression, or only when triggered. The zero Frequency is not
// valid; build one with [Every], [Cron] or [Manual].
type Frequency struct {
	every  time.Duration
	cron   string
	manual bool
}

// Every runs a task at a fixed interval: the next run starts at the later
// of the previous planned start plus d and now, so a late run does not
// cause a burst of catch-up runs.
func Every(d time.Duration) Frequency { return Frequency{every: d} }

// Cron runs a task at the times of a cron expression: five fields (minute
// hour day-of-month month day-of-week) or six with seconds first, or a
// descriptor such as "@hourly". Times are in UTC unless the expression
// starts with CRON_TZ=<zone>. The scheduler rejects an expression it cannot
// parse when the task is scheduled.
func Cron(expr string) Frequency { return Frequency{cron: expr} }

// Manual runs a task only when [Scheduler.TriggerTask] asks for it.
func Manual() Frequency { return Frequency{manual: true} }

// Interval returns the interval of a frequency built by [Every].
func (f Frequency) Interval() (time.Duration, bool) { return f.every, f.every != 0 }

// CronExpr returns the expression of a frequency built by [Cron].
func (f Frequency) CronExpr() (string, bool) { return f.cron, f.cron != "" }

// IsManual reports whether the frequency was built by [Manual].
func (f Frequency) IsManual() bool { return f.manual }

// IsZero reports whether f is the zero Frequency, which is not valid.
func (f Frequency) IsZero() bool { return f == Frequency{} }

// String returns "every 1h0m0s", "cron 0 3 * * *" or "manual" (and
// "unset" for the zero Frequency).
func (f Frequency) String() string {
	switch {
	case f.manual:
		return "manual"
	case f.cron != "":
		return "cron " + f.cron
	case f.every != 0:
		return "every " + f.every.String()
	}
	return "unset"
}

// GoString shows how the frequency was built, for %#v in test failures.
func (f Frequency) GoString() string {
	switch {
	case f.manual:
		return "core.Manual()"
	case f.cron != "":
		return fmt.Sprintf("core.Cron(%q)", f.cron)
	case f.every != 0:
		return fmt.Sprintf("core.Every(%d)", int64(f.every))
	}
	return "core.Frequency{}"
}

// TaskFunc is the work of a scheduled task. Its context is cancelled when
// the task's timeout passes, when the backend shuts down, and, for a global
// task, when this instance loses its claim on the run; the function should
// return soon after. The production scheduler keeps a global task's run
// claimed until the function returns, also past its timeout: a function
// that never returns holds its task (it shows as running) until the
// instance stops. A returned error is logged and recorded as the task's
// last error; the task keeps its schedule.
type TaskFunc func(ctx context.Context) error

// Task is a task to schedule.
type Task struct {
	// ID names the task within its plugin: a non-empty string of at most
	// 255 bytes. A plugin cannot schedule two tasks with the same ID.
	ID string
	// Fn is the work.
	Fn TaskFunc
	// Frequency says when the task runs.
	Frequency Frequency
	// Timeout bounds one run: Fn's context is cancelled when it passes.
	// It must be positive.
	Timeout time.Duration
	// InitialDelay delays the first run after this instance schedules the
	// task (global tasks: the first run this instance may start).
	InitialDelay time.Duration
	// Scope is ScopeGlobal (the default when empty) or ScopeLocal.
	Scope TaskScope
}

// TaskState is what is known about a scheduled task.
type TaskState struct {
	ID           string
	Scope        TaskScope
	Frequency    Frequency
	Timeout      time.Duration
	InitialDelay time.Duration
	// Running reports whether a run is in progress (for a global task, on
	// any instance).
	Running bool
	// NextRunAt is when the next run is due; zero for a manual task that
	// was not triggered, and while a run is in progress.
	NextRunAt time.Time
	// LastRunStartedAt and LastRunEndedAt bound the last run (on any
	// instance, for a global task); zero if the task never ran.
	LastRunStartedAt time.Time
	LastRunEndedAt   time.Time
	// LastError is the error of the last run, "" if it succeeded.
	LastError string
}

// Scheduler runs a plugin's background tasks (service "core.scheduler").
//
// Errors follow package errs: an invalid task is an errs.Input error, a
// task ID that is taken an errs.Conflict, an unknown task ID an
// errs.NotFound, and triggering a task that is running an errs.Conflict.
// Every message names the plugin and the task.
//
// The default implementation also serves the plugin's tasks and their
// state at GET /api/<pluginId>/.greenroom/scheduler/v1/tasks, to service
// callers only.
type Scheduler interface {
	// ScheduleTask validates the task and starts scheduling it. Runs stop
	// when the backend shuts down: it stops starting runs, cancels the
	// runs in progress and waits for them.
	ScheduleTask(ctx context.Context, task Task) error
	// TriggerTask asks for a run of the task now, whatever its frequency,
	// and returns without waiting for it.
	TriggerTask(ctx context.Context, id string) error
	// Tasks lists the tasks this plugin scheduled on this instance, by ID.
	Tasks(ctx context.Context) ([]TaskState, error)
}
