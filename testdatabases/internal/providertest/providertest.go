// Package providertest holds the checks every container provider module
// (testdatabases/containers/...) runs against its provider without a
// container engine, so that the modules share one definition of "skips
// with a clear message, fails under CI=true". It is internal to Greenroom;
// the provider modules reach it because their import paths lie under
// testdatabases.
package providertest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

// childEnv marks the child process of NoEngine.
const childEnv = "GREENROOM_TEST_CONTAINERS_CHILD"

// NoEngine checks p where no container engine answers: Start fails with an
// error wrapping testdatabases.ErrNoContainerEngine, and a test asking for
// PostgreSQL 17 through p skips with a message naming the provider and the
// connection-string variable, or fails under CI=true.
//
// The test calling NoEngine must be a top-level test: NoEngine re-runs it
// in a child process of the test binary whose Docker host does not exist,
// once with CI=false and once with CI=true, and there (the child) does the
// check itself.
func NoEngine(t *testing.T, p testdatabases.ContainerProvider, spec testdatabases.ContainerSpec) {
	t.Helper()
	if os.Getenv(childEnv) != "" {
		child(t, p, spec)
		return
	}
	for _, c := range []struct{ ci, want string }{
		{"false", "--- SKIP: " + t.Name()},
		{"true", "--- FAIL: " + t.Name()},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
		cmd.Env = noEngineEnv(c.ci)
		out, err := cmd.CombinedOutput()
		if (c.ci == "true") != (err != nil) {
			t.Errorf("CI=%s: child exited with %v", c.ci, err)
		}
		for _, want := range []string{
			c.want,
			"start error wraps ErrNoContainerEngine",
			"postgres17 is not available: no container engine: " + p.Name() + ":",
			"set " + testdatabases.Postgres17.EnvVar() + " to a connection string",
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("CI=%s: child output lacks %q:\n%s", c.ci, want, out)
			}
		}
	}
}

// child is NoEngine in the child process.
func child(t *testing.T, p testdatabases.ContainerProvider, spec testdatabases.ContainerSpec) {
	t.Helper()
	_, err := p.Start(context.Background(), spec)
	if !errors.Is(err, testdatabases.ErrNoContainerEngine) {
		t.Fatalf("Start = %v, want an error wrapping ErrNoContainerEngine", err)
	}
	t.Log("start error wraps ErrNoContainerEngine")
	testdatabases.New(t, testdatabases.Postgres17, testdatabases.WithContainerProvider(p)).Init(t, testdatabases.Postgres17)
	t.Error("Init returned for an engine without a container engine")
}

// noEngineEnv is the environment of a child test process whose Docker host
// does not exist, without a connection string for PostgreSQL 17.
func noEngineEnv(ci string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DOCKER_HOST", "DOCKER_CONTEXT", "TESTCONTAINERS_HOST_OVERRIDE", "CI",
			testdatabases.Postgres17.EnvVar():
			continue
		}
		env = append(env, kv)
	}
	return append(env, childEnv+"=1", "DOCKER_HOST=unix:///nonexistent/greenroom/docker.sock", "CI="+ci)
}
