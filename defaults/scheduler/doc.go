// Package scheduler is the default core.scheduler service: it runs a
// plugin's background tasks, once per period across every instance of the
// backend for a global task, on every instance for a local one.
//
// # How instances agree
//
// Global tasks live in the table greenroom_scheduler_tasks of the plugin's
// own database (created by package migrate, migrations recorded in
// greenroom_scheduler_migrations), one row per plugin and task. Times are
// BIGINT milliseconds since the epoch, and every comparison uses the
// database's clock, computed in SQL, never an instance's: instances whose
// clocks disagree by seconds still run each period exactly once.
//
// An instance starts a run only after one conditional UPDATE gave it a
// lease on it: the task is due and no live lease is held. It renews the
// lease every third of [Options.LeaseDuration] while the run goes on. If
// the instance dies, its lease expires and another instance takes the run
// over: after one lease (default 10s), not after the task's timeout. A
// renewal that finds the claim lost cancels the run's context. Renewals
// stop once the task's timeout has passed and its context is cancelled: a
// function that ignores its context can then be taken over when the lease
// expires, and may run twice.
//
// A run that ends advances the task's next run time (interval: the later
// of the planned start plus the interval and now; cron: the next time of
// the expression; manual: none). A run cancelled by shutdown is released
// without advancing it, so that another instance runs it again at once.
//
// Restarting with the same settings keeps a task's next run time, so a
// task that ran recently does not run again; changed settings take the
// earlier of the stored and the new first run time.
//
// # Using it
//
// [Factory] provides the service to every plugin that declares a
// core.Scheduler dependency; [New] builds one on a *sql.DB without a
// backend. [ReadTaskSchedule] reads a task's schedule from configuration.
// The factory also serves GET /api/<pluginId>/.greenroom/scheduler/v1/tasks,
// to service callers only.
//
// Configuration: backend.scheduler.leaseDuration (default 10s, at least
// 1s) and backend.scheduler.pollInterval (default 5s: a worker re-reads
// its task's row at least this often, to notice triggers and settings
// changed by other instances; it otherwise wakes exactly when the task is
// due or another instance's lease expires).
package scheduler
