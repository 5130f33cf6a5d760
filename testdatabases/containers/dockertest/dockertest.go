package dockertest

import (
	"context"
	"fmt"
	"strings"

	dt "github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

// expireSeconds is how long a container lives at most.
const expireSeconds = 1800

// Provider returns a testdatabases.ContainerProvider that runs containers
// with ory/dockertest, on the engine DOCKER_HOST names (the default
// socket without it).
func Provider() testdatabases.ContainerProvider { return provider{} }

type provider struct{}

func (provider) Name() string { return "dockertest" }

func (provider) Start(ctx context.Context, spec testdatabases.ContainerSpec) (string, error) {
	pool, err := dt.NewPool("")
	if err != nil {
		return "", fmt.Errorf("%w: dockertest: %w", testdatabases.ErrNoContainerEngine, err)
	}
	if err := pool.Client.PingWithContext(ctx); err != nil {
		return "", fmt.Errorf("%w: dockertest: %w", testdatabases.ErrNoContainerEngine, err)
	}
	res, ok := pool.ContainerByName(spec.Name)
	if !ok {
		opts, hc := options(spec)
		res, err = pool.RunWithOptions(opts, hc)
		if err != nil {
			return "", fmt.Errorf("dockertest: running %s: %w", spec.Image, err)
		}
		// Containers outlive the binary that started them so the run's
		// other binaries can reuse them; they expire on their own.
		if err := res.Expire(expireSeconds); err != nil {
			return "", fmt.Errorf("dockertest: setting the expiry of %s: %w", spec.Name, err)
		}
	}
	return res.GetHostPort(spec.Port), nil
}

func options(spec testdatabases.ContainerSpec) (*dt.RunOptions, func(*dc.HostConfig)) {
	repo, tag, _ := strings.Cut(spec.Image, ":")
	env := make([]string, 0, len(spec.Env))
	for k, v := range spec.Env {
		env = append(env, k+"="+v)
	}
	return &dt.RunOptions{
			Name:         spec.Name,
			Repository:   repo,
			Tag:          tag,
			Env:          env,
			Cmd:          spec.Cmd,
			ExposedPorts: []string{spec.Port},
		}, func(hc *dc.HostConfig) {
			hc.AutoRemove = true
			hc.RestartPolicy = dc.RestartPolicy{Name: "no"}
			hc.Tmpfs = spec.Tmpfs
		}
}
