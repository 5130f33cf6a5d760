package backend_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// A plugin and a module declared once, as package-level variables are,
// and added to many backends: the module registers the name of its
// backend (a root service) through the plugin's extension point, and the
// plugin reports what its registry holds to that backend.
type (
	// registry is the extension point of the "registry" plugin.
	registry struct {
		mu      sync.Mutex
		entries []string
	}
	// backendName names one backend and receives what its plugin saw.
	backendName struct {
		name string
		seen []string
	}
)

func (r *registry) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, s)
}

func (r *registry) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.entries)
}

var (
	registryRef    = core.NewExtensionPoint[*registry]("test.registry")
	backendNameRef = core.NewServiceRef[*backendName]("test.backendName", core.WithScope(core.RootScope))

	registryPlugin = backend.NewPlugin("registry",
		backend.ProvideExtensionPoint(registryRef, func() *registry { return &registry{} }),
		backend.Init(func(_ context.Context, d struct {
			Registry *registry
			Name     *backendName
		}) error {
			d.Name.seen = d.Registry.all()
			return nil
		}))
	registryModule = backend.NewModule("registry", "adder", backend.Init(func(_ context.Context, d struct {
		Registry *registry
		Name     *backendName
	}) error {
		d.Registry.add(d.Name.name)
		return nil
	}))
)

// startRegistryBackend starts and stops a backend of registryPlugin and
// registryModule named name, and returns what the plugin saw registered.
func startRegistryBackend(ctx context.Context, name string) ([]string, error) {
	n := &backendName{name: name}
	b := backend.New(backend.WithDefaults(backend.NewRootServiceFactory(backendNameRef, func(context.Context, struct{}) (*backendName, error) {
		return n, nil
	})))
	if err := b.Add(registryPlugin, registryModule); err != nil {
		return nil, err
	}
	err := b.Start(ctx)
	err = errors.Join(err, b.Stop(ctx))
	return n.seen, err
}

// TestExtensionPointsBelongToOneBackend checks that the registrations made
// through an extension point of a plugin declared once live in the backend
// that made them: each backend's plugin sees exactly its own module's
// registration, whether the backends run one after the other or at once.
func TestExtensionPointsBelongToOneBackend(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, name string) {
		t.Helper()
		seen, err := startRegistryBackend(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{name}; !slices.Equal(seen, want) {
			t.Errorf("backend %s: the plugin saw the registrations %q, want %q", name, seen, want)
		}
	}
	t.Run("sequential", func(t *testing.T) {
		t.Parallel()
		for i := range 3 {
			check(t, fmt.Sprintf("sequential-%d", i))
		}
	})
	t.Run("concurrent in one test", func(t *testing.T) {
		t.Parallel()
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() { check(t, fmt.Sprintf("concurrent-%d", i)) })
		}
		wg.Wait()
	})
	for i := range 4 {
		t.Run(fmt.Sprintf("parallel-%d", i), func(t *testing.T) {
			t.Parallel()
			check(t, fmt.Sprintf("parallel-%d", i))
		})
	}
}

// TestExtensionPointConstructorFailures checks that an extension point
// whose constructor returns nil or panics fails the start of its plugin,
// naming the provider, before any module inits.
func TestExtensionPointConstructorFailures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		newImpl func() *registry
		want    string
	}{
		{"nil", func() *registry { return nil }, "Plugin 'broken' startup failed: module 'provider' for plugin 'broken': the constructor given to ProvideExtensionPoint(extensionPoint{test.registry}) returned nil"},
		{"panic", func() *registry { panic("no registry today") }, "Plugin 'broken' startup failed: module 'provider' for plugin 'broken': panic: no registry today"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var consumed bool
			b := backend.New()
			err := b.Add(
				backend.NewPlugin("broken", backend.Init(noop)),
				backend.NewModule("broken", "provider", backend.ProvideExtensionPoint(registryRef, tt.newImpl), backend.Init(noop)),
				backend.NewModule("broken", "consumer", backend.Init(func(context.Context, struct{ R *registry }) error {
					consumed = true
					return nil
				})),
			)
			if err != nil {
				t.Fatal(err)
			}
			err = b.Start(t.Context())
			t.Cleanup(func() { b.Stop(context.Background()) })
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Start: %v, want an error starting with %q", err, tt.want)
			}
			if consumed {
				t.Error("a module consuming the extension point ran")
			}
		})
	}
}
