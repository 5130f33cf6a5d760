package testbackend_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// Greeter is a custom plugin service: it greets in the configured way and
// logs what it does.
type Greeter interface {
	Greet(name string) string
}

var greeterRef = core.NewServiceRef[Greeter]("test.greeter")

type greeter struct {
	pluginID, greeting string
	log                core.Logger
}

func (g greeter) Greet(name string) string {
	g.log.Info("greeting", "name", name)
	return fmt.Sprintf("%s, %s, from %s", g.greeting, name, g.pluginID)
}

// greeterFactory reads the greeting once per backend (its root context) and
// builds a greeter per plugin.
var greeterFactory = backend.NewPluginServiceFactoryWithContext(greeterRef,
	func(ctx context.Context, d struct{ Config core.RootConfig }) (string, error) {
		g, ok, err := d.Config.OptionalString("greeter.greeting")
		if err != nil {
			return "", err
		}
		if !ok {
			g = "Hello"
		}
		return g, nil
	},
	func(ctx context.Context, greeting string, d struct {
		Logger core.Logger
		Plugin core.PluginMetadata
	}) (Greeter, error) {
		return greeter{pluginID: d.Plugin.ID(), greeting: greeting, log: d.Logger}, nil
	})

func TestFactoryTester(t *testing.T) {
	tests := []struct {
		name      string
		opts      []testbackend.Option
		factories []*backend.ServiceFactory
		pluginID  string
		want      string
	}{
		{name: "defaults", pluginID: "catalog", want: "Hello, Ada, from catalog"},
		{name: "another plugin", pluginID: "search", want: "Hello, Ada, from search"},
		{
			name:     "config option",
			opts:     []testbackend.Option{testbackend.WithConfig(map[string]any{"greeter.greeting": "Howdy"})},
			pluginID: "catalog",
			want:     "Howdy, Ada, from catalog",
		},
		{
			name:      "dependency factory",
			factories: []*backend.ServiceFactory{mockservices.ConfigFactory(map[string]any{"greeter": map[string]any{"greeting": "Hi"}})},
			pluginID:  "catalog",
			want:      "Hi, Ada, from catalog",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := testbackend.New(tt.opts...).NewFactoryTester(t, greeterFactory, tt.factories...)
			g := testbackend.Service(t, ft, greeterRef, tt.pluginID)
			if got := g.Greet("Ada"); got != tt.want {
				t.Errorf("Greet = %q, want %q", got, tt.want)
			}
			log := testbackend.Service(t, ft, core.RootLoggerRef, "").(*mockservices.LoggerService)
			if !log.Contains("greeting", "plugin", tt.pluginID, "name", "Ada") {
				t.Errorf("no greeting record; records: %v", log.Records())
			}
		})
	}
}

func TestFactoryTesterMisuse(t *testing.T) {
	tests := []struct {
		name      string
		subject   *backend.ServiceFactory
		opts      []testbackend.Option
		factories []*backend.ServiceFactory
		want      string
	}{
		{name: "nil subject", want: "the subject factory is nil"},
		{name: "second subject", subject: greeterFactory, factories: []*backend.ServiceFactory{greeterFactory}, want: "is the subject's service"},
		{name: "bad option", subject: greeterFactory, opts: []testbackend.Option{testbackend.WithConfig(map[string]any{".": 1})}, want: "WithConfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := record(t, func(ft testing.TB) { testbackend.New(tt.opts...).NewFactoryTester(ft, tt.subject, tt.factories...) })
			if !f.fatal || !strings.Contains(f.output(), tt.want) {
				t.Fatalf("output %q (fatal %v), want a fatal failure containing %q", f.output(), f.fatal, tt.want)
			}
		})
	}
}
