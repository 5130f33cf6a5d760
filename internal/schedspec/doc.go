// Package schedspec is the one definition of what a scheduled task may
// be, shared by the production scheduler (defaults/scheduler) and its fake
// (mockservices), so that a task the fake accepts is one production
// accepts, and a cron expression is due at the same times in both.
//
// Cron expressions are read in UTC, whatever the machine's local time
// zone, unless they start with CRON_TZ=<zone> (or TZ=<zone>), as
// core.Cron documents.
package schedspec
