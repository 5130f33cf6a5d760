package dockertest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	dc "github.com/ory/dockertest/v3/docker"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

var spec = testdatabases.ContainerSpec{
	Name:     "greenroom-test-postgres16",
	Image:    "postgres:16-alpine",
	Env:      map[string]string{"POSTGRES_PASSWORD": "pw", "PGDATA": "/var/lib/postgresql/data"},
	Cmd:      []string{"postgres", "-c", "fsync=off"},
	Tmpfs:    map[string]string{"/var/lib/postgresql/data": "rw"},
	Port:     "5432/tcp",
	ReadyLog: "database system is ready to accept connections",
}

func TestOptions(t *testing.T) {
	t.Parallel()
	opts, hc := options(spec)
	if opts.Repository != "postgres" || opts.Tag != "16-alpine" || opts.Name != spec.Name {
		t.Errorf("options: %+v", opts)
	}
	env := slices.Clone(opts.Env)
	slices.Sort(env)
	if !slices.Equal(env, []string{"PGDATA=/var/lib/postgresql/data", "POSTGRES_PASSWORD=pw"}) {
		t.Errorf("options env: %v", opts.Env)
	}
	if !slices.Equal(opts.Cmd, spec.Cmd) || !slices.Equal(opts.ExposedPorts, []string{"5432/tcp"}) {
		t.Errorf("options: %+v", opts)
	}
	host := new(dc.HostConfig)
	hc(host)
	if !host.AutoRemove || host.RestartPolicy.Name != "no" || host.Tmpfs["/var/lib/postgresql/data"] != "rw" {
		t.Errorf("host config: %+v", host)
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := Provider().Name(); got != "dockertest" {
		t.Errorf("Name() = %q", got)
	}
}

const childEnv = "GREENROOM_TEST_CONTAINERS_CHILD"

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

// Without a container engine an engine is unavailable: its test skips with
// a message naming the provider and the variable, and fails under CI=true.
func TestNoEngine(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ci, want string
	}{
		{"false", "--- SKIP: TestNoEngineChild"},
		{"true", "--- FAIL: TestNoEngineChild"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNoEngineChild$", "-test.v")
		cmd.Env = noEngineEnv(c.ci)
		out, err := cmd.CombinedOutput()
		if (c.ci == "true") != (err != nil) {
			t.Errorf("CI=%s: child exited with %v", c.ci, err)
		}
		for _, want := range []string{
			c.want,
			"start error wraps ErrNoContainerEngine",
			"postgres17 is not available: no container engine: dockertest:",
			"set " + testdatabases.Postgres17.EnvVar() + " to a connection string",
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("CI=%s: child output lacks %q:\n%s", c.ci, want, out)
			}
		}
	}
}

// TestNoEngineChild is the process of TestNoEngine.
func TestNoEngineChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestNoEngine")
	}
	_, err := Provider().Start(context.Background(), spec)
	if !errors.Is(err, testdatabases.ErrNoContainerEngine) {
		t.Fatalf("Start = %v, want an error wrapping ErrNoContainerEngine", err)
	}
	t.Log("start error wraps ErrNoContainerEngine")
	testdatabases.New(t, testdatabases.Postgres17, testdatabases.WithContainerProvider(Provider())).Init(t, testdatabases.Postgres17)
	t.Error("Init returned for an engine without a container engine")
}
