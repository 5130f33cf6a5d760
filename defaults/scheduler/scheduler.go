package scheduler

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/schedspec"
	"github.com/greenroom-dev/greenroom/migrate"
)

// The defaults of [Options].
const (
	// DefaultLeaseDuration is how long a run's claim lasts without a
	// renewal: a dead instance's run is taken over this long after its
	// last renewal. Runs renew every third of it.
	DefaultLeaseDuration = 10 * time.Second
	// DefaultPollInterval is how often a worker re-reads its task's row at
	// most between two looks at the times it knows of, to notice a trigger
	// or a settings change made by another instance.
	DefaultPollInterval = 5 * time.Second
	// MinLeaseDuration is the shortest lease [New] accepts.
	MinLeaseDuration = 100 * time.Millisecond
	// MigrationsTable records the scheduler's applied migrations in the
	// plugin's database.
	MigrationsTable = "greenroom_scheduler_migrations"
	// TasksPath is the endpoint, relative to the plugin's mount, that
	// lists the plugin's tasks to service callers.
	TasksPath = "/.greenroom/scheduler/v1/tasks"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations are the scheduler's migrations, for tools and tests that
// prepare a database ahead (testdatabases.WithMigrator(scheduler.Migrations)).
var Migrations = migrate.Migrator(migrationFiles, "migrations", migrate.Table(MigrationsTable))

// Options configures [New].
type Options struct {
	// DB is the plugin's database. Required.
	DB *sql.DB
	// Dialect is DB's SQL dialect. Required.
	Dialect core.Dialect
	// PluginID is the plugin whose tasks these are. Several plugins may
	// share one database: rows are keyed by plugin and task. Required.
	PluginID string
	// Logger logs failed runs and lost claims. Nil discards the logs.
	Logger core.Logger
	// LeaseDuration is how long a claim on a run lasts without renewal.
	// Zero means [DefaultLeaseDuration]; otherwise at least
	// [MinLeaseDuration].
	LeaseDuration time.Duration
	// PollInterval caps a worker's sleep between two reads of its task's
	// row. Zero means [DefaultPollInterval].
	PollInterval time.Duration
	// InstanceID names this instance in the rows it claims and in the
	// last error of the runs it interrupts. Empty means <hostname>-<random>.
	InstanceID string
	// SkipMigrations leaves the table to whoever migrated the database.
	SkipMigrations bool

	// clock reads this instance's clock; tests skew it. Coordination never
	// uses it: only local tasks and durations do.
	clock func() time.Time
}

// Scheduler is the default [core.Scheduler]. Global tasks coordinate
// through the table greenroom_scheduler_tasks of the plugin's database:
// an instance runs a due task only after a conditional UPDATE gave it a
// lease on the run, which it renews while the task runs. A run whose
// instance died is taken over once its lease expires, without waiting for
// the task's timeout. It is safe for concurrent use.
type Scheduler struct {
	store    *store
	pluginID string
	instance string
	logger   core.Logger
	lease    time.Duration
	poll     time.Duration
	clock    func() time.Time

	// base is cancelled by Shutdown with errShutdown: it cancels the runs.
	base       context.Context
	cancelBase context.CancelCauseFunc
	stopping   chan struct{} // closed when shutdown begins: no new claims
	stopOnce   sync.Once
	wg         sync.WaitGroup

	mu    sync.Mutex
	tasks map[string]*task
}

var _ core.Scheduler = (*Scheduler)(nil)

var errShutdown = errors.New("the scheduler is shutting down")
var errLostClaim = errors.New("this instance lost its claim on the run")

// task is a scheduled task and, for a local one, its state.
type task struct {
	core.Task
	every    time.Duration
	cron     cron.Schedule
	settings string        // JSON of the settings, compared on restart
	wake     chan struct{} // a trigger wakes the worker

	mu      sync.Mutex // guards the local state below
	running bool
	next    time.Time
	started time.Time
	ended   time.Time
	lastErr string
}

// New returns a scheduler for the plugin's tasks on db, migrating the table
// unless opts.SkipMigrations. Call [Scheduler.Shutdown] when done.
func New(ctx context.Context, opts Options) (*Scheduler, error) {
	if opts.DB == nil {
		return nil, fmt.Errorf("scheduler: plugin '%s': Options.DB is nil; pass the plugin's database", opts.PluginID)
	}
	if opts.PluginID == "" {
		return nil, errors.New("scheduler: Options.PluginID is empty; pass the plugin's id")
	}
	st, err := newStore(opts.DB, opts.Dialect, opts.PluginID)
	if err != nil {
		return nil, fmt.Errorf("scheduler: plugin '%s': %w", opts.PluginID, err)
	}
	s := &Scheduler{store: st, pluginID: opts.PluginID, instance: opts.InstanceID, logger: opts.Logger,
		lease: opts.LeaseDuration, poll: opts.PollInterval, clock: opts.clock,
		stopping: make(chan struct{}), tasks: map[string]*task{}}
	if s.lease == 0 {
		s.lease = DefaultLeaseDuration
	}
	if s.lease < MinLeaseDuration {
		return nil, fmt.Errorf("scheduler: plugin '%s': lease duration %v is too short; use at least %v", opts.PluginID, s.lease, MinLeaseDuration)
	}
	if s.poll == 0 {
		s.poll = DefaultPollInterval
	}
	if s.poll < 0 {
		return nil, fmt.Errorf("scheduler: plugin '%s': poll interval %v is negative; use a positive duration", opts.PluginID, s.poll)
	}
	if s.instance == "" {
		s.instance = defaultInstanceID()
	}
	if s.logger == nil {
		s.logger = discard{}
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if !opts.SkipMigrations {
		if err := Migrations.Migrate(ctx, opts.DB, opts.Dialect); err != nil {
			return nil, fmt.Errorf("scheduler: plugin '%s': migrate the scheduler's table: %w", opts.PluginID, err)
		}
	}
	s.base, s.cancelBase = context.WithCancelCause(context.Background())
	return s, nil
}

func defaultInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "instance"
	}
	return host + "-" + randomHex(4)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// InstanceID returns the name of this instance in the task rows.
func (s *Scheduler) InstanceID() string { return s.instance }

func (s *Scheduler) shuttingDown() bool {
	select {
	case <-s.stopping:
		return true
	default:
		return false
	}
}

// validate checks t and returns it prepared; errors are errs.Input.
func (s *Scheduler) validate(t core.Task) (*task, error) {
	bad := func(format string, args ...any) error {
		return errs.NewInput("Task '%s' of plugin '%s': %s", t.ID, s.pluginID, fmt.Sprintf(format, args...))
	}
	if t.ID == "" {
		return nil, errs.NewInput("A task of plugin '%s' has an empty ID; give every task a non-empty ID of at most %d bytes", s.pluginID, schedspec.MaxIDLength)
	}
	spec, err := schedspec.Validate(t)
	if err != nil {
		return nil, bad("%v", err)
	}
	if t.Scope == "" {
		t.Scope = core.ScopeGlobal
	}
	p := &task{Task: t, wake: make(chan struct{}, 1), every: spec.Every, cron: spec.Cron}
	b, err := json.Marshal(struct {
		Frequency      string `json:"frequency"`
		TimeoutMs      int64  `json:"timeoutMs"`
		InitialDelayMs int64  `json:"initialDelayMs"`
	}{t.Frequency.String(), t.Timeout.Milliseconds(), t.InitialDelay.Milliseconds()})
	if err != nil {
		return nil, err
	}
	p.settings = string(b)
	return p, nil
}

// ScheduleTask implements [core.Scheduler]. A global task's row is
// upserted: if it exists with the same settings its next run time is kept,
// so a restart does not re-run a task that ran recently.
func (s *Scheduler) ScheduleTask(ctx context.Context, t core.Task) error {
	if s.shuttingDown() {
		return errs.NewServiceUnavailable("Task '%s' of plugin '%s' cannot be scheduled: the scheduler is shutting down; schedule tasks from the plugin's init", t.ID, s.pluginID)
	}
	p, err := s.validate(t)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if _, ok := s.tasks[p.ID]; ok {
		s.mu.Unlock()
		return errs.NewConflict("Task '%s' of plugin '%s' is already scheduled; give each task its own ID", p.ID, s.pluginID)
	}
	s.tasks[p.ID] = p // reserve the ID while the row is written
	s.mu.Unlock()
	if p.Scope == core.ScopeGlobal {
		if err := s.store.persist(ctx, p); err != nil {
			s.mu.Lock()
			delete(s.tasks, p.ID)
			s.mu.Unlock()
			return fmt.Errorf("scheduler: plugin '%s': %w", s.pluginID, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shuttingDown() {
		delete(s.tasks, p.ID)
		return errs.NewServiceUnavailable("Task '%s' of plugin '%s' cannot be scheduled: the scheduler is shutting down; schedule tasks from the plugin's init", t.ID, s.pluginID)
	}
	s.wg.Add(1)
	if p.Scope == core.ScopeGlobal {
		go s.globalWorker(p)
	} else {
		p.mu.Lock()
		p.next = s.localFirst(p)
		p.mu.Unlock()
		go s.localWorker(p)
	}
	return nil
}

func (s *Scheduler) task(id string) *task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tasks[id]
}

// TriggerTask implements [core.Scheduler]. A global task can be triggered
// on any instance whose plugin shares the database, also one that did not
// schedule it.
func (s *Scheduler) TriggerTask(ctx context.Context, id string) error {
	p := s.task(id)
	if p != nil && p.Scope == core.ScopeLocal {
		p.mu.Lock()
		running := p.running
		if !running {
			p.next = s.clock()
		}
		p.mu.Unlock()
		if running {
			return errs.NewConflict("Task '%s' of plugin '%s' is currently running; trigger it again once it is done", id, s.pluginID)
		}
		poke(p.wake)
		return nil
	}
	ok, err := s.store.trigger(ctx, id)
	if err != nil {
		return fmt.Errorf("scheduler: plugin '%s': %w", s.pluginID, err)
	}
	if !ok {
		_, exists, err := s.store.get(ctx, id)
		if err != nil {
			return fmt.Errorf("scheduler: plugin '%s': %w", s.pluginID, err)
		}
		if !exists {
			return errs.NewNotFound("Task '%s' of plugin '%s' does not exist; schedule it before triggering it", id, s.pluginID)
		}
		return errs.NewConflict("Task '%s' of plugin '%s' is currently running; trigger it again once it is done", id, s.pluginID)
	}
	if p != nil {
		poke(p.wake)
	}
	return nil
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Tasks implements [core.Scheduler]: global tasks' state comes from the
// database (Running means a live lease on any instance), local tasks' from
// memory.
func (s *Scheduler) Tasks(ctx context.Context) ([]core.TaskState, error) {
	s.mu.Lock()
	tasks := make([]*task, 0, len(s.tasks))
	for _, p := range s.tasks {
		tasks = append(tasks, p)
	}
	s.mu.Unlock()
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].ID < tasks[j].ID })
	var rows map[string]row
	out := make([]core.TaskState, 0, len(tasks))
	for _, p := range tasks {
		st := core.TaskState{ID: p.ID, Scope: p.Scope, Frequency: p.Frequency, Timeout: p.Timeout, InitialDelay: p.InitialDelay}
		if p.Scope == core.ScopeLocal {
			p.mu.Lock()
			st.Running, st.LastRunStartedAt, st.LastRunEndedAt, st.LastError = p.running, p.started, p.ended, p.lastErr
			if !p.running {
				st.NextRunAt = p.next
			}
			p.mu.Unlock()
			out = append(out, st)
			continue
		}
		if rows == nil {
			var err error
			if rows, err = s.store.all(ctx); err != nil {
				return nil, fmt.Errorf("scheduler: plugin '%s': %w", s.pluginID, err)
			}
		}
		if r, ok := rows[p.ID]; ok {
			st.Running = r.running()
			if !st.Running {
				st.NextRunAt = msTime(r.nextRunAt)
			}
			st.LastRunStartedAt, st.LastRunEndedAt = msTime(r.lastRunStartedAt), msTime(r.lastRunEndedAt)
			st.LastError = r.lastError.String
		}
		out = append(out, st)
	}
	return out, nil
}

func msTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// BeginShutdown stops claiming and starting runs. Runs in progress go on
// until [Scheduler.Shutdown].
func (s *Scheduler) BeginShutdown() {
	// Under s.mu: ScheduleTask checks stopping and adds to s.wg under the
	// same lock, so no wg.Add can follow the close (and race wg.Wait).
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopOnce.Do(func() { close(s.stopping) })
}

// Shutdown stops the scheduler: it stops starting runs, cancels the runs
// in progress and waits for them, or for ctx. A global run it interrupts
// (whose function returns an error once cancelled; a nil return is a
// completed run) is released without advancing its next run time, with
// the last error
// "interrupted: instance <id> shut down", so that another instance runs it
// again at once. The database must stay open until Shutdown returns.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.BeginShutdown()
	s.cancelBase(errShutdown)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("scheduler: plugin '%s': tasks still running at shutdown: %w", s.pluginID, ctx.Err())
	}
}

// sleep waits for d, a wake-up, or the start of shutdown; it reports
// whether the worker should go on.
func (s *Scheduler) sleep(d time.Duration, wake <-chan struct{}) bool {
	if d <= 0 {
		return !s.shuttingDown()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-wake:
	case <-s.stopping:
		return false
	}
	return !s.shuttingDown()
}

// call runs the task's function, turning a panic into an error.
func call(ctx context.Context, fn core.TaskFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(ctx)
}

// discard is the logger of a scheduler without one.
type discard struct{}

func (discard) Debug(string, ...any)      {}
func (discard) Info(string, ...any)       {}
func (discard) Warn(string, ...any)       {}
func (discard) Error(string, ...any)      {}
func (d discard) With(...any) core.Logger { return d }
func (discard) Handler() slog.Handler     { return slog.DiscardHandler }
