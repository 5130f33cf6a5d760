package defaults_test

import (
	"context"
	"fmt"
	"io"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults"
)

func ExampleNew() {
	b := defaults.New(
		defaults.ConfigYAML("built-in", "backend:\n  listen:\n    host: 127.0.0.1\n    port: 0\n"),
		defaults.Env(nil), // ignore GREENROOM_CONFIG_* variables of the environment
		defaults.LogOutput(io.Discard),
	)
	_ = b.Add(backend.NewPlugin("hello", backend.Init(func(ctx context.Context, d struct{ Router core.HTTPRouter }) error {
		d.Router.AddAuthPolicy("/", core.AllowUnauthenticated)
		return nil
	})))
	if err := b.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer b.Stop(context.Background())
	fmt.Println(b.PluginIDs())
	// Output: [hello]
}

func ExampleFactories() {
	// The production factories, to install as defaults of a backend of
	// your own; a factory added with Backend.Add replaces its default.
	for _, f := range defaults.Factories() {
		fmt.Println(f.Ref())
	}
	// Output:
	// serviceRef{core.rootConfig}
	// serviceRef{core.rootLogger}
	// serviceRef{core.logger}
	// serviceRef{core.rootHealth}
	// serviceRef{core.rootHttpRouter}
	// serviceRef{core.httpRouter}
	// serviceRef{core.auth}
	// serviceRef{core.httpAuth}
	// serviceRef{core.userInfo}
	// serviceRef{core.discovery}
	// serviceRef{core.database}
	// serviceRef{core.scheduler}
	// serviceRef{core.cache}
	// serviceRef{core.events}
	// serviceRef{core.permissionPolicy}
	// serviceRef{core.permissions}
	// serviceRef{core.auditor}
	// serviceRef{core.urlReader}
}

func ExampleConfigFiles() {
	// Later files override earlier ones; GREENROOM_CONFIG_* variables override both.
	_ = defaults.New(defaults.ConfigFiles("app-config.yaml", "app-config.local.yaml"))
}

func ExampleConfigYAML() {
	// Configuration built into the binary, loaded before --config files.
	_ = defaults.New(defaults.ConfigYAML("built-in", "backend:\n  listen:\n    port: 7007\n"))
}

func ExampleEnv() {
	// Substitute ${VAR} and apply GREENROOM_CONFIG_* overrides from a
	// given environment instead of the process's.
	_ = defaults.New(defaults.Env([]string{"GREENROOM_CONFIG_backend_listen_port=8080"}))
}

func ExampleLogOutput() {
	_ = defaults.New(defaults.LogOutput(io.Discard))
}
