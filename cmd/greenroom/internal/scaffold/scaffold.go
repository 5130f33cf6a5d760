// Package scaffold writes the files of a new Greenroom plugin or module
// into an existing Go module: the code behind "greenroom new plugin" and
// "greenroom new module".
package scaffold

import "errors"

// PluginOptions describe a new plugin package.
type PluginOptions struct {
	// ID is the plugin id, such as "demo" or "tech-radar": lowercase
	// letters and digits in words separated by single dashes, starting
	// with a letter.
	ID string
	// Dir is the directory of the new package, relative to WorkDir or
	// absolute. Empty means "plugins/<id>".
	Dir string
	// WorkDir is the directory the command runs in, inside a Go module
	// (a go.mod in it or a parent). Empty means the current directory.
	WorkDir string
}

// ModuleOptions describe a new module of a plugin.
type ModuleOptions struct {
	// PluginID is the id of the plugin the module extends.
	PluginID string
	// ID is the module id, with the same rules as a plugin id.
	ID string
	// Dir is the directory of the new package, relative to WorkDir or
	// absolute. Empty means "plugins/<plugin>-module-<id>".
	Dir string
	// WorkDir is as in PluginOptions.
	WorkDir string
}

// errNotYet is returned until the templates land.
var errNotYet = errors.New("scaffold: not implemented yet")

// Plugin writes a new plugin package and returns the paths of the files it
// created, relative to WorkDir. It writes nothing when any file exists.
func Plugin(opts PluginOptions) ([]string, error) { return nil, errNotYet }

// Module writes a new module package and returns the paths of the files it
// created, relative to WorkDir. It writes nothing when any file exists.
func Module(opts ModuleOptions) ([]string, error) { return nil, errNotYet }
