package scheduler_test

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "modernc.org/sqlite"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/scheduler"
)

// A backend built by package defaults has the scheduler (defaults.Factories
// includes Factory); a plugin asks for it by a core.Scheduler field.
func ExampleFactory() {
	plugin := backend.NewPlugin("reports", backend.Init(func(ctx context.Context, d struct {
		Scheduler core.Scheduler
	}) error {
		return d.Scheduler.ScheduleTask(ctx, core.Task{
			ID:        "nightly-report",
			Frequency: core.Cron("0 3 * * *"),
			Timeout:   10 * time.Minute,
			Fn:        func(ctx context.Context) error { return nil },
		})
	}))
	b := backend.New(backend.WithDefaults(defaults.Factories()...))
	fmt.Println(b.Add(plugin))
	// Output: <nil>
}

// New runs tasks on a database without a backend.
func ExampleNew() {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:example?mode=memory&cache=shared")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	s, err := scheduler.New(ctx, scheduler.Options{DB: db, Dialect: core.DialectSQLite, PluginID: "reports", InstanceID: "example"})
	if err != nil {
		panic(err)
	}
	ran := make(chan struct{})
	err = s.ScheduleTask(ctx, core.Task{ID: "rebuild", Frequency: core.Manual(), Timeout: time.Minute,
		Fn: func(ctx context.Context) error { close(ran); return nil }})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.TriggerTask(ctx, "rebuild"))
	<-ran
	fmt.Println(s.Shutdown(ctx))
	// Output:
	// <nil>
	// <nil>
}

// ReadTaskSchedule lets operators set a task's schedule in configuration.
func ExampleReadTaskSchedule() {
	cfg, err := config.FromMap(map[string]any{"reports": map[string]any{"schedule": map[string]any{
		"frequency": map[string]any{"cron": "0 3 * * *"},
		"timeout":   "10m",
		"scope":     "local",
	}}})
	if err != nil {
		panic(err)
	}
	ts, err := scheduler.ReadTaskSchedule(cfg, "reports.schedule")
	fmt.Println(ts.Frequency, ts.Timeout, ts.Scope, err)

	cfg, _ = config.FromMap(map[string]any{"reports": map[string]any{"schedule": map[string]any{
		"frequency": map[string]any{"every": "1h"}, "timeout": "1m", "scope": "everywhere",
	}}})
	_, err = scheduler.ReadTaskSchedule(cfg, "reports.schedule")
	fmt.Println(err)
	// Output:
	// cron 0 3 * * * 10m0s local <nil>
	// config key "reports.schedule.scope": Only "global" or "local" are allowed for scope, but got: everywhere
}
