package servicetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
)

// TestInstanceMetadata checks an implementation of
// [core.RootInstanceMetadata]: InstalledPlugins lists the plugins sorted by
// id, each with its modules sorted (an empty list, not nil, for none), and
// returns a copy that the caller may change.
//
// newMetadata returns the metadata of a backend that has the given
// plugins, each with the given modules, added in the given order.
func TestInstanceMetadata(t *testing.T, newMetadata func(t *testing.T, plugins []core.InstalledPlugin) core.RootInstanceMetadata) {
	t.Helper()
	ctx := context.Background()
	added := []core.InstalledPlugin{
		{PluginID: "todo", Modules: []string{"zeta", "alpha"}},
		{PluginID: "catalog"},
		{PluginID: "search", Modules: []string{"index"}},
	}
	want := []core.InstalledPlugin{
		{PluginID: "catalog", Modules: []string{}},
		{PluginID: "search", Modules: []string{"index"}},
		{PluginID: "todo", Modules: []string{"alpha", "zeta"}},
	}

	t.Run("plugins and modules are sorted", func(t *testing.T) {
		m := newMetadata(t, added)
		got, err := m.InstalledPlugins(ctx)
		if err != nil {
			t.Fatalf("InstalledPlugins() = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("InstalledPlugins() (-want +got):\n%s", diff)
		}
		if len(got) > 0 && got[0].Modules == nil {
			t.Errorf("InstalledPlugins(): a plugin without modules has nil Modules; want an empty list (JSON [])")
		}
	})

	t.Run("the result is the caller's", func(t *testing.T) {
		m := newMetadata(t, added)
		got, err := m.InstalledPlugins(ctx)
		if err != nil || len(got) != len(want) {
			t.Fatalf("InstalledPlugins() = %v, %v", got, err)
		}
		got[2].Modules[0] = "changed"
		got[0].PluginID = "changed"
		again, err := m.InstalledPlugins(ctx)
		if err != nil {
			t.Fatalf("InstalledPlugins() = %v", err)
		}
		if diff := cmp.Diff(want, again); diff != "" {
			t.Errorf("InstalledPlugins() after the caller changed a result (-want +got):\n%s", diff)
		}
	})
}
