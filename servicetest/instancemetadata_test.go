package servicetest_test

import (
	"context"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/servicetest"
)

// TestInstanceMetadata runs the suite on the backend's built-in service.
func TestInstanceMetadata(t *testing.T) {
	t.Parallel()
	servicetest.TestInstanceMetadata(t, engineInstanceMetadata)
}

func engineInstanceMetadata(t *testing.T, plugins []core.InstalledPlugin) core.RootInstanceMetadata {
	noop := func(context.Context, struct{}) error { return nil }
	b := backend.New()
	for _, p := range plugins {
		if err := b.Add(backend.NewPlugin(p.PluginID, backend.Init(noop))); err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Modules {
			if err := b.Add(backend.NewModule(p.PluginID, m, backend.Init(noop))); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := backend.Resolve(t.Context(), b, core.RootInstanceMetadataRef, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}
