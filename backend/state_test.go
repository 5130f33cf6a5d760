package backend_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

func TestStateErrors(t *testing.T) {
	plugin := backend.NewPlugin("todo", backend.Init(noop))
	late := backend.NewPlugin("late", backend.Init(noop))
	tests := []struct {
		name string
		run  func(t *testing.T, b *backend.Backend) error
		want string
	}{
		{"Start twice", func(t *testing.T, b *backend.Backend) error {
			if err := b.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			return b.Start(t.Context())
		}, "backend has already started"},
		{"Start again after a failed Start", func(t *testing.T, b *backend.Backend) error {
			if err := b.Add(backend.NewPlugin("bad")); err != nil {
				t.Fatal(err)
			}
			if err := b.Start(t.Context()); err == nil {
				t.Fatal("Start succeeded")
			}
			return b.Start(t.Context())
		}, "backend has already started"},
		{"Add after Start", func(t *testing.T, b *backend.Backend) error {
			if err := b.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			return b.Add(late)
		}, "backend.Add: cannot add plugin 'late' after the backend has started; add every feature before Start"},
		{"Add nil after Start", func(t *testing.T, b *backend.Backend) error {
			if err := b.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			return b.Add(nil)
		}, "backend.Add: cannot add a nil feature after the backend has started; add every feature before Start"},
		{"Start after Stop", func(t *testing.T, b *backend.Backend) error {
			if err := b.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := b.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			return b.Start(t.Context())
		}, "backend.Start: the backend has already stopped; create a new one with backend.New"},
		{"Add after Stop", func(t *testing.T, b *backend.Backend) error {
			if err := b.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			return b.Add(late)
		}, "backend.Add: cannot add plugin 'late': the backend has stopped"},
		{"Start with a cancelled context", func(t *testing.T, b *backend.Backend) error {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return b.Start(ctx)
		}, "backend.Start: context canceled"},
		{"Add a factory of a service Resolve instantiated", func(t *testing.T, b *backend.Backend) error {
			if err := b.Add(valueFactory(plugARef, "first")); err != nil {
				t.Fatal(err)
			}
			if _, err := backend.Resolve(t.Context(), b, plugARef, "todo"); err != nil {
				t.Fatal(err)
			}
			// A factory of another service may still be added.
			if err := b.Add(valueFactory(plugBRef, "b")); err != nil {
				t.Errorf("Add(another factory) = %v", err)
			}
			return b.Add(valueFactory(plugARef, "second"))
		}, "backend.Add: cannot add factory of serviceRef{test.plugA}: serviceRef{test.plugA} has already been instantiated by Resolve; add factories before resolving services"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backend.New()
			if err := b.Add(plugin); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Stop(context.Background()) })
			err := tt.run(t, b)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestStopAfterFailedStartStopsWhatStarted(t *testing.T) {
	rec := &recorder{}
	proceed := make(chan struct{})
	b := backend.New()
	err := b.Add(
		backend.NewPlugin("good", backend.Init(func(_ context.Context, d struct{ L core.Lifecycle }) error {
			defer close(proceed)
			return d.L.AddShutdownHook(func(context.Context) error { rec.add("good stopped"); return nil })
		})),
		backend.NewPlugin("bad", backend.Init(func(_ context.Context, d struct{ L core.Lifecycle }) error {
			<-proceed // fail only after "good" has started
			if err := d.L.AddShutdownHook(func(context.Context) error { rec.add("bad stopped"); return nil }); err != nil {
				return err
			}
			return errBoom
		})),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); !errors.Is(err, errBoom) {
		t.Fatalf("Start() = %v, want the failure of plugin 'bad'", err)
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Every hook that was added runs, so that resources a failed plugin
	// acquired are released too. Plugins stop concurrently.
	got := rec.get()
	slices.Sort(got)
	if diff := cmp.Diff([]string{"bad stopped", "good stopped"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStopWithoutStartRunsHooksOfResolvedServices(t *testing.T) {
	rec := &recorder{}
	f := backend.NewPluginServiceFactory(plugARef, func(_ context.Context, d struct {
		L core.Lifecycle
		R core.RootLifecycle
	}) (plugA, error) {
		return named("a"), errors.Join(
			d.L.AddShutdownHook(func(context.Context) error { rec.add("plugin shutdown"); return nil }),
			d.L.AddStartupHook(func(context.Context) error { rec.add("never: Resolve does not start"); return nil }),
			d.R.AddShutdownHook(func(context.Context) error { rec.add("root shutdown"); return nil }),
		)
	})
	b := backend.New(backend.WithDefaults(f))
	if _, err := backend.Resolve(t.Context(), b, plugARef, "todo"); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"plugin shutdown", "root shutdown"}, rec.get()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := b.Start(t.Context()); err == nil {
		t.Error("Start after Stop succeeded")
	}
}

func TestStopCancelsAndWaitsForInFlightStart(t *testing.T) {
	entered := make(chan struct{})
	rec := &recorder{}
	b := backend.New()
	err := b.Add(backend.NewPlugin("slow", backend.Init(func(ctx context.Context, d struct{ L core.Lifecycle }) error {
		if err := d.L.AddShutdownHook(func(context.Context) error { rec.add("shutdown"); return nil }); err != nil {
			return err
		}
		close(entered)
		<-ctx.Done()
		rec.add("init saw cancellation")
		return context.Cause(ctx)
	})))
	if err != nil {
		t.Fatal(err)
	}
	startErr := make(chan error, 1)
	go func() { startErr <- b.Start(context.Background()) }()
	<-entered
	if err := b.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The init finished before the shutdown hooks ran: Stop waited for it.
	want := "Plugin 'slow' startup failed: the backend is stopping"
	if err := <-startErr; err == nil || err.Error() != want {
		t.Errorf("Start() = %v, want %s", err, want)
	}
	if diff := cmp.Diff([]string{"init saw cancellation", "shutdown"}, rec.get()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestConcurrentStopCallsRunHooksOnce(t *testing.T) {
	var n counter
	b := backend.New()
	err := b.Add(backend.NewPlugin("todo", backend.Init(func(_ context.Context, d struct{ L core.Lifecycle }) error {
		return d.L.AddShutdownHook(func(context.Context) error { n.Add(); return nil })
	})))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- b.Stop(t.Context()) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n.Get() != 1 {
		t.Errorf("shutdown hook ran %d times, want 1", n.Get())
	}
}

func TestResolve(t *testing.T) {
	var plugins counter
	var gotA plugA
	var gotL core.Lifecycle
	b := backend.New(backend.WithDefaults(countingFactory(plugARef, &plugins)))
	err := b.Add(backend.NewPlugin("todo", backend.Init(func(_ context.Context, d struct {
		A plugA
		L core.Lifecycle
	}) error {
		gotA, gotL = d.A, d.L
		return nil
	})))
	if err != nil {
		t.Fatal(err)
	}
	before, err := backend.Resolve(t.Context(), b, plugARef, "todo")
	if err != nil {
		t.Fatal(err)
	}
	mustStart(t, b)
	after, err := backend.Resolve(t.Context(), b, plugARef, "todo")
	if err != nil {
		t.Fatal(err)
	}
	if before != gotA || after != gotA || plugins.Get() != 1 {
		t.Errorf("Resolve before Start, the plugin and Resolve after Start got %p, %p, %p (%d created); want one instance", before, gotA, after, plugins.Get())
	}
	other, err := backend.Resolve(t.Context(), b, plugARef, "other")
	if err != nil || other.Name() != "other" || plugins.Get() != 2 {
		t.Errorf("Resolve for another plugin = %v, %v (%d created)", other, err, plugins.Get())
	}
	l, err := backend.Resolve(t.Context(), b, core.LifecycleRef, "todo")
	if err != nil || l != gotL {
		t.Errorf("Resolve(lifecycle) = %v, %v; want the plugin's lifecycle %v", l, err, gotL)
	}
	m, err := backend.Resolve(t.Context(), b, core.PluginMetadataRef, "todo")
	if err != nil || m.ID() != "todo" {
		t.Errorf("Resolve(pluginMetadata) = %v, %v", m, err)
	}
	r1, err1 := backend.Resolve(t.Context(), b, core.RootLifecycleRef, "")
	r2, err2 := backend.Resolve(t.Context(), b, core.RootLifecycleRef, "ignored")
	if err := errors.Join(err1, err2); err != nil || r1 != r2 {
		t.Errorf("Resolve(rootLifecycle) = %v, %v; want one instance (%v)", r1, r2, err)
	}
}

func TestPluginAndModuleIDs(t *testing.T) {
	b := backend.New()
	err := b.Add(
		backend.NewPlugin("todo", backend.Init(noop)),
		backend.NewModule("todo", "b", backend.Init(noop)),
		backend.NewPlugin("catalog", backend.Init(noop)),
		backend.NewModule("todo", "a", backend.Init(noop)),
		backend.NewModule("search", "c", backend.Init(noop)),
		valueFactory(plugARef, "a"),
		nil,
	)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"catalog", "todo"}, b.PluginIDs()); diff != "" {
		t.Errorf("PluginIDs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "b"}, b.ModuleIDs("todo")); diff != "" {
		t.Errorf("ModuleIDs(todo) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c"}, b.ModuleIDs("search")); diff != "" {
		t.Errorf("ModuleIDs(search) (-want +got):\n%s", diff)
	}
	if got := b.ModuleIDs("catalog"); len(got) != 0 {
		t.Errorf("ModuleIDs(catalog) = %v, want none", got)
	}
}

func TestDependencies(t *testing.T) {
	type deps struct {
		A plugA
		E epA
		X notARef
		M core.PluginMetadata
	}
	m := backend.NewModule("todo", "extra", backend.Init(func(context.Context, deps) error { return nil }))
	var got []string
	for _, r := range m.Dependencies() {
		got = append(got, r.String())
	}
	want := []string{"serviceRef{test.plugA}", "extensionPoint{test.epA}", "serviceRef{core.pluginMetadata}"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Module.Dependencies (-want +got):\n%s", diff)
	}
	if deps := backend.NewPlugin("todo").Dependencies(); deps != nil {
		t.Errorf("Dependencies of a plugin without init = %v", deps)
	}
}

func TestStartHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var createdB, inits counter
	b := backend.New(backend.WithDefaults(
		backend.NewRootServiceFactory(rootARef, func(context.Context, struct{}) (rootA, error) {
			cancel() // the caller gives up while root services are being created
			return named("a"), nil
		}),
		countingFactory(rootBRef, &createdB),
	))
	if err := b.Add(backend.NewPlugin("todo", backend.Init(func(context.Context, struct{}) error { inits.Add(); return nil }))); err != nil {
		t.Fatal(err)
	}
	err := b.Start(ctx)
	if !errors.Is(err, context.Canceled) || err.Error() != "backend.Start: context canceled" {
		t.Errorf("Start() = %v, want backend.Start: context canceled", err)
	}
	if createdB.Get() != 0 || inits.Get() != 0 {
		t.Errorf("after cancellation, %d root services were created and %d plugins inited; want none", createdB.Get(), inits.Get())
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestResolveAfterStartChecksServicesStartDidNotUse checks that Resolve
// after Start still reports the wiring problems of a service that no
// plugin depends on, whose factory Start therefore did not check.
func TestResolveAfterStartChecksServicesStartDidNotUse(t *testing.T) {
	// plugB's factory depends on plugC, which no factory provides.
	b := backend.New(backend.WithDefaults(
		countingFactory(plugARef, &counter{}),
		backend.NewPluginServiceFactory(plugBRef, func(_ context.Context, d struct{ C plugC }) (plugB, error) {
			return named("b"), nil
		}),
	))
	if err := b.Add(backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ A plugA }) error { return nil }))); err != nil {
		t.Fatal(err)
	}
	mustStart(t, b)
	if _, err := backend.Resolve(t.Context(), b, plugARef, "todo"); err != nil {
		t.Errorf("Resolve of a service the plugin uses: %v", err)
	}
	_, err := backend.Resolve(t.Context(), b, plugBRef, "todo")
	var we *backend.WiringError
	if !errors.As(err, &we) || !strings.Contains(err.Error(), "depends on serviceRef{test.plugC} (field C backend_test.plugC), but no factory provides it") {
		t.Errorf("Resolve of a service whose dependency is missing = %v; want a WiringError naming serviceRef{test.plugC}", err)
	}
}

// foreignFeature is a type of another package that embeds backend.Feature,
// as testbackend.Option once did to ride among the features.
type foreignFeature struct {
	backend.Feature
	name string
}

func (f foreignFeature) String() string { return "option " + f.name }

// TestAddRejectsForeignFeatures checks that Add fails, adding nothing, for
// a value that embeds Feature but is none of the package's features: Start
// used to skip it silently.
func TestAddRejectsForeignFeatures(t *testing.T) {
	t.Parallel()
	b := backend.New()
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	err := b.Add(backend.NewPlugin("todo", backend.Init(noop)), foreignFeature{name: "default user"})
	want := "backend.Add: option default user (a backend_test.foreignFeature) is not a plugin, module or service factory"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Add = %v, want an error starting with %q", err, want)
	}
	if ids := b.PluginIDs(); len(ids) != 0 {
		t.Errorf("PluginIDs = %q after a failed Add, want none", ids)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Errorf("Start after the failed Add: %v", err)
	}
}
