package backend_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

func TestInstanceMetadataListsAddedPluginsAndModules(t *testing.T) {
	t.Parallel()
	var seen []core.InstalledPlugin
	b := backend.New()
	err := b.Add(
		backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d struct{ M core.RootInstanceMetadata }) error {
			var err error
			seen, err = d.M.InstalledPlugins(ctx)
			return err
		})),
		backend.NewModule("todo", "zeta", backend.Init(noop)),
		backend.NewPlugin("catalog", backend.Init(noop)),
		backend.NewModule("todo", "alpha", backend.Init(noop)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	want := []core.InstalledPlugin{
		{PluginID: "catalog", Modules: []string{}},
		{PluginID: "todo", Modules: []string{"alpha", "zeta"}},
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("InstalledPlugins() in the plugin's init (-want +got):\n%s", diff)
	}
	m, err := backend.Resolve(t.Context(), b, core.RootInstanceMetadataRef, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.InstalledPlugins(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("InstalledPlugins() after Start (-want +got):\n%s", diff)
	}
	// The result is the caller's: changing it changes nothing.
	got[1].Modules[0] = "changed"
	again, _ := m.InstalledPlugins(t.Context())
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("InstalledPlugins() after the caller changed a result (-want +got):\n%s", diff)
	}
}

func TestInstanceMetadataCannotBeReplaced(t *testing.T) {
	t.Parallel()
	fake := backend.NewRootServiceFactory(core.RootInstanceMetadataRef, func(context.Context, struct{}) (core.RootInstanceMetadata, error) {
		return nil, errors.New("never called")
	})
	for _, tc := range []struct {
		name string
		b    func() *backend.Backend
		want string
	}{
		{"WithDefaults", func() *backend.Backend { return backend.New(backend.WithDefaults(fake)) }, "remove its factory (declared at"},
		{"Add", func() *backend.Backend {
			b := backend.New()
			if err := b.Add(fake); err != nil {
				t.Fatal(err)
			}
			return b
		}, "from backend.Add"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := tc.b()
			if err := b.Add(backend.NewPlugin("todo", backend.Init(noop))); err != nil {
				t.Fatal(err)
			}
			err := b.Start(t.Context())
			t.Cleanup(func() { _ = b.Stop(context.Background()) })
			var we *backend.WiringError
			if !errors.As(err, &we) {
				t.Fatalf("Start() = %v, want a *backend.WiringError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "serviceRef{core.rootInstanceMetadata} is built into the backend and cannot be replaced") || !strings.Contains(msg, tc.want) {
				t.Errorf("Start() = %q; want it to say core.rootInstanceMetadata cannot be replaced and %q", msg, tc.want)
			}
		})
	}
}
