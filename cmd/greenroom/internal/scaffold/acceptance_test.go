package scaffold_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/cmd/greenroom/internal/scaffold"
)

// TestGeneratedCodePasses is the acceptance test, and it is SLOW (it
// compiles and tests a module): in a fresh module that requires Greenroom
// (replaced by this checkout), a plugin "demo" and a module of it are
// generated, and `go mod tidy`, `go vet ./...` and `go test -race ./...` must pass
// exactly as generated. The go command inherits the environment (GOPROXY,
// GOMODCACHE, GOCACHE, the GREENROOM_TEST_* databases), so it reuses the
// build cache and needs no network beyond what the module cache lacks.
func TestGeneratedCodePasses(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: skipping the acceptance test, which compiles and tests a generated module")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the acceptance test runs the go command: %v", err)
	}
	root := repoRoot(t)
	dir := t.TempDir()

	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
		}
	}
	run("mod", "init", "example.com/fresh")
	run("mod", "edit", "-require=github.com/greenroom-dev/greenroom@v0.0.0", "-replace=github.com/greenroom-dev/greenroom="+root)

	created, err := scaffold.Plugin(scaffold.PluginOptions{ID: "demo", WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := scaffold.Module(scaffold.ModuleOptions{PluginID: "demo", ID: "heartbeat", WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// The longest id: its table and index names must fit every engine.
	long, err := scaffold.Plugin(scaffold.PluginOptions{ID: longestID(), WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("created %s", strings.Join(slices.Concat(created, mod, long), ", "))

	run("mod", "tidy")
	run("vet", "./...")
	run("test", "-race", "./...")
}

// longestID is a plugin id of scaffold.MaxPluginIDLen characters.
func longestID() string {
	return ("long-" + strings.Repeat("x", scaffold.MaxPluginIDLen))[:scaffold.MaxPluginIDLen]
}

// awkwardIDs are valid ids whose package names are Go keywords, "main",
// predeclared identifiers, or names the generated files import or declare.
var awkwardIDs = []string{
	// Go keywords: every one.
	"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough", "for",
	"func", "go", "goto", "if", "import", "interface", "map", "package", "range", "return",
	"select", "struct", "switch", "type", "var",
	// Not importable.
	"main",
	// Predeclared identifiers.
	"string", "error", "len", "nil", "true", "false", "any", "int", "new", "make", "append", "close",
	// Packages the templates import.
	"backend", "core", "errs", "httpjson", "migrate", "sqlkit", "testing", "context", "http", "testbackend",
	"testdatabases", "mockservices", "defaults", "fmt", "errors", "strings", "strconv", "sql", "embed", "io",
	"bytes", "time",
	// Names the templates declare or use.
	"t", "tb", "b", "ctx", "err", "plugin", "items", "h", "r", "w", "url", "disc", "run", "log", "s", "empty",
	// Dashes: the package name is the id without them.
	"tech-radar", "te-sting", "ma-in", "fu-nc",
}

// TestAwkwardIDsCompile generates a plugin and a module of it for every id
// in awkwardIDs into one fresh module and vets it, which compiles the
// packages and their tests: every valid id yields code that builds. It is
// SLOW, like TestGeneratedCodePasses.
func TestAwkwardIDsCompile(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: skipping a test that compiles generated modules")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the test runs the go command: %v", err)
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
		}
	}
	run("mod", "init", "example.com/awkward")
	run("mod", "edit", "-require=github.com/greenroom-dev/greenroom@v0.0.0", "-replace=github.com/greenroom-dev/greenroom="+repoRoot(t))
	for _, id := range awkwardIDs {
		if _, err := scaffold.Plugin(scaffold.PluginOptions{ID: id, WorkDir: dir}); err != nil {
			t.Fatalf("plugin %q: %v", id, err)
		}
		if _, err := scaffold.Module(scaffold.ModuleOptions{PluginID: id, ID: id, WorkDir: dir}); err != nil {
			t.Fatalf("module %q of plugin %q: %v", id, id, err)
		}
	}
	run("mod", "tidy")
	run("vet", "./...")
}

// repoRoot returns the directory of Greenroom's go.mod, from the test's
// working directory (this package's directory).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/greenroom-dev/greenroom\n") {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod of github.com/greenroom-dev/greenroom above %s", wd)
		}
	}
}
