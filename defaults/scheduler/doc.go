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
// lease every third of [Options.LeaseDuration] until the function returns
// and the run is released: also after the run's context was cancelled (by
// the timeout or a shutdown), so that a function winding down is never run
// alongside by another instance. A function that never returns therefore
// holds its task: the task's Running stays true (as the tasks endpoint
// shows) and no instance runs it until this one stops. If the instance
// dies, its lease expires and another instance takes the run over: after
// one lease (default 10s), not after the task's timeout. A renewal that
// finds the claim lost cancels the run's context; so does an owner that
// could not renew for two thirds of a lease (it cannot reach the
// database), before the lease may expire and the run be taken over.
//
// A run that ends advances the task's next run time (interval: the later
// of the planned start plus the interval and now; cron: the next time of
// the expression in UTC, unless it starts with CRON_TZ=<zone>; manual:
// none). A run that failed because shutdown cancelled it is released
// without advancing it, so that another instance runs it again at once; a
// run that returned nil is complete, even during shutdown. A release that
// fails is retried while the lease is held, and an error text is stored
// as valid UTF-8 without NUL bytes, cut to 8 KiB.
//
// The table is the framework's: [Factory] migrates it even when
// backend.database.skipMigrations is set, which is about the plugin's own
// migrations.
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
