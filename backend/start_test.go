package backend_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

func failingFactory[T any](ref core.ServiceRef[T]) *backend.ServiceFactory {
	if ref.Scope() == core.RootScope {
		return backend.NewRootServiceFactory(ref, func(context.Context, struct{}) (T, error) {
			var zero T
			return zero, errBoom
		})
	}
	return backend.NewPluginServiceFactory(ref, func(context.Context, struct{}) (T, error) {
		var zero T
		return zero, errBoom
	})
}

func nilFactory[T any](ref core.ServiceRef[T]) *backend.ServiceFactory {
	if ref.Scope() == core.RootScope {
		return backend.NewRootServiceFactory(ref, func(context.Context, struct{}) (T, error) {
			var zero T
			return zero, nil
		})
	}
	return backend.NewPluginServiceFactory(ref, func(context.Context, struct{}) (T, error) {
		var zero T
		return zero, nil
	})
}

func TestStartFailures(t *testing.T) {
	failInit := func(context.Context, struct{}) error { return errBoom }
	tests := []struct {
		name     string
		defaults []*backend.ServiceFactory
		features []backend.Feature
		// want is the error message; a trailing "..." matches a prefix.
		want   string
		wantIs error
		// notRun is an event that must not be recorded.
		notRun string
	}{
		{
			name:     "init fails",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(failInit))},
			want:     "Plugin 'todo' startup failed: boom",
			wantIs:   errBoom,
		},
		{
			name: "several plugins fail",
			features: []backend.Feature{
				backend.NewPlugin("todo", backend.Init(failInit)),
				backend.NewPlugin("catalog", backend.Init(failInit)),
				backend.NewPlugin("fine", backend.Init(noop)),
			},
			want:   "Plugin 'catalog' startup failed: boom\nPlugin 'todo' startup failed: boom",
			wantIs: errBoom,
		},
		{
			name:     "factory fails",
			defaults: []*backend.ServiceFactory{failingFactory(plugARef)},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, needsPlugA) error { return nil }))},
			want:     "Plugin 'todo' startup failed: Failed to instantiate service 'test.plugA' for plugin 'todo': boom",
			wantIs:   errBoom,
		},
		{
			name:     "dependency of a factory fails",
			defaults: []*backend.ServiceFactory{failingFactory(plugARef), pluginFactoryWith[plugB, needsPlugA](plugBRef)},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ B plugB }) error { return nil }))},
			want:     "Plugin 'todo' startup failed: Failed to instantiate service 'test.plugB' for plugin 'todo': Failed to instantiate service 'test.plugA' for plugin 'todo': boom",
			wantIs:   errBoom,
		},
		{
			name:     "factory returns a nil interface",
			defaults: []*backend.ServiceFactory{nilFactory(plugARef)},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, needsPlugA) error { return nil }))},
			want:     "Plugin 'todo' startup failed: factory of serviceRef{test.plugA} returned a nil service for plugin 'todo' with a nil error; a factory must return the service or an error",
			wantIs:   backend.ErrNilService,
		},
		{
			name: "factory returns a nil pointer in an interface",
			defaults: []*backend.ServiceFactory{backend.NewPluginServiceFactory(plugARef, func(context.Context, struct{}) (plugA, error) {
				var b *box
				return b, nil
			})},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, needsPlugA) error { return nil }))},
			want:     "Plugin 'todo' startup failed: factory of serviceRef{test.plugA} returned a nil service for plugin 'todo' with a nil error; a factory must return the service or an error",
			wantIs:   backend.ErrNilService,
		},
		{
			name:     "root factory fails",
			defaults: []*backend.ServiceFactory{failingFactory(rootARef)},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{}) error { panic("must not run") }))},
			want:     "Failed to instantiate root service 'test.rootA': boom",
			wantIs:   errBoom,
		},
		{
			name:     "root factory returns nil",
			defaults: []*backend.ServiceFactory{nilFactory(rootARef)},
			want:     "factory of serviceRef{test.rootA} returned a nil root service with a nil error; a factory must return the service or an error",
			wantIs:   backend.ErrNilService,
		},
		{
			name: "root context fails",
			defaults: []*backend.ServiceFactory{backend.NewPluginServiceFactoryWithContext(plugARef,
				func(context.Context, struct{}) (int, error) { return 0, errBoom },
				func(context.Context, int, struct{}) (plugA, error) { return named("a"), nil })},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, needsPlugA) error { return nil }))},
			want:     "Plugin 'todo' startup failed: Failed to instantiate service 'test.plugA' for plugin 'todo': root context failed: boom",
			wantIs:   errBoom,
		},
		{
			name:     "eager plugin service fails",
			defaults: []*backend.ServiceFactory{backend.NewPluginServiceFactory(plugARef, func(context.Context, struct{}) (plugA, error) { return nil, errBoom }, backend.Eager())},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(noop))},
			want:     "Plugin 'todo' startup failed: Failed to instantiate service 'test.plugA' for plugin 'todo': boom",
			wantIs:   errBoom,
		},
		{
			name: "module fails and its plugin does not init",
			features: []backend.Feature{
				backend.NewPlugin("todo", backend.Init(func(context.Context, struct{}) error { panic("the plugin must not init") })),
				backend.NewModule("todo", "extra", backend.Init(failInit)),
			},
			want:   "Module 'extra' for plugin 'todo' startup failed: boom",
			wantIs: errBoom,
		},
		{
			name: "module after a failed module does not init",
			features: []backend.Feature{
				backend.NewPlugin("todo", backend.Init(noop)),
				backend.NewModule("todo", "provider", backend.ProvideExtensionPoint(epARef, func() epA { return epImpl{} }),
					backend.Init(func(context.Context, struct{}) error { panic("the provider must not init") })),
				backend.NewModule("todo", "consumer", backend.Init(func(context.Context, needsEPA) error { return errBoom })),
			},
			want:   "Module 'consumer' for plugin 'todo' startup failed: boom",
			wantIs: errBoom,
		},
		{
			name:     "init panics",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{}) error { panic("kaboom") }))},
			want:     "Plugin 'todo' startup failed: panic: kaboom\n\ngoroutine ...",
		},
		{
			name:     "init panics with an error",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{}) error { panic(errBoom) }))},
			want:     "Plugin 'todo' startup failed: panic: boom\n\ngoroutine ...",
			wantIs:   errBoom,
		},
		{
			name: "factory panics",
			defaults: []*backend.ServiceFactory{backend.NewPluginServiceFactory(plugARef, func(context.Context, struct{}) (plugA, error) {
				panic("kaboom")
			})},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, needsPlugA) error { return nil }))},
			want:     "Plugin 'todo' startup failed: Failed to instantiate service 'test.plugA' for plugin 'todo': panic: kaboom\n\ngoroutine ...",
		},
		{
			name: "startup hook fails",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(_ context.Context, d struct{ L core.Lifecycle }) error {
				return d.L.AddStartupHook(func(context.Context) error { return errBoom })
			}))},
			want:   "Plugin 'todo' startup failed: boom",
			wantIs: errBoom,
		},
		{
			name: "root startup hook fails",
			defaults: []*backend.ServiceFactory{backend.NewRootServiceFactory(rootARef, func(_ context.Context, d struct{ L core.RootLifecycle }) (rootA, error) {
				return named("a"), d.L.AddStartupHook(func(context.Context) error { return errBoom })
			})},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(noop))},
			want:     "Root startup hook failed: boom",
			wantIs:   errBoom,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backend.New(backend.WithDefaults(tt.defaults...))
			if err := b.Add(tt.features...); err != nil {
				t.Fatal(err)
			}
			err := b.Start(t.Context())
			if err == nil {
				t.Fatal("Start succeeded, want an error")
			}
			if prefix, ok := strings.CutSuffix(tt.want, "..."); ok {
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("Start() error:\n%v\nwant the prefix:\n%s", err, prefix)
				}
			} else if err.Error() != tt.want {
				t.Errorf("Start() error:\n%v\nwant:\n%s", err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			var werr *backend.WiringError
			if errors.As(err, &werr) {
				t.Errorf("a runtime failure was reported as a wiring error: %v", err)
			}
			if err := b.Stop(t.Context()); err != nil {
				t.Errorf("Stop after a failed Start: %v", err)
			}
		})
	}
}
