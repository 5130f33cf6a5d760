package backend

import (
	"context"
	"slices"

	"github.com/greenroom-dev/greenroom/core"
)

// instanceMetadata implements core.RootInstanceMetadata, built into the
// backend: it lists the plugins and modules given to Backend.Add, which
// cannot change once the backend has started.
type instanceMetadata struct{ b *Backend }

// InstalledPlugins returns the added plugins sorted by id, each with the
// ids of its added modules, sorted. Modules of a plugin that was not added
// are not listed (Start refuses them).
func (m instanceMetadata) InstalledPlugins(context.Context) ([]core.InstalledPlugin, error) {
	b := m.b
	b.mu.Lock()
	defer b.mu.Unlock()
	modules := make(map[string][]string)
	var ids []string
	for _, f := range b.features {
		switch f := f.(type) {
		case *Plugin:
			if f != nil && !slices.Contains(ids, f.id) {
				ids = append(ids, f.id)
			}
		case *Module:
			if f != nil && !slices.Contains(modules[f.pluginID], f.moduleID) {
				modules[f.pluginID] = append(modules[f.pluginID], f.moduleID)
			}
		}
	}
	slices.Sort(ids)
	out := make([]core.InstalledPlugin, len(ids))
	for i, id := range ids {
		ms := append([]string{}, modules[id]...)
		slices.Sort(ms)
		out[i] = core.InstalledPlugin{PluginID: id, Modules: ms}
	}
	return out, nil
}
