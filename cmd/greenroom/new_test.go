package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/cmd/greenroom/internal/scaffold"
)

// fakeScaffolders record the options they get and return files or err.
func fakeScaffolders(files []string, err error, gotPlugin *scaffold.PluginOptions, gotModule *scaffold.ModuleOptions) scaffolders {
	return scaffolders{
		plugin: func(o scaffold.PluginOptions) ([]string, error) { *gotPlugin = o; return files, err },
		module: func(o scaffold.ModuleOptions) ([]string, error) { *gotModule = o; return files, err },
	}
}

func TestNewWiring(t *testing.T) {
	t.Parallel()
	files := []string{"plugins/demo/plugin.go", "plugins/demo/plugin_test.go"}
	tests := []struct {
		args       []string
		wantPlugin scaffold.PluginOptions
		wantModule scaffold.ModuleOptions
		wantOut    string
	}{
		{[]string{"new", "plugin", "--id", "demo"}, scaffold.PluginOptions{ID: "demo", WorkDir: "."}, scaffold.ModuleOptions{},
			"Created:\n  plugins/demo/plugin.go\n  plugins/demo/plugin_test.go\n\nNext steps:\n  go mod tidy\n  go test ./plugins/demo/...\n"},
		{[]string{"new", "plugin", "--id", "demo", "--dir", "internal/demo"}, scaffold.PluginOptions{ID: "demo", Dir: "internal/demo", WorkDir: "."}, scaffold.ModuleOptions{},
			"go test ./internal/demo/...\n"},
		{[]string{"new", "module", "--plugin", "demo", "--id", "audit"}, scaffold.PluginOptions{}, scaffold.ModuleOptions{PluginID: "demo", ID: "audit", WorkDir: "."},
			"go test ./plugins/demo-module-audit/...\n"},
		{[]string{"new", "module", "--plugin", "demo", "--id", "audit", "--dir", "mods/audit"}, scaffold.PluginOptions{}, scaffold.ModuleOptions{PluginID: "demo", ID: "audit", Dir: "mods/audit", WorkDir: "."},
			"go test ./mods/audit/...\n"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			var gotP scaffold.PluginOptions
			var gotM scaffold.ModuleOptions
			var out, errOut bytes.Buffer
			code := execute(newRootCommand(fakeScaffolders(files, nil, &gotP, &gotM)), tc.args, &out, &errOut)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if gotP != tc.wantPlugin || gotM != tc.wantModule {
				t.Errorf("scaffold got %+v / %+v, want %+v / %+v", gotP, gotM, tc.wantPlugin, tc.wantModule)
			}
			if !strings.HasSuffix(out.String(), tc.wantOut) || !strings.Contains(out.String(), "plugins/demo/plugin_test.go") {
				t.Errorf("output = %q, want it to end with %q", out.String(), tc.wantOut)
			}
		})
	}
}

func TestNewPrintsScaffoldErrors(t *testing.T) {
	t.Parallel()
	scaffoldErr := errors.New(`scaffold: plugins/demo/plugin.go already exists; remove it or choose another --dir`)
	for _, args := range [][]string{{"new", "plugin", "--id", "demo"}, {"new", "module", "--plugin", "demo", "--id", "audit"}} {
		var gotP scaffold.PluginOptions
		var gotM scaffold.ModuleOptions
		var out, errOut bytes.Buffer
		code := execute(newRootCommand(fakeScaffolders(nil, scaffoldErr, &gotP, &gotM)), args, &out, &errOut)
		want := "greenroom " + strings.Join(args[:2], " ") + ": " + scaffoldErr.Error() + "\n"
		if code != 1 || errOut.String() != want || out.Len() != 0 {
			t.Errorf("%v = %d, stdout %q, stderr %q; want 1 and stderr %q", args, code, out.String(), errOut.String(), want)
		}
	}
}

// TestNewCallsPackageScaffold runs the real command on package scaffold's
// validation: an invalid id writes nothing and fails with its message.
func TestNewCallsPackageScaffold(t *testing.T) {
	t.Parallel()
	_, err := scaffold.Plugin(scaffold.PluginOptions{ID: "Not An Id", WorkDir: t.TempDir()})
	if err == nil {
		t.Fatal("scaffold.Plugin accepted an invalid id")
	}
	code, stdout, stderr := runCmd(t, "new", "plugin", "--id", "Not An Id", "--dir", t.TempDir())
	if code != 1 || stdout != "" || stderr != "greenroom new plugin: "+err.Error()+"\n" {
		t.Errorf("new plugin with an invalid id = %d %q %q; want 1 and scaffold's error %q", code, stdout, stderr, err)
	}
}
