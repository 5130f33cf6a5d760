package testdatabases

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	providerTestcontainers = "testcontainers"
	providerDockertest     = "dockertest"
	containerPassword      = "greenroom-test"
)

// containerSpec is everything needed to start an engine in a container.
type containerSpec struct {
	Name  string            // container name, shared by the run's test binaries
	Image string            // repository:tag
	Env   map[string]string // environment
	Cmd   []string          // command or server arguments
	Tmpfs map[string]string // RAM-backed data directory
	Port  string            // exposed port, e.g. "5432/tcp"
	// Log line that appears once the server is ready (after initialisation).
	ReadyLog string
}

// url returns the connection string for the container's mapped address.
func (c containerSpec) url(hostPort string) string {
	if strings.HasPrefix(c.Port, "5432") {
		return "postgres://postgres:" + containerPassword + "@" + hostPort + "/postgres?sslmode=disable"
	}
	return "mysql://root:" + containerPassword + "@" + hostPort + "/mysql"
}

func containerName(id ID) string { return "greenroom-test-" + string(id) }

// specFor builds the container request for an engine: data on tmpfs and
// durability off, because test data is disposable.
func specFor(id ID) (containerSpec, error) {
	s := containerSpec{Name: containerName(id)}
	switch id.Dialect() {
	case DialectPostgres:
		ver := strings.TrimPrefix(string(id), "postgres")
		s.Image = "postgres:" + ver + "-alpine"
		// Pin PGDATA (PostgreSQL 18 images moved it) and keep it in RAM.
		s.Env = map[string]string{"POSTGRES_PASSWORD": containerPassword, "PGDATA": "/var/lib/postgresql/data"}
		s.Tmpfs = map[string]string{"/var/lib/postgresql/data": "rw"}
		s.Cmd = []string{"postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300"}
		s.Port = "5432/tcp"
		s.ReadyLog = "database system is ready to accept connections"
	case DialectMySQL:
		args := []string{"--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--sync-binlog=0", "--skip-log-bin", "--max-connections=300"}
		switch id {
		case MySQL8:
			s.Image = "mysql:8.4"
			s.Env = map[string]string{"MYSQL_ROOT_PASSWORD": containerPassword}
			s.ReadyLog = "ready for connections. Version"
		case MariaDB10:
			s.Image = "mariadb:10.11"
			s.Env = map[string]string{"MARIADB_ROOT_PASSWORD": containerPassword}
			s.ReadyLog = "ready for connections"
		case MariaDB11:
			s.Image = "mariadb:11.4"
			s.Env = map[string]string{"MARIADB_ROOT_PASSWORD": containerPassword}
			s.ReadyLog = "ready for connections"
		}
		s.Cmd = args
		s.Tmpfs = map[string]string{"/var/lib/mysql": "rw"}
		s.Port = "3306/tcp"
	default:
		return s, fmt.Errorf("no container image for %s", id)
	}
	return s, nil
}

// startContainer returns a connection string for a container running id,
// reusing the one other test binaries of this run started.
func startContainer(ctx context.Context, id ID, provider, marker string) (string, error) {
	spec, err := specFor(id)
	if err != nil {
		return "", errUnavailable{err.Error()}
	}
	hint := fmt.Sprintf("set %s to a connection string (for example %s) or start a Docker-compatible container engine",
		id.EnvVar(), exampleURL(id))
	var hostPort string
	switch provider {
	case "", providerTestcontainers:
		hostPort, err = runTestcontainers(ctx, spec)
	case providerDockertest:
		hostPort, err = runDockertest(ctx, spec)
	default:
		return "", fmt.Errorf("unknown container provider %q", provider)
	}
	if err != nil {
		var nc errNoEngine
		if errors.As(err, &nc) {
			return "", errUnavailable{fmt.Sprintf("%v; %s", err, hint)}
		}
		return "", fmt.Errorf("starting %s container %s: %w", id, spec.Image, err)
	}
	return spec.url(hostPort), nil
}

func exampleURL(id ID) string {
	if id.Dialect() == DialectPostgres {
		return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	return "mysql://root@127.0.0.1:3306/test"
}

// errNoEngine means no container engine is reachable.
type errNoEngine struct{ err error }

func (e errNoEngine) Error() string { return "no container engine: " + e.err.Error() }
func (e errNoEngine) Unwrap() error { return e.err }

func (c containerSpec) env() []string {
	var out []string
	for k, v := range c.Env {
		out = append(out, k+"="+v)
	}
	return out
}

func runTestcontainers(ctx context.Context, spec containerSpec) (string, error) {
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return "", errNoEngine{fmt.Errorf("testcontainers: %w", err)}
	}
	if err := p.Health(ctx); err != nil {
		return "", errNoEngine{fmt.Errorf("testcontainers: %w", err)}
	}
	req := testcontainersRequest(spec)
	c, err := testcontainers.GenericContainer(ctx, req)
	if err != nil {
		return "", err
	}
	ep, err := c.PortEndpoint(ctx, spec.Port, "")
	if err != nil {
		return "", err
	}
	return ep, waitTCP(ctx, ep)
}

// testcontainersRequest builds the request; reuse by name shares one
// container between the test binaries of a `go test ./...` run (they share
// a testcontainers session, whose reaper removes it afterwards).
func testcontainersRequest(spec containerSpec) testcontainers.GenericContainerRequest {
	return testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Name:         spec.Name,
			Image:        spec.Image,
			Env:          spec.Env,
			Cmd:          spec.Cmd,
			Tmpfs:        spec.Tmpfs,
			ExposedPorts: []string{spec.Port},
			WaitingFor: wait.ForAll(
				wait.ForLog(spec.ReadyLog).WithOccurrence(2).WithStartupTimeout(3*time.Minute),
				wait.ForListeningPort(spec.Port),
			),
		},
		Started: true,
		Reuse:   true,
	}
}

func runDockertest(ctx context.Context, spec containerSpec) (string, error) {
	pool, err := dockertest.NewPool("")
	if err != nil {
		return "", errNoEngine{fmt.Errorf("dockertest: %w", err)}
	}
	if err := pool.Client.Ping(); err != nil {
		return "", errNoEngine{fmt.Errorf("dockertest: %w", err)}
	}
	res, ok := pool.ContainerByName(spec.Name)
	if !ok {
		opts, hc := dockertestOptions(spec)
		res, err = pool.RunWithOptions(opts, hc)
		if err != nil {
			return "", err
		}
		// Containers outlive the binary that started them so the run's other
		// binaries can reuse them; they expire on their own.
		_ = res.Expire(1800)
	}
	ep := res.GetHostPort(spec.Port)
	return ep, waitTCP(ctx, ep)
}

func dockertestOptions(spec containerSpec) (*dockertest.RunOptions, func(*dc.HostConfig)) {
	repo, tag, _ := strings.Cut(spec.Image, ":")
	return &dockertest.RunOptions{
			Name:         spec.Name,
			Repository:   repo,
			Tag:          tag,
			Env:          spec.env(),
			Cmd:          spec.Cmd,
			ExposedPorts: []string{spec.Port},
		}, func(hc *dc.HostConfig) {
			hc.AutoRemove = true
			hc.RestartPolicy = dc.RestartPolicy{Name: "no"}
			hc.Tmpfs = spec.Tmpfs
		}
}

// waitTCP waits until the mapped port accepts connections.
func waitTCP(ctx context.Context, hostPort string) error {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", hostPort)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", hostPort, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
