package testdatabases

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// The modules that provide a [ContainerProvider]. They are Go modules of
// their own, so that a test binary links a container SDK (and its Docker
// client, containerd and OpenTelemetry packages) only when a test asks for
// one.
const (
	testcontainersModule = "github.com/greenroom-dev/greenroom/testdatabases/containers/testcontainers"
	dockertestModule     = "github.com/greenroom-dev/greenroom/testdatabases/containers/dockertest"
)

// A ContainerProvider starts a server engine in a container, for engines
// whose connection-string variable is not set. Pass one to [New] with
// [WithContainerProvider]. Two modules of this repository offer one each,
// testcontainers.Provider() in
// github.com/greenroom-dev/greenroom/testdatabases/containers/testcontainers
// (testcontainers-go) and dockertest.Provider() in
// github.com/greenroom-dev/greenroom/testdatabases/containers/dockertest
// (ory/dockertest); they are modules of their own so that only the test
// binaries that use one link a container SDK.
type ContainerProvider interface {
	// Name names the provider in messages, for example "testcontainers".
	Name() string
	// Start starts the container spec describes, or finds the running one
	// named spec.Name (the run's other test binaries share it), and
	// returns the host:port that spec.Port is published on. When no
	// container engine answers, the error wraps [ErrNoContainerEngine]:
	// the engine is then unavailable (its tests skip, or fail under
	// CI=true) rather than broken.
	Start(ctx context.Context, spec ContainerSpec) (hostPort string, err error)
}

// ErrNoContainerEngine is wrapped by a [ContainerProvider]'s error when no
// container engine (Docker or a compatible one) is reachable.
var ErrNoContainerEngine = errors.New("no container engine")

// ContainerSpec is everything a [ContainerProvider] needs to start a
// server engine: data on tmpfs and durability off, because test data is
// disposable.
type ContainerSpec struct {
	Name  string            // container name, shared by the run's test binaries
	Image string            // repository:tag
	Env   map[string]string // environment
	Cmd   []string          // command or server arguments
	Tmpfs map[string]string // RAM-backed directories and their mount options
	Port  string            // the server's port, for example "5432/tcp"
	// ReadyLog is a log line that appears (on PostgreSQL and MySQL, a
	// second time) once the server is ready, after its initialization.
	ReadyLog string
}

const containerPassword = "greenroom-test"

// url returns the connection string for the container's mapped address.
func (c ContainerSpec) url(hostPort string) string {
	if strings.HasPrefix(c.Port, "5432") {
		return "postgres://postgres:" + containerPassword + "@" + hostPort + "/postgres?sslmode=disable"
	}
	return "mysql://root:" + containerPassword + "@" + hostPort + "/mysql"
}

func containerName(id ID) string { return "greenroom-test-" + string(id) }

// specFor returns what a container of engine id is started from. It fails
// for SQLite and unknown engines.
func specFor(id ID) (ContainerSpec, error) {
	s := ContainerSpec{Name: containerName(id)}
	switch {
	case !id.known():
		return s, fmt.Errorf("testdatabases: unknown engine %q", id)
	case id.Dialect() == DialectPostgres:
		ver := strings.TrimPrefix(string(id), "postgres")
		s.Image = "postgres:" + ver + "-alpine"
		// Pin PGDATA (PostgreSQL 18 images moved it) and keep it in RAM.
		s.Env = map[string]string{"POSTGRES_PASSWORD": containerPassword, "PGDATA": "/var/lib/postgresql/data"}
		s.Tmpfs = map[string]string{"/var/lib/postgresql/data": "rw"}
		s.Cmd = []string{"postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300"}
		s.Port = "5432/tcp"
		s.ReadyLog = "database system is ready to accept connections"
	case id.Dialect() == DialectMySQL:
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
		s.Cmd = []string{"--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--sync-binlog=0", "--skip-log-bin", "--max-connections=300"}
		s.Tmpfs = map[string]string{"/var/lib/mysql": "rw"}
		s.Port = "3306/tcp"
	default:
		return s, fmt.Errorf("testdatabases: %s runs in the test process and has no container", id)
	}
	return s, nil
}

// startContainer returns a connection string for a container running id,
// started by p (or found running: other test binaries of the run start the
// same container). Without p, or without a container engine, the engine is
// unavailable.
func startContainer(ctx context.Context, id ID, p ContainerProvider) (string, error) {
	if p == nil {
		return "", noProvider(id)
	}
	spec, err := specFor(id)
	if err != nil {
		return "", errUnavailable{err.Error(), err}
	}
	hostPort, err := p.Start(ctx, spec)
	if errors.Is(err, ErrNoContainerEngine) {
		return "", errUnavailable{fmt.Sprintf("%v; set %s to a connection string (for example %s) or start a Docker-compatible container engine",
			err, id.EnvVar(), exampleURL(id)), err}
	}
	if err != nil {
		return "", fmt.Errorf("starting %s container %s with %s: %w", id, spec.Image, p.Name(), err)
	}
	if err := waitTCP(ctx, hostPort); err != nil {
		return "", fmt.Errorf("%s container %s (%s): %w", id, spec.Name, p.Name(), err)
	}
	return spec.url(hostPort), nil
}

// noProvider is why a server engine without a connection string is
// unavailable when no ContainerProvider was given.
func noProvider(id ID) error {
	return errUnavailable{msg: fmt.Sprintf("set %s to a connection string (for example %s), "+
		"or start it in a container: import %s and pass testdatabases.WithContainerProvider(testcontainers.Provider()) "+
		"(or %s and dockertest.Provider())",
		id.EnvVar(), exampleURL(id), testcontainersModule, dockertestModule)}
}

func exampleURL(id ID) string {
	if id.Dialect() == DialectPostgres {
		return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	return "mysql://root@127.0.0.1:3306/test"
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
