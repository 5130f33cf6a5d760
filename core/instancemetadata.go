package core

import "context"

// RootInstanceMetadataRef is the reference of the instance metadata
// service (root scope). The backend provides it itself, from the plugins
// and modules it was given; it cannot be replaced.
var RootInstanceMetadataRef = NewServiceRef[RootInstanceMetadata]("core.rootInstanceMetadata", WithScope(RootScope))

// InstalledPlugin is a plugin of the backend and its modules.
type InstalledPlugin struct {
	PluginID string `json:"pluginId"`
	// Modules are the ids of the plugin's modules, sorted.
	Modules []string `json:"modules"`
}

// RootInstanceMetadata describes this instance of the backend (service
// "core.rootInstanceMetadata").
type RootInstanceMetadata interface {
	// InstalledPlugins returns the installed plugins, sorted by id.
	InstalledPlugins(ctx context.Context) ([]InstalledPlugin, error)
}
