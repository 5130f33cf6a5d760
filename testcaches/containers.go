package testcaches

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// ContainerProvider starts the Redis of an engine in a container, for a
// Set given one with [WithContainerProvider], when the engine's connection
// string is not set. It has the shape of testdatabases.ContainerProvider,
// so that a container module can implement both; this package ships no
// implementation, to keep container SDKs out of the test binaries that do
// not ask for them.
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

// ContainerSpec is what a [ContainerProvider] needs to start a Redis:
// persistence off, because test data is disposable.
type ContainerSpec struct {
	Name     string   // container name, shared by the run's test binaries
	Image    string   // repository:tag
	Cmd      []string // server arguments
	Port     string   // the server's port, "6379/tcp"
	ReadyLog string   // a log line that appears once the server is ready
}

// SpecFor returns what a container of engine id is started from.
func SpecFor(id ID) (ContainerSpec, error) {
	if id != Redis7 {
		return ContainerSpec{}, fmt.Errorf("testcaches: no container for engine %q", id)
	}
	return ContainerSpec{
		Name:     "greenroom-test-" + string(id),
		Image:    "redis:7-alpine",
		Cmd:      []string{"redis-server", "--save", "", "--appendonly", "no"},
		Port:     "6379/tcp",
		ReadyLog: "Ready to accept connections",
	}, nil
}

// WithContainerProvider makes a Set start the Redis of an engine whose
// connection string is not set with p.
func WithContainerProvider(p ContainerProvider) Option {
	return optionFunc(func(c *config) { c.provider = p })
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// containers holds the URL of each engine's container, started once per
// test binary and provider.
var containers struct {
	sync.Mutex
	m map[containerKey]*containerEntry
}

// containerKey identifies a provider and an engine: the provider itself
// when its type is comparable (a pointer, usually), else its name.
type containerKey struct {
	provider any
	id       ID
}

type containerEntry struct {
	once sync.Once
	url  string
	err  error
}

// containerURL starts (or finds) the container of engine id with p and
// returns its connection string.
func containerURL(id ID, p ContainerProvider) (string, error) {
	key := containerKey{provider: p, id: id}
	if !reflect.TypeOf(p).Comparable() {
		key.provider = p.Name()
	}
	containers.Lock()
	if containers.m == nil {
		containers.m = map[containerKey]*containerEntry{}
	}
	e := containers.m[key]
	if e == nil {
		e = &containerEntry{}
		containers.m[key] = e
	}
	containers.Unlock()
	e.once.Do(func() {
		spec, err := SpecFor(id)
		if err != nil {
			e.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		hostPort, err := p.Start(ctx, spec)
		if err != nil {
			e.err = fmt.Errorf("starting container %s with %s: %w", spec.Name, p.Name(), err)
			return
		}
		e.url = "redis://" + hostPort + "/0"
	})
	return e.url, e.err
}
