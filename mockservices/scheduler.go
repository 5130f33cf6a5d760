package mockservices

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/schedspec"
)

// SchedulerStart is the instant the clock of a [Scheduler] fake shows when
// it is made, unless [WithSchedulerStart] says otherwise:
// 2026-01-01T00:00:00Z, a Thursday.
const SchedulerStart = "2026-01-01T00:00:00Z"

var schedulerStart = mustParseTime(SchedulerStart)

func mustParseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// SchedulerService is a fake [core.Scheduler] whose tasks run only when the
// test says so, on a fake clock: nothing runs in the background, and a test
// never sleeps. One fake serves every plugin of a backend (give each backend
// its own); the plugins see a view bound to their id, through
// [SchedulerFactory] or [SchedulerService.ForPlugin], and the test drives
// every plugin's tasks with:
//
//   - [SchedulerService.Run], which runs one task now and returns its run;
//   - [SchedulerService.RunDue], which runs every task due at the fake clock;
//   - [SchedulerService.Advance], which moves the clock and runs what became
//     due;
//   - [SchedulerService.WaitForRun], which waits for a run that a plugin
//     started with TriggerTask (from an HTTP handler, say) to finish.
//
// A task's first run is due at the clock's time when it was scheduled plus
// its InitialDelay; after a run, an interval task is due at the later of its
// planned start plus the interval and the clock (a late task runs once, not
// once per period missed, and is due again at once, as in production), a
// cron task at the next time of its expression after the clock, and a manual
// task never. Runs, triggered or not, start and end at the fake clock's
// time.
//
// A run's context is cancelled when its task's Timeout passes (on the real
// clock), when the plugin shuts down and, for [SchedulerService.Run], with
// the context given to Run. A task function that panics does not kill the
// test binary: the panic is recovered and recorded as the run's error.
//
// The errors follow the [core.Scheduler] contract: an invalid task is an
// errs.Input error, a task ID that is taken an errs.Conflict, an unknown
// task an errs.NotFound and a task that is running an errs.Conflict. Once
// a plugin has shut down, its scheduler answers errs.ServiceUnavailable.
type SchedulerService struct {
	mu      sync.Mutex
	now     time.Time
	plugins map[string]*schedPlugin
	// changed is closed when a run ends or a plugin stops, for WaitForRun
	// and stopPlugin to wait on: made by wait, dropped by broadcast.
	changed chan struct{}
}

// schedPlugin is the state of one plugin's tasks.
type schedPlugin struct {
	id      string
	stopped bool
	active  int // runs in progress
	// ctx is cancelled when the plugin shuts down; it is made with the
	// plugin's first run, so that plugins that never run a task (most
	// test backends) do not pay for it.
	ctx    context.Context
	cancel context.CancelFunc
	tasks  map[string]*fakeTask
	logger core.Logger // nil without a factory
}

// fakeTask is a scheduled task and its history.
type fakeTask struct {
	plugin  *schedPlugin
	task    core.Task
	cron    cron.Schedule // nil unless a cron task
	next    time.Time     // zero for a manual task
	running bool
	runs    []recordedRun
}

type recordedRun struct {
	TaskRun
	delivered bool // returned to the test by a control or WaitForRun
}

// TaskRun is one finished run of a task.
type TaskRun struct {
	PluginID, TaskID string
	// N numbers the runs of the task from 1.
	N int
	// StartedAt and EndedAt are the fake clock's times; they are equal
	// unless the task moved the clock.
	StartedAt, EndedAt time.Time
	// Err is the function's error; a recovered panic is an error too.
	Err error
}

// String describes the run for test failures:
// "todo/purge-completed run 2 at 2026-01-01T01:00:00Z: ok".
func (r TaskRun) String() string {
	result := "ok"
	if r.Err != nil {
		result = "error: " + r.Err.Error()
	}
	return fmt.Sprintf("%s/%s run %d at %s: %s", r.PluginID, r.TaskID, r.N, r.StartedAt.Format(time.RFC3339Nano), result)
}

// SchedulerOption configures a [Scheduler] fake.
type SchedulerOption func(*SchedulerService)

// WithSchedulerStart sets the fake clock's initial time, instead of
// [SchedulerStart]. It is kept in UTC.
func WithSchedulerStart(t time.Time) SchedulerOption {
	return func(s *SchedulerService) { s.now = t.UTC() }
}

// Scheduler returns a fake scheduler whose clock shows [SchedulerStart].
// Hand it to a backend with [SchedulerFactory], or give a plugin's view to
// the code under test with [SchedulerService.ForPlugin].
func Scheduler(opts ...SchedulerOption) *SchedulerService {
	s := &SchedulerService{now: schedulerStart, plugins: map[string]*schedPlugin{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SchedulerFactory returns a factory of the core.scheduler service that
// gives each plugin a view of s bound to its id. The view adds a shutdown
// hook to the plugin's lifecycle that cancels the plugin's runs in progress
// and waits for them, and logs failed runs with the plugin's logger.
//
// With a nil s, each backend gets a fake of its own, made when a plugin
// first depends on the scheduler: that is the factory of
// [DefaultFactories], for backends whose tests do not drive the tasks.
func SchedulerFactory(s *SchedulerService) *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.SchedulerRef,
		func(context.Context, struct{}) (*SchedulerService, error) {
			if s == nil {
				return Scheduler(), nil
			}
			return s, nil
		},
		func(ctx context.Context, s *SchedulerService, d struct {
			Plugin    core.PluginMetadata
			Lifecycle core.Lifecycle
			Logger    core.Logger
		}) (core.Scheduler, error) {
			id := d.Plugin.ID()
			s.mu.Lock()
			s.plugin(id).logger = d.Logger
			s.mu.Unlock()
			if err := d.Lifecycle.AddShutdownHook(func(ctx context.Context) error { return s.stopPlugin(ctx, id) }); err != nil {
				return nil, fmt.Errorf("mockservices: scheduler of plugin '%s': %w", id, err)
			}
			return pluginScheduler{s: s, pluginID: id}, nil
		})
}

// ForPlugin returns the scheduler that the plugin pluginID sees, for a unit
// test of code that takes a core.Scheduler. Without a backend nothing shuts
// the plugin down: runs in progress are cancelled by [SchedulerService.Stop].
func (s *SchedulerService) ForPlugin(pluginID string) core.Scheduler {
	return pluginScheduler{s: s, pluginID: pluginID}
}

// Stop shuts every plugin down, as a backend's Stop does through the
// plugins' lifecycles: it cancels the runs in progress and waits for them
// or for ctx to be done. The scheduler then refuses new tasks and runs.
func (s *SchedulerService) Stop(ctx context.Context) error {
	s.mu.Lock()
	ids := make([]string, 0, len(s.plugins))
	for id := range s.plugins {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	slices.Sort(ids)
	var errs []error
	for _, id := range ids {
		errs = append(errs, s.stopPlugin(ctx, id))
	}
	return errors.Join(errs...)
}

// Now returns the fake clock's time.
func (s *SchedulerService) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Run runs the task taskID of the plugin pluginID now, in the caller's
// goroutine, whatever its frequency, and returns the run. err is the run's
// Err if the task ran; if it did not, run is the zero TaskRun and err an
// errs.NotFound error for an unknown task, an errs.Conflict for a task that
// is running, or an errs.ServiceUnavailable once the plugin shut down.
//
// The run's context is cancelled with ctx. As with TriggerTask, an
// interval task is then due one interval after the run.
func (s *SchedulerService) Run(ctx context.Context, pluginID, taskID string) (run TaskRun, err error) {
	s.mu.Lock()
	t, pluginCtx, err := s.begin(pluginID, taskID, "run")
	planned := s.now
	s.mu.Unlock()
	if err != nil {
		return TaskRun{}, err
	}
	run = s.execute(ctx, pluginCtx, t, planned, true)
	return run, run.Err
}

// RunDue runs, one after another in the caller's goroutine, every task that
// is due at the fake clock and not running, each once, in the order of their
// due times (then of plugin and task IDs), and returns the runs. Tasks of
// plugins that shut down do not run. The runs' contexts are cancelled with
// ctx.
func (s *SchedulerService) RunDue(ctx context.Context) []TaskRun {
	s.mu.Lock()
	var due []*fakeTask
	for _, p := range s.plugins {
		for _, t := range p.tasks {
			if s.isDue(t) {
				due = append(due, t)
			}
		}
	}
	s.mu.Unlock()
	slices.SortFunc(due, func(a, b *fakeTask) int {
		return cmp.Or(a.next.Compare(b.next), cmp.Compare(a.plugin.id, b.plugin.id), cmp.Compare(a.task.ID, b.task.ID))
	})
	var runs []TaskRun
	for _, t := range due {
		s.mu.Lock()
		if !s.isDue(t) { // an earlier run triggered or ran it
			s.mu.Unlock()
			continue
		}
		pluginCtx := s.startRun(t)
		planned := t.next
		s.mu.Unlock()
		runs = append(runs, s.execute(ctx, pluginCtx, t, planned, true))
	}
	return runs
}

// isDue reports whether t should run at the fake clock. s.mu is held.
func (s *SchedulerService) isDue(t *fakeTask) bool {
	return !t.running && !t.plugin.stopped && !t.next.IsZero() && !t.next.After(s.now)
}

// Advance moves the fake clock forward by d and runs what became due, as
// RunDue does: each task once, however many of its periods passed. It
// panics if d is negative.
func (s *SchedulerService) Advance(ctx context.Context, d time.Duration) []TaskRun {
	if d < 0 {
		panic(fmt.Sprintf("mockservices: SchedulerService.Advance(%v): the clock does not go back", d))
	}
	s.mu.Lock()
	s.now = s.now.Add(d)
	s.mu.Unlock()
	return s.RunDue(ctx)
}

// WaitForRun waits for a run of the task taskID of the plugin pluginID that
// a plugin started, with TriggerTask, to finish, and returns it.
//
// Every run is handed to the test once: a run of Run, RunDue or Advance by
// that call, any other run by WaitForRun. WaitForRun returns the oldest
// finished run of the task it has not handed yet, waiting for one if there
// is none, so a run that finishes between the trigger and the call is not
// missed, and n triggers are matched by n calls.
//
// It fails with an errs.NotFound error for an unknown task, with ctx's
// error when ctx is done first, and with an errs.ServiceUnavailable error
// when the plugin has shut down and no run is left to hand.
func (s *SchedulerService) WaitForRun(ctx context.Context, pluginID, taskID string) (TaskRun, error) {
	for {
		s.mu.Lock()
		t, err := s.task(pluginID, taskID)
		if err != nil {
			s.mu.Unlock()
			return TaskRun{}, err
		}
		for i := range t.runs {
			if !t.runs[i].delivered {
				t.runs[i].delivered = true
				run := t.runs[i].TaskRun
				s.mu.Unlock()
				return run, nil
			}
		}
		if t.plugin.stopped && !t.running {
			s.mu.Unlock()
			return TaskRun{}, errs.NewServiceUnavailable("Plugin '%s' has shut down: task '%s' will not run again; wait for runs before stopping the backend", pluginID, taskID)
		}
		changed := s.wait()
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return TaskRun{}, fmt.Errorf("waiting for a run of task '%s' of plugin '%s': %w", taskID, pluginID, context.Cause(ctx))
		}
	}
}

// Runs returns the finished runs of the task taskID of the plugin pluginID,
// oldest first; none for an unknown task.
func (s *SchedulerService) Runs(pluginID, taskID string) []TaskRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.task(pluginID, taskID)
	if err != nil {
		return nil
	}
	runs := make([]TaskRun, len(t.runs))
	for i, r := range t.runs {
		runs[i] = r.TaskRun
	}
	return runs
}

// plugin returns the state of the plugin id, making it. s.mu is held.
func (s *SchedulerService) plugin(id string) *schedPlugin {
	p := s.plugins[id]
	if p == nil {
		p = &schedPlugin{id: id, tasks: map[string]*fakeTask{}}
		s.plugins[id] = p
	}
	return p
}

// task returns the task, or an errs.NotFound error. s.mu is held.
func (s *SchedulerService) task(pluginID, taskID string) (*fakeTask, error) {
	if p := s.plugins[pluginID]; p != nil {
		if t := p.tasks[taskID]; t != nil {
			return t, nil
		}
	}
	return nil, errs.NewNotFound("Plugin '%s' has no scheduled task '%s'; schedule it with ScheduleTask before running it", pluginID, taskID)
}

// begin marks the task running, for a run that the caller will execute,
// and returns its plugin's context, or says why it cannot run. s.mu is
// held.
func (s *SchedulerService) begin(pluginID, taskID, verb string) (*fakeTask, context.Context, error) {
	t, err := s.task(pluginID, taskID)
	switch {
	case err != nil:
		return nil, nil, err
	case t.plugin.stopped:
		return nil, nil, errs.NewServiceUnavailable("Plugin '%s' has shut down: cannot %s task '%s'", pluginID, verb, taskID)
	case t.running:
		return nil, nil, errs.NewConflict("Task '%s' of plugin '%s' is running: cannot %s it until the run ends", taskID, pluginID, verb)
	}
	return t, s.startRun(t), nil
}

// startRun marks t, which may run, running and returns its plugin's
// context. s.mu is held.
func (s *SchedulerService) startRun(t *fakeTask) context.Context {
	p := t.plugin
	t.running = true
	p.active++
	if p.ctx == nil {
		p.ctx, p.cancel = context.WithCancel(context.Background())
	}
	return p.ctx
}

// execute runs t, which startRun marked running, and records the run;
// pluginCtx is the plugin's context and planned the start the schedule
// planned. It returns once the function has, even if the function panics
// or calls runtime.Goexit.
func (s *SchedulerService) execute(parent, pluginCtx context.Context, t *fakeTask, planned time.Time, delivered bool) (run TaskRun) {
	ctx, cancel := context.WithTimeout(parent, t.task.Timeout)
	stop := context.AfterFunc(pluginCtx, cancel)
	s.mu.Lock()
	run = TaskRun{PluginID: t.plugin.id, TaskID: t.task.ID, N: len(t.runs) + 1, StartedAt: s.now}
	s.mu.Unlock()
	returned := false
	defer func() {
		stop()
		cancel()
		if !returned && run.Err == nil {
			run.Err = fmt.Errorf("task '%s' of plugin '%s' exited its goroutine without returning (runtime.Goexit, as t.FailNow does)", t.task.ID, t.plugin.id)
		}
		s.finish(t, &run, planned, delivered)
	}()
	run.Err = call(ctx, t)
	returned = true
	return run
}

// call calls the task's function, turning a panic into an error.
func call(ctx context.Context, t *fakeTask) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("task '%s' of plugin '%s' panicked: %v\n%s", t.task.ID, t.plugin.id, v, debug.Stack())
		}
	}()
	return t.task.Fn(ctx)
}

// finish records the run, plans the next one and wakes WaitForRun.
func (s *SchedulerService) finish(t *fakeTask, run *TaskRun, planned time.Time, delivered bool) {
	s.mu.Lock()
	run.EndedAt = s.now
	t.runs = append(t.runs, recordedRun{TaskRun: *run, delivered: delivered})
	t.running = false
	t.plugin.active--
	t.next = t.nextAfterRun(planned, s.now)
	logger := t.plugin.logger
	s.broadcast()
	s.mu.Unlock()
	if run.Err != nil && logger != nil {
		logger.Error("Scheduled task failed", "task", t.task.ID, "run", run.N, "error", run.Err)
	}
}

// broadcast wakes the goroutines waiting on s.changed. s.mu is held.
func (s *SchedulerService) broadcast() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// wait returns a channel closed by the next broadcast. s.mu is held.
func (s *SchedulerService) wait() <-chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// nextAfterRun returns when t is due after a run planned at planned that
// ended at now.
func (t *fakeTask) nextAfterRun(planned, now time.Time) time.Time {
	if every, ok := t.task.Frequency.Interval(); ok {
		next := planned.Add(every)
		if next.Before(now) {
			next = now
		}
		return next
	}
	if t.cron != nil {
		return t.cron.Next(now).UTC()
	}
	return time.Time{}
}

// stopPlugin shuts the plugin id down: it refuses new runs, cancels those
// in progress and waits for them, or for ctx to be done.
func (s *SchedulerService) stopPlugin(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.plugin(id)
	p.stopped = true
	if p.cancel != nil {
		p.cancel()
	}
	s.broadcast() // WaitForRun gives up on the plugin's tasks
	for p.active > 0 {
		changed := s.wait()
		s.mu.Unlock()
		select {
		case <-changed:
			s.mu.Lock()
		case <-ctx.Done():
			s.mu.Lock()
			return fmt.Errorf("mockservices: scheduler of plugin '%s': waiting for the runs in progress to end: %w", id, context.Cause(ctx))
		}
	}
	return nil
}

// pluginScheduler is the core.Scheduler of one plugin.
type pluginScheduler struct {
	s        *SchedulerService
	pluginID string
}

var _ core.Scheduler = pluginScheduler{}

// ScheduleTask implements [core.Scheduler]: it validates the task as the
// production scheduler does and plans its first run.
func (v pluginScheduler) ScheduleTask(ctx context.Context, task core.Task) error {
	sched, err := validateTask(v.pluginID, &task)
	if err != nil {
		return err
	}
	if task.Scope == "" {
		task.Scope = core.ScopeGlobal
	}
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.plugin(v.pluginID)
	if p.stopped {
		return errs.NewServiceUnavailable("Plugin '%s' has shut down: cannot schedule task '%s'", v.pluginID, task.ID)
	}
	if _, taken := p.tasks[task.ID]; taken {
		return errs.NewConflict("Plugin '%s' already scheduled a task '%s'; give each task of a plugin its own ID", v.pluginID, task.ID)
	}
	t := &fakeTask{plugin: p, task: task, cron: sched}
	start := s.now.Add(task.InitialDelay)
	switch {
	case sched != nil:
		t.next = sched.Next(start).UTC()
	case !task.Frequency.IsManual():
		t.next = start
	}
	p.tasks[task.ID] = t
	return nil
}

// validateTask checks the task against the contract of core.Task and
// returns the schedule of a cron task.
func validateTask(pluginID string, task *core.Task) (cron.Schedule, error) {
	invalid := func(format string, args ...any) error {
		return errs.NewInput("Plugin '%s' cannot schedule task '%s': %s", pluginID, task.ID, fmt.Sprintf(format, args...))
	}
	// The production scheduler's validation and cron parser (in UTC), so
	// that the fake accepts exactly the tasks production accepts.
	spec, err := schedspec.Validate(*task)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return spec.Cron, nil
}

// TriggerTask implements [core.Scheduler]: it starts a run now, in a new
// goroutine, and returns; the test waits for it with
// [SchedulerService.WaitForRun].
func (v pluginScheduler) TriggerTask(ctx context.Context, id string) error {
	s := v.s
	s.mu.Lock()
	t, pluginCtx, err := s.begin(v.pluginID, id, "trigger")
	planned := s.now
	s.mu.Unlock()
	if err != nil {
		return err
	}
	go s.execute(context.Background(), pluginCtx, t, planned, false)
	return nil
}

// Tasks implements [core.Scheduler]: the plugin's tasks by ID, with due
// times on the fake clock.
func (v pluginScheduler) Tasks(ctx context.Context) ([]core.TaskState, error) {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.plugins[v.pluginID]
	if p == nil {
		return []core.TaskState{}, nil
	}
	states := make([]core.TaskState, 0, len(p.tasks))
	for _, t := range p.tasks {
		st := core.TaskState{
			ID:           t.task.ID,
			Scope:        t.task.Scope,
			Frequency:    t.task.Frequency,
			Timeout:      t.task.Timeout,
			InitialDelay: t.task.InitialDelay,
			Running:      t.running,
		}
		if !t.running {
			st.NextRunAt = t.next
		}
		if n := len(t.runs); n > 0 {
			last := t.runs[n-1]
			st.LastRunStartedAt, st.LastRunEndedAt = last.StartedAt, last.EndedAt
			if last.Err != nil {
				st.LastError = last.Err.Error()
			}
		}
		states = append(states, st)
	}
	slices.SortFunc(states, func(a, b core.TaskState) int { return cmp.Compare(a.ID, b.ID) })
	return states, nil
}
