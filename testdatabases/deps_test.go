package testdatabases_test

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// heavy matches the packages of container SDKs and what they bring: a
// plugin's test build must not compile them (they live in the modules under
// testdatabases/containers).
var heavy = regexp.MustCompile(`docker|moby|containerd|testcontainers|dockertest|opentelemetry`)

// Importing testbackend, mockservices or testdatabases compiles no Docker
// SDK and no OpenTelemetry, and neither does a plugin's test build.
func TestNoContainerSDKInTheTestToolkit(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-deps", "./testbackend", "./mockservices", "./testdatabases"},
		{"-deps", "-test", "./examples/todo"},
	} {
		cmd := exec.Command("go", append([]string{"list"}, args...)...)
		cmd.Dir = ".." // the module's root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
		}
		pkgs := strings.Fields(string(out))
		if len(pkgs) < 50 {
			t.Fatalf("go list %s listed %d packages: %q", strings.Join(args, " "), len(pkgs), out)
		}
		for _, p := range pkgs {
			if heavy.MatchString(p) {
				t.Errorf("go list %s: %s is in the build", strings.Join(args, " "), p)
			}
		}
	}
}
