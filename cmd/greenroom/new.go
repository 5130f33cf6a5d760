package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/greenroom-dev/greenroom/cmd/greenroom/internal/scaffold"
)

// scaffolders write the files of "greenroom new"; tests of the wiring
// replace them.
type scaffolders struct {
	plugin func(scaffold.PluginOptions) ([]string, error)
	module func(scaffold.ModuleOptions) ([]string, error)
}

// realScaffolders are the scaffolders of package scaffold.
func realScaffolders() scaffolders {
	return scaffolders{plugin: scaffold.Plugin, module: scaffold.Module}
}

func newNewCommand(s scaffolders) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Create a plugin or a module in the current Go module",
		Long: "New writes the files of a new plugin or module into the Go module of the working directory.\n" +
			"It refuses to overwrite files and writes nothing when any file exists.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("name what to create: 'greenroom new plugin --id <id>' or 'greenroom new module --plugin <id> --id <module>'")
		},
	}

	var p scaffold.PluginOptions
	plugin := &cobra.Command{
		Use:   "plugin --id <id> [--dir <dir>]",
		Short: "Create a plugin package: plugin, router, migrations and tests",
		Long: "Plugin creates the package of a new plugin (by default plugins/<id>): the plugin, its router,\n" +
			"migrations for SQLite, PostgreSQL and MySQL/MariaDB, and tests that use testbackend and\n" +
			"testdatabases. An id is lowercase letters and digits in words separated by single dashes.",
		Example: "  greenroom new plugin --id demo\n  greenroom new plugin --id tech-radar --dir internal/plugins/radar",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if p.ID == "" {
				return usagef("--id is required: name the plugin, such as --id demo")
			}
			p.WorkDir = "."
			files, err := s.plugin(p)
			if err != nil {
				return err
			}
			dir := p.Dir
			if dir == "" {
				dir = "plugins/" + p.ID
			}
			printCreated(cmd.OutOrStdout(), files, dir)
			return nil
		},
	}
	plugin.Flags().StringVar(&p.ID, "id", "", "plugin `id`, such as demo (required)")
	plugin.Flags().StringVar(&p.Dir, "dir", "", "`directory` of the package (default plugins/<id>)")
	_ = plugin.MarkFlagDirname("dir")

	var m scaffold.ModuleOptions
	module := &cobra.Command{
		Use:     "module --plugin <id> --id <module> [--dir <dir>]",
		Short:   "Create a module package that extends a plugin",
		Long:    "Module creates the package of a new module of a plugin (by default plugins/<plugin>-module-<id>).",
		Example: "  greenroom new module --plugin demo --id audit",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if m.PluginID == "" {
				return usagef("--plugin is required: name the plugin the module extends, such as --plugin demo")
			}
			if m.ID == "" {
				return usagef("--id is required: name the module, such as --id audit")
			}
			m.WorkDir = "."
			files, err := s.module(m)
			if err != nil {
				return err
			}
			dir := m.Dir
			if dir == "" {
				dir = "plugins/" + m.PluginID + "-module-" + m.ID
			}
			printCreated(cmd.OutOrStdout(), files, dir)
			return nil
		},
	}
	module.Flags().StringVar(&m.PluginID, "plugin", "", "`id` of the plugin the module extends (required)")
	module.Flags().StringVar(&m.ID, "id", "", "module `id`, such as audit (required)")
	module.Flags().StringVar(&m.Dir, "dir", "", "`directory` of the package (default plugins/<plugin>-module-<id>)")
	_ = module.MarkFlagDirname("dir")

	cmd.AddCommand(plugin, module)
	return cmd
}

// printCreated lists the created files and what to run next.
func printCreated(w io.Writer, files []string, dir string) {
	fmt.Fprintln(w, "Created:")
	for _, f := range files {
		fmt.Fprintf(w, "  %s\n", f)
	}
	fmt.Fprintf(w, "\nNext steps:\n  go mod tidy\n  go test ./%s/...\n", dir)
}
