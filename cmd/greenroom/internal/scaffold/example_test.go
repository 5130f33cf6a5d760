package scaffold_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/greenroom-dev/greenroom/cmd/greenroom/internal/scaffold"
)

// A plugin "tech-radar" and a module of it, in a module example.com/backend.
func Example() {
	dir, err := os.MkdirTemp("", "scaffold-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/backend\n"), 0o644); err != nil {
		fmt.Println(err)
		return
	}

	created, err := scaffold.Plugin(scaffold.PluginOptions{ID: "tech-radar", WorkDir: dir})
	fmt.Println(err)
	for _, p := range created {
		fmt.Println(filepath.ToSlash(p))
	}
	created, err = scaffold.Module(scaffold.ModuleOptions{PluginID: "tech-radar", ID: "github-sync", WorkDir: dir})
	fmt.Println(err)
	for _, p := range created {
		fmt.Println(filepath.ToSlash(p))
	}
	_, err = scaffold.Plugin(scaffold.PluginOptions{ID: "Tech_Radar", WorkDir: dir})
	fmt.Println(err)
	// Output:
	// <nil>
	// plugins/tech-radar/doc.go
	// plugins/tech-radar/plugin.go
	// plugins/tech-radar/plugin_test.go
	// plugins/tech-radar/example_test.go
	// plugins/tech-radar/migrations/sqlite/00001_create_tech_radar_items.sql
	// plugins/tech-radar/migrations/postgres/00001_create_tech_radar_items.sql
	// plugins/tech-radar/migrations/mysql/00001_create_tech_radar_items.sql
	// <nil>
	// plugins/tech-radar-module-github-sync/doc.go
	// plugins/tech-radar-module-github-sync/module.go
	// plugins/tech-radar-module-github-sync/module_test.go
	// plugins/tech-radar-module-github-sync/example_test.go
	// invalid plugin id "Tech_Radar": use lowercase letters and digits in words separated by single dashes, starting with a letter, such as "demo" or "tech-radar"
}
