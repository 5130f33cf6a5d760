package scheduler

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/migrate"
)

// Factory returns the factory of the core.scheduler service: a [Scheduler]
// per plugin on the plugin's own database, whose table is migrated with
// package migrate (also with backend.database.skipMigrations, which is
// about the plugin's own migrations: the table is the framework's). It reads
// backend.scheduler.leaseDuration (default 10s, at least 1s) and
// backend.scheduler.pollInterval (default 5s), serves GET
// /api/<pluginId>/.greenroom/scheduler/v1/tasks to service callers, stops
// claiming runs when the backend begins to shut down, and in the plugin's
// shutdown hook cancels the runs in progress, waits for them and releases
// them to the other instances.
func Factory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(core.SchedulerRef, func(ctx context.Context, d struct {
		Database      core.Database
		Logger        core.Logger
		Lifecycle     core.Lifecycle
		RootLifecycle core.RootLifecycle
		Router        core.HTTPRouter
		HTTPAuth      core.HTTPAuth
		Plugin        core.PluginMetadata
		Config        core.RootConfig
	}) (core.Scheduler, error) {
		id := d.Plugin.ID()
		wrap := func(err error) error {
			return fmt.Errorf("scheduler: plugin '%s': %w", id, err)
		}
		lease, poll, err := settingsFromConfig(d.Config)
		if err != nil {
			return nil, wrap(err)
		}
		db, err := d.Database.DB(ctx)
		if err != nil {
			return nil, wrap(fmt.Errorf("open the plugin's database: %w", err))
		}
		// The table is the framework's, not the plugin's: it is created
		// even when backend.database.skipMigrations is set, as the auth
		// key table is; otherwise every ScheduleTask would fail.
		if err := migrate.Up(ctx, frameworkTables{d.Database}, migrationFiles, migrate.Dir("migrations"), migrate.Table(MigrationsTable)); err != nil {
			return nil, wrap(fmt.Errorf("migrate the scheduler's table: %w", err))
		}
		s, err := New(ctx, Options{DB: db, Dialect: d.Database.Dialect(), PluginID: id, Logger: d.Logger,
			LeaseDuration: lease, PollInterval: poll, SkipMigrations: true})
		if err != nil {
			return nil, err
		}
		if err := d.RootLifecycle.AddBeforeShutdownHook(func(context.Context) error { s.BeginShutdown(); return nil }); err != nil {
			return nil, wrap(err)
		}
		if err := d.Lifecycle.AddShutdownHook(s.Shutdown); err != nil {
			return nil, wrap(err)
		}
		d.Router.Handle("GET "+TasksPath, s.Handler(d.HTTPAuth))
		return s, nil
	})
}

// frameworkTables is the plugin's database with MigrationsSkipped false.
type frameworkTables struct{ core.Database }

func (frameworkTables) MigrationsSkipped() bool { return false }
