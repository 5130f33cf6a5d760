package testcontainers

import (
	"context"
	"fmt"
	"time"

	tc "github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

// Provider returns a testdatabases.ContainerProvider that runs containers
// with testcontainers-go. It finds the container engine as
// testcontainers-go does (DOCKER_HOST, ~/.testcontainers.properties, the
// Docker context, the default sockets).
func Provider() testdatabases.ContainerProvider { return provider{} }

type provider struct{}

func (provider) Name() string { return "testcontainers" }

func (provider) Start(ctx context.Context, spec testdatabases.ContainerSpec) (string, error) {
	p, err := tc.NewDockerProvider()
	if err != nil {
		return "", fmt.Errorf("%w: testcontainers: %w", testdatabases.ErrNoContainerEngine, err)
	}
	defer p.Close()
	if err := p.Health(ctx); err != nil {
		return "", fmt.Errorf("%w: testcontainers: %w", testdatabases.ErrNoContainerEngine, err)
	}
	c, err := tc.GenericContainer(ctx, request(spec))
	if err != nil {
		return "", fmt.Errorf("testcontainers: %w", err)
	}
	ep, err := c.PortEndpoint(ctx, spec.Port, "")
	if err != nil {
		return "", fmt.Errorf("testcontainers: port %s of %s: %w", spec.Port, spec.Name, err)
	}
	return ep, nil
}

// request builds the request; reuse by name shares one container between
// the test binaries of a go test ./... run (they share a testcontainers
// session, whose reaper removes it afterwards).
func request(spec testdatabases.ContainerSpec) tc.GenericContainerRequest {
	return tc.GenericContainerRequest{
		ContainerRequest: tc.ContainerRequest{
			Name:         spec.Name,
			Image:        spec.Image,
			Env:          spec.Env,
			Cmd:          spec.Cmd,
			Tmpfs:        spec.Tmpfs,
			ExposedPorts: []string{spec.Port},
			// The images start a temporary server for their initialization
			// first, which logs the ready line once.
			WaitingFor: wait.ForAll(
				wait.ForLog(spec.ReadyLog).WithOccurrence(2).WithStartupTimeout(3*time.Minute),
				wait.ForListeningPort(spec.Port),
			),
		},
		Started: true,
		Reuse:   true,
	}
}
