package mockservices

import (
	"cmp"
	"context"
	"slices"

	"github.com/greenroom-dev/greenroom/core"
)

// InstanceMetadataService is a fake [core.RootInstanceMetadata] for unit
// tests of code that takes one. A backend provides the real service itself
// (from the plugins and modules it was given) and it cannot be replaced, so
// this fake has no factory.
type InstanceMetadataService struct {
	plugins []core.InstalledPlugin
}

var _ core.RootInstanceMetadata = (*InstanceMetadataService)(nil)

// InstanceMetadata returns a fake listing plugins, sorted by id, each
// with its modules sorted, as the backend's service does.
func InstanceMetadata(plugins ...core.InstalledPlugin) *InstanceMetadataService {
	ps := make([]core.InstalledPlugin, len(plugins))
	for i, p := range plugins {
		p.Modules = slices.Sorted(slices.Values(p.Modules))
		if p.Modules == nil {
			p.Modules = []string{}
		}
		ps[i] = p
	}
	slices.SortFunc(ps, func(a, b core.InstalledPlugin) int { return cmp.Compare(a.PluginID, b.PluginID) })
	return &InstanceMetadataService{plugins: ps}
}

// InstalledPlugins returns the plugins, sorted by id.
func (m *InstanceMetadataService) InstalledPlugins(context.Context) ([]core.InstalledPlugin, error) {
	out := make([]core.InstalledPlugin, len(m.plugins))
	for i, p := range m.plugins {
		p.Modules = slices.Clone(p.Modules)
		out[i] = p
	}
	return out, nil
}
