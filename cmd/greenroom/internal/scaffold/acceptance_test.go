package scaffold_test

import (
	"os"
	"os/exec"
	"path/filepath"
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
	t.Logf("created %s", strings.Join(append(created, mod...), ", "))

	run("mod", "tidy")
	run("vet", "./...")
	run("test", "-race", "./...")
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
