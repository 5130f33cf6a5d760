package dockertest

import (
	"slices"
	"testing"

	dc "github.com/ory/dockertest/v3/docker"

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

// Without a container engine an engine is unavailable: its test skips with
// a message naming the provider and the variable, and fails under CI=true.
func TestNoEngine(t *testing.T) {
	t.Parallel()
	providertest.NoEngine(t, Provider(), spec)
}
