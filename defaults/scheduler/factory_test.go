package scheduler_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/scheduler"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// reportPlugin schedules one manual task and one local hourly task.
var reportPlugin = backend.NewPlugin("reports", backend.Init(func(ctx context.Context, d struct {
	Scheduler core.Scheduler
}) error {
	noop := func(context.Context) error { return nil }
	if err := d.Scheduler.ScheduleTask(ctx, core.Task{ID: "build", Fn: noop, Frequency: core.Manual(), Timeout: 90 * time.Second}); err != nil {
		return err
	}
	return d.Scheduler.ScheduleTask(ctx, core.Task{ID: "cleanup", Fn: noop, Frequency: core.Every(time.Hour), Timeout: time.Minute,
		InitialDelay: time.Hour, Scope: core.ScopeLocal})
}))

func TestTasksEndpoint(t *testing.T) {
	t.Parallel()
	tb := testbackend.Start(t, reportPlugin, scheduler.Factory(), mockservices.DatabaseFactory(t))
	const path = "/api/reports" + scheduler.TasksPath

	var body scheduler.TasksResponse
	tb.Get(path).AsService("plugin:catalog").Do(t).ExpectStatus(t, http.StatusOK).DecodeJSON(t, &body)
	if len(body.Tasks) != 2 {
		t.Fatalf("tasks = %+v, want build and cleanup", body.Tasks)
	}
	build, cleanup := body.Tasks[0], body.Tasks[1]
	if build.ID != "build" || build.Scope != "global" || build.Frequency != "manual" || build.TimeoutSeconds != 90 || build.Running || build.NextRunAt != "" {
		t.Errorf("build = %+v", build)
	}
	if cleanup.ID != "cleanup" || cleanup.Scope != "local" || cleanup.Frequency != "every 1h0m0s" || cleanup.InitialDelaySeconds != 3600 || cleanup.NextRunAt == "" {
		t.Errorf("cleanup = %+v", cleanup)
	}
	if _, err := time.Parse(time.RFC3339, cleanup.NextRunAt); err != nil {
		t.Errorf("nextRunAt %q is not RFC 3339: %v", cleanup.NextRunAt, err)
	}

	tb.Get(path).AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusForbidden)
	tb.Get(path).WithoutCredentials().Do(t).ExpectStatus(t, http.StatusUnauthorized)
}

func TestFactoryConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		config map[string]any
	}{
		{"a lease under 1s", map[string]any{"backend": map[string]any{"scheduler": map[string]any{"leaseDuration": "500ms"}}}},
		{"a zero poll interval", map[string]any{"backend": map[string]any{"scheduler": map[string]any{"pollInterval": "0s"}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := testbackend.New(testbackend.WithConfig(c.config)).TryStart(t, reportPlugin, scheduler.Factory(), mockservices.DatabaseFactory(t))
			if err == nil {
				t.Fatal("the backend started, want a config error")
			}
			if want := "backend.scheduler."; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name the config key", err)
			}
		})
	}
}

// The scheduler's table is the framework's: it is created even when the
// plugin's migrations are skipped, and tasks can be scheduled.
func TestFactoryMigratesDespiteSkipMigrations(t *testing.T) {
	t.Parallel()
	tb := testbackend.Start(t, reportPlugin, scheduler.Factory(), mockservices.DatabaseFactory(t, mockservices.WithMigrationsSkipped()))
	var body scheduler.TasksResponse
	tb.Get("/api/reports"+scheduler.TasksPath).AsService("plugin:catalog").Do(t).ExpectStatus(t, http.StatusOK).DecodeJSON(t, &body)
	if len(body.Tasks) != 2 {
		t.Fatalf("tasks = %+v, want build and cleanup", body.Tasks)
	}
}
