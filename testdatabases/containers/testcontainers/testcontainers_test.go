package testcontainers

import (
	"slices"
	"testing"

	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/greenroom-dev/greenroom/testdatabases"
	"github.com/greenroom-dev/greenroom/testdatabases/internal/providertest"
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

// Without a container engine an engine is unavailable: its test skips with
// a message naming the provider and the variable, and fails under CI=true.
func TestNoEngine(t *testing.T) {
	t.Parallel()
	providertest.NoEngine(t, Provider(), spec)
}
