package scaffold_test

import (
	"go/format"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/cmd/greenroom/internal/scaffold"
)

// newModule returns a temporary directory holding a go.mod of modPath.
func newModule(t *testing.T, modPath string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module "+modPath+"\n\ngo 1.26\n")
	return dir
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tree lists the files under dir, relative to it.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestInvalidIDs(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "Demo_1", "Demo", "1demo", "-demo", "demo-", "tech--radar", "tech_radar", "tech radar", "démo", "tech.radar"} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			dir := newModule(t, "example.com/m")
			for _, c := range []struct {
				kind string
				call func() ([]string, error)
			}{
				{"plugin", func() ([]string, error) { return scaffold.Plugin(scaffold.PluginOptions{ID: id, WorkDir: dir}) }},
				{"plugin", func() ([]string, error) {
					return scaffold.Module(scaffold.ModuleOptions{PluginID: id, ID: "extra", WorkDir: dir})
				}},
				{"module", func() ([]string, error) {
					return scaffold.Module(scaffold.ModuleOptions{PluginID: "demo", ID: id, WorkDir: dir})
				}},
			} {
				created, err := c.call()
				if err == nil {
					t.Fatalf("%s id %q accepted, created %v", c.kind, id, created)
				}
				want := `invalid ` + c.kind + ` id "` + id + `": use lowercase letters and digits in words separated by single dashes, starting with a letter, such as "demo" or "tech-radar"`
				if err.Error() != want {
					t.Errorf("error\n%s\nwant\n%s", err, want)
				}
			}
			if got := tree(t, dir); !slices.Equal(got, []string{"go.mod"}) {
				t.Errorf("files after refusals: %v, want only go.mod", got)
			}
		})
	}
}

func TestBothModuleIDsInvalid(t *testing.T) {
	t.Parallel()
	_, err := scaffold.Module(scaffold.ModuleOptions{PluginID: "Bad", ID: "Worse", WorkDir: newModule(t, "example.com/m")})
	if err == nil || !strings.Contains(err.Error(), `invalid plugin id "Bad"`) || !strings.Contains(err.Error(), `invalid module id "Worse"`) {
		t.Errorf("error %v, want it to name both ids", err)
	}
}

func TestTooLongPluginID(t *testing.T) {
	t.Parallel()
	dir := newModule(t, "example.com/m")
	id := longestID() + "x"
	created, err := scaffold.Plugin(scaffold.PluginOptions{ID: id, WorkDir: dir})
	if err == nil || !strings.Contains(err.Error(), "at most 51 characters") || len(created) > 0 {
		t.Fatalf("Plugin(%d characters) = %v, %v; want an error naming the limit", len(id), created, err)
	}
	if files := tree(t, dir); !slices.Equal(files, []string{"go.mod"}) {
		t.Errorf("files after the refusal: %v", files)
	}
}

// TestAwkwardPackageNames checks the names of the generated packages and
// imports for ids that are Go keywords or names the generated files use.
func TestAwkwardPackageNames(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ id, clause, spec string }{
		{"func", "package funcplugin\n", `funcplugin "example.com/m/plugins/func"`},
		{"main", "package mainplugin\n", `mainplugin "example.com/m/plugins/main"`},
		{"testing", "package testing\n", `testingplugin "example.com/m/plugins/testing"`},
		{"t", "package t\n", `tplugin "example.com/m/plugins/t"`},
		{"string", "package string\n", `stringplugin "example.com/m/plugins/string"`},
		{"demo", "package demo\n", "\t\"example.com/m/plugins/demo\"\n"},
	} {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel()
			dir := newModule(t, "example.com/m")
			if _, err := scaffold.Plugin(scaffold.PluginOptions{ID: c.id, WorkDir: dir}); err != nil {
				t.Fatal(err)
			}
			pkgDir := filepath.Join(dir, "plugins", c.id)
			if got := readFile(t, filepath.Join(pkgDir, "plugin.go")); !strings.Contains(got, c.clause) {
				t.Errorf("plugin.go lacks %q:\n%s", c.clause, got)
			}
			for _, f := range []string{"plugin_test.go", "example_test.go"} {
				if got := readFile(t, filepath.Join(pkgDir, f)); !strings.Contains(got, c.spec) {
					t.Errorf("%s lacks the import %q:\n%s", f, c.spec, got)
				}
			}
		})
	}
}

func TestPlugin(t *testing.T) {
	t.Parallel()
	dir := newModule(t, "example.com/backend")
	created, err := scaffold.Plugin(scaffold.PluginOptions{ID: "tech-radar", WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"plugins/tech-radar/doc.go",
		"plugins/tech-radar/plugin.go",
		"plugins/tech-radar/plugin_test.go",
		"plugins/tech-radar/example_test.go",
		"plugins/tech-radar/migrations/sqlite/00001_create_tech_radar_items.sql",
		"plugins/tech-radar/migrations/postgres/00001_create_tech_radar_items.sql",
		"plugins/tech-radar/migrations/mysql/00001_create_tech_radar_items.sql",
	}
	for i := range want {
		want[i] = filepath.FromSlash(want[i])
	}
	if !slices.Equal(created, want) {
		t.Errorf("created\n%v\nwant\n%v", created, want)
	}
	pkgDir := filepath.Join(dir, "plugins", "tech-radar")
	plugin := readFile(t, filepath.Join(pkgDir, "plugin.go"))
	for _, s := range []string{"package techradar\n", `const PluginID = "tech-radar"`, "FROM tech_radar_items"} {
		if !strings.Contains(plugin, s) {
			t.Errorf("plugin.go lacks %q", s)
		}
	}
	if test := readFile(t, filepath.Join(pkgDir, "plugin_test.go")); !strings.Contains(test, "package techradar_test\n") || !strings.Contains(test, `"example.com/backend/plugins/tech-radar"`) {
		t.Errorf("plugin_test.go has the wrong package or import path:\n%s", test)
	}
	for _, name := range created {
		if filepath.Ext(name) != ".go" {
			continue
		}
		src := readFile(t, filepath.Join(dir, name))
		formatted, err := format.Source([]byte(src))
		if err != nil || string(formatted) != src {
			t.Errorf("%s is not gofmt-formatted (err %v)", name, err)
		}
	}
	for _, engine := range []string{"sqlite", "postgres", "mysql"} {
		m := readFile(t, filepath.Join(pkgDir, "migrations", engine, "00001_create_tech_radar_items.sql"))
		if !strings.HasPrefix(m, "-- +goose Up\nCREATE TABLE tech_radar_items (") {
			t.Errorf("%s migration:\n%s", engine, m)
		}
	}
}

func TestPluginInSubdirectoryOfTheModule(t *testing.T) {
	t.Parallel()
	root := newModule(t, "example.com/backend")
	work := filepath.Join(root, "services", "api")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := scaffold.Plugin(scaffold.PluginOptions{ID: "demo", WorkDir: work}); err != nil {
		t.Fatal(err)
	}
	test := readFile(t, filepath.Join(work, "plugins", "demo", "plugin_test.go"))
	if !strings.Contains(test, `"example.com/backend/services/api/plugins/demo"`) {
		t.Errorf("plugin_test.go does not import the package's path from the enclosing go.mod:\n%s", test)
	}
}

func TestCustomDir(t *testing.T) {
	t.Parallel()
	dir := newModule(t, "example.com/backend")
	created, err := scaffold.Plugin(scaffold.PluginOptions{ID: "demo", Dir: "internal/demoplugin", WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.FromSlash("internal/demoplugin/plugin.go"); !slices.Contains(created, want) {
		t.Errorf("created %v, want %s among them", created, want)
	}
	test := readFile(t, filepath.Join(dir, "internal", "demoplugin", "plugin_test.go"))
	if !strings.Contains(test, `"example.com/backend/internal/demoplugin"`) {
		t.Errorf("wrong import path in plugin_test.go:\n%s", test)
	}
	// The package name comes from the id, not the directory.
	if !strings.Contains(readFile(t, filepath.Join(dir, "internal", "demoplugin", "plugin.go")), "package demo\n") {
		t.Error("plugin.go is not package demo")
	}

	// An absolute directory works too; one outside the module is refused.
	abs := filepath.Join(dir, "abs")
	if _, err := scaffold.Plugin(scaffold.PluginOptions{ID: "demo", Dir: abs, WorkDir: dir}); err != nil {
		t.Errorf("absolute --dir inside the module: %v", err)
	}
	outside := t.TempDir()
	_, err = scaffold.Plugin(scaffold.PluginOptions{ID: "demo", Dir: outside, WorkDir: dir})
	if err == nil || !strings.Contains(err.Error(), "outside the Go module example.com/backend") {
		t.Errorf("--dir outside the module: error %v, want it to say so", err)
	}
	if got := tree(t, outside); len(got) != 0 {
		t.Errorf("files written outside the module: %v", got)
	}
}

func TestNoGoMod(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() // t.TempDir's parents hold no go.mod
	for _, call := range []func() ([]string, error){
		func() ([]string, error) { return scaffold.Plugin(scaffold.PluginOptions{ID: "demo", WorkDir: dir}) },
		func() ([]string, error) {
			return scaffold.Module(scaffold.ModuleOptions{PluginID: "demo", ID: "extra", WorkDir: dir})
		},
	} {
		_, err := call()
		if err == nil || !strings.Contains(err.Error(), "no go.mod in "+dir) || !strings.Contains(err.Error(), "run `go mod init <module path>` first") {
			t.Errorf("error %v, want it to tell to run go mod init", err)
		}
	}
	if got := tree(t, dir); len(got) != 0 {
		t.Errorf("files written without a go.mod: %v", got)
	}
}

func TestRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	dir := newModule(t, "example.com/backend")
	existing := filepath.Join(dir, "plugins", "demo", "migrations", "mysql", "00001_create_demo_items.sql")
	writeFile(t, existing, "mine")
	writeFile(t, filepath.Join(dir, "plugins", "demo", "plugin.go"), "package mine")

	created, err := scaffold.Plugin(scaffold.PluginOptions{ID: "demo", WorkDir: dir})
	if err == nil {
		t.Fatalf("existing files overwritten; created %v", created)
	}
	for _, name := range []string{"plugins/demo/plugin.go", "plugins/demo/migrations/mysql/00001_create_demo_items.sql"} {
		if !strings.Contains(err.Error(), filepath.FromSlash(name)) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if got, want := tree(t, dir), []string{"go.mod", "plugins/demo/migrations/mysql/00001_create_demo_items.sql", "plugins/demo/plugin.go"}; !slices.Equal(got, want) {
		t.Errorf("files after the refusal: %v, want %v", got, want)
	}
	if readFile(t, existing) != "mine" {
		t.Error("the existing migration changed")
	}
}

// TestFailureMidwayRemovesWhatWasWritten makes the last file's directory
// impossible to create (a file stands where it goes) and checks that the
// files and directories written before are removed.
func TestFailureMidwayRemovesWhatWasWritten(t *testing.T) {
	t.Parallel()
	dir := newModule(t, "example.com/backend")
	writeFile(t, filepath.Join(dir, "plugins", "demo", "migrations", "mysql"), "a file, not a directory")

	if _, err := scaffold.Plugin(scaffold.PluginOptions{ID: "demo", WorkDir: dir}); err == nil {
		t.Fatal("no error")
	}
	if got, want := tree(t, dir), []string{"go.mod", "plugins/demo/migrations/mysql"}; !slices.Equal(got, want) {
		t.Errorf("files after the failure: %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "plugins", "demo", "migrations", "sqlite")); err == nil {
		t.Error("the directory migrations/sqlite created before the failure is left")
	}
}

func TestModule(t *testing.T) {
	t.Parallel()
	dir := newModule(t, "example.com/backend")
	created, err := scaffold.Module(scaffold.ModuleOptions{PluginID: "tech-radar", ID: "github-sync", WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"doc.go", "module.go", "module_test.go", "example_test.go"}
	for i := range want {
		want[i] = filepath.Join("plugins", "tech-radar-module-github-sync", want[i])
	}
	if !slices.Equal(created, want) {
		t.Errorf("created\n%v\nwant\n%v", created, want)
	}
	src := readFile(t, filepath.Join(dir, "plugins", "tech-radar-module-github-sync", "module.go"))
	for _, s := range []string{"package techradarmodulegithubsync\n", `PluginID = "tech-radar"`, `ModuleID = "github-sync"`, "backend.NewModule(PluginID, ModuleID"} {
		if !strings.Contains(src, s) {
			t.Errorf("module.go lacks %q:\n%s", s, src)
		}
	}
	test := readFile(t, filepath.Join(dir, "plugins", "tech-radar-module-github-sync", "module_test.go"))
	if !strings.Contains(test, `"example.com/backend/plugins/tech-radar-module-github-sync"`) {
		t.Errorf("wrong import path in module_test.go:\n%s", test)
	}

	// A second run refuses, naming every file.
	_, err = scaffold.Module(scaffold.ModuleOptions{PluginID: "tech-radar", ID: "github-sync", WorkDir: dir})
	if err == nil || !strings.Contains(err.Error(), "refusing to overwrite") || !strings.Contains(err.Error(), want[3]) {
		t.Errorf("second run: error %v, want a refusal naming %s", err, want[3])
	}
}

// TestDirThatIsNotADirectoryInTheModule is the regression test of --dir
// naming a file, or a symbolic link that leads outside the module.
func TestDirThatIsNotADirectoryInTheModule(t *testing.T) {
	t.Parallel()
	dir := newModule(t, "example.com/m")
	outside := t.TempDir()
	writeFile(t, filepath.Join(dir, "afile"), "hello")
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "inner"), filepath.Join(dir, "innerlink")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ dir, want string }{
		{"afile", "afile is a file, not a directory; choose a --dir"},
		{"afile/sub", "afile is a file, not a directory; choose a --dir"},
		{"link", "leads through a symbolic link to " + outside + ", outside the Go module example.com/m"},
		{"link/sub/pkg", "leads through a symbolic link to " + outside + ", outside the Go module example.com/m"},
	} {
		created, err := scaffold.Plugin(scaffold.PluginOptions{ID: "demo", Dir: c.dir, WorkDir: dir})
		if err == nil || !strings.Contains(err.Error(), c.want) || len(created) > 0 {
			t.Errorf("--dir %s: %v, %v; want an error containing %q", c.dir, created, err, c.want)
		}
	}
	if files := tree(t, outside); len(files) > 0 {
		t.Errorf("files written outside the module: %v", files)
	}
	// A link to a directory inside the module is fine.
	if _, err := scaffold.Plugin(scaffold.PluginOptions{ID: "demo", Dir: "innerlink/demo", WorkDir: dir}); err != nil {
		t.Errorf("--dir innerlink/demo: %v", err)
	}
}
