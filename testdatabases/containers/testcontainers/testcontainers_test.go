package testcontainers

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/testcontainers/testcontainers-go/wait"

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

func TestRequest(t *testing.T) {
	t.Parallel()
	r := request(spec)
	if !r.Reuse || !r.Started || r.Name != spec.Name || r.Image != spec.Image {
		t.Errorf("request: reuse=%v started=%v name=%s image=%s", r.Reuse, r.Started, r.Name, r.Image)
	}
	if r.Tmpfs["/var/lib/postgresql/data"] != "rw" || !slices.Equal(r.Cmd, spec.Cmd) || !slices.Equal(r.ExposedPorts, []string{"5432/tcp"}) {
		t.Errorf("request: %+v", r.ContainerRequest)
	}
	if r.Env["PGDATA"] != "/var/lib/postgresql/data" {
		t.Errorf("request env: %v", r.Env)
	}
	all, ok := r.WaitingFor.(*wait.MultiStrategy)
	if !ok || len(all.Strategies) != 2 {
		t.Fatalf("wait strategy %#v, want the ready log and the port", r.WaitingFor)
	}
	if l, ok := all.Strategies[0].(*wait.LogStrategy); !ok || l.Log != spec.ReadyLog || l.Occurrence != 2 {
		t.Errorf("first wait strategy %#v, want the ready log twice", all.Strategies[0])
	}
	if p, ok := all.Strategies[1].(*wait.HostPortStrategy); !ok || string(p.Port) != spec.Port {
		t.Errorf("second wait strategy %#v, want port %s", all.Strategies[1], spec.Port)
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := Provider().Name(); got != "testcontainers" {
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
			"postgres17 is not available: no container engine: testcontainers:",
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
