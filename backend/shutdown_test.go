package backend_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
)

// configFactory returns a root config factory with the YAML document doc.
func configFactory(t *testing.T, doc string) *backend.ServiceFactory {
	t.Helper()
	cfg, err := config.FromYAML(doc)
	if err != nil {
		t.Fatal(err)
	}
	return backend.NewRootServiceFactory(core.RootConfigRef, func(context.Context, struct{}) (core.RootConfig, error) {
		return cfg, nil
	})
}

// TestStopPhasesAreTheEngines registers the hooks of every phase in an
// adversarial order (what must close last first, what must run first
// last, from root services created early and late and from a plugin) and
// checks that Stop runs them by phase: before-shutdown, drain, plugin
// shutdown, root shutdown. With shutdown hooks run last-registered-first
// alone, a root service created after the HTTP router (a database pool)
// would close before the server had drained.
func TestStopPhasesAreTheEngines(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	hook := func(name string) core.Hook {
		return func(context.Context) error { rec.add(name); return nil }
	}
	// Created first: a "pool" that closes on shutdown, then a "server"
	// that drains.
	early := backend.NewRootServiceFactory(rootARef, func(_ context.Context, d struct{ L core.RootLifecycle }) (rootA, error) {
		return named("early"), errors.Join(
			d.L.AddShutdownHook(hook("root shutdown: pool closes")),
			d.L.AddDrainHook(hook("drain: server A")),
			d.L.AddBeforeShutdownHook(hook("before-shutdown: readiness down")),
		)
	})
	// Created after it, as it depends on it: adds in the opposite order.
	late := backend.NewRootServiceFactory(rootBRef, func(_ context.Context, d struct {
		L core.RootLifecycle
		A rootA
	}) (rootB, error) {
		return named("late"), errors.Join(
			d.L.AddBeforeShutdownHook(hook("before-shutdown: late")),
			d.L.AddDrainHook(hook("drain: server B")),
			d.L.AddShutdownHook(hook("root shutdown: cache closes")),
		)
	})
	plugin := backend.NewPlugin("todo", backend.Init(func(_ context.Context, d struct {
		L    core.Lifecycle
		Root core.RootLifecycle
		B    rootB
	}) error {
		return errors.Join(
			d.L.AddShutdownHook(hook("plugin shutdown: todo")),
			d.Root.AddDrainHook(hook("drain: from init")),
			d.Root.AddBeforeShutdownHook(hook("before-shutdown: from init")),
		)
	}))
	b := backend.New(backend.WithDefaults(early, late))
	if err := b.Add(plugin); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	phase := map[string]int{"before-shutdown": 1, "drain": 2, "plugin shutdown": 3, "root shutdown": 4}
	events := rec.get()
	var phases []int
	for _, e := range events {
		p, _, _ := strings.Cut(e, ":")
		phases = append(phases, phase[p])
	}
	if diff := cmp.Diff([]int{1, 1, 1, 2, 2, 2, 3, 4, 4}, phases); diff != "" {
		t.Errorf("phases (-want +got):\n%s\nevents: %q", diff, events)
	}
	// Within a phase, before-shutdown and shutdown hooks keep running
	// last-added first.
	var roots []string
	for _, e := range events {
		if strings.HasPrefix(e, "root shutdown") || strings.HasPrefix(e, "before-shutdown") {
			roots = append(roots, e)
		}
	}
	want := []string{
		"before-shutdown: from init", "before-shutdown: late", "before-shutdown: readiness down",
		"root shutdown: cache closes", "root shutdown: pool closes",
	}
	if diff := cmp.Diff(want, roots); diff != "" {
		t.Errorf("order within phases (-want +got):\n%s", diff)
	}
}

// TestDrainHookContextEndsAtTheShutdownTimeout: a drain hook that waits
// for ever is cut off by backend.lifecycle.serverShutdownTimeout, its error
// says so, and the later phases still run.
func TestDrainHookContextEndsAtTheShutdownTimeout(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	root := backend.NewRootServiceFactory(rootARef, func(_ context.Context, d struct{ L core.RootLifecycle }) (rootA, error) {
		return named("server"), errors.Join(
			d.L.AddDrainHook(func(ctx context.Context) error {
				<-ctx.Done()
				rec.add("drain cut off")
				return context.Cause(ctx)
			}),
			d.L.AddShutdownHook(func(context.Context) error { rec.add("pool closes"); return nil }),
		)
	})
	b := backend.New(backend.WithDefaults(root, configFactory(t, "backend: {lifecycle: {serverShutdownTimeout: 1ms}}")))
	if err := b.Add(backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ A rootA }) error { return nil }))); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := b.Stop(t.Context())
	if want := "Root drain hook failed: requests were still in flight after backend.lifecycle.serverShutdownTimeout (1ms)"; err == nil || err.Error() != want {
		t.Errorf("Stop() = %v, want %q", err, want)
	}
	if diff := cmp.Diff([]string{"drain cut off", "pool closes"}, rec.get()); diff != "" {
		t.Errorf("hooks run (-want +got):\n%s", diff)
	}
}

// TestShutdownDelayEndsWithStopsContext: the delay between readiness
// down and draining is configurable, and a Stop whose context is done does
// not wait it out.
func TestShutdownDelayEndsWithStopsContext(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	log := newRecordingLogger()
	root := backend.NewRootServiceFactory(rootARef, func(_ context.Context, d struct{ L core.RootLifecycle }) (rootA, error) {
		return named("server"), errors.Join(
			d.L.AddBeforeShutdownHook(func(context.Context) error { rec.add("readiness down"); return nil }),
			d.L.AddDrainHook(func(context.Context) error { rec.add("drain"); return nil }),
		)
	})
	b := backend.New(backend.WithDefaults(root, loggerFactory(log),
		configFactory(t, "backend: {lifecycle: {serverShutdownDelay: 1h}}")))
	if err := b.Add(backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ A rootA }) error { return nil }))); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // an hour's delay must not hold a Stop that has no time left
	if err := b.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"readiness down", "drain"}, rec.get()); diff != "" {
		t.Errorf("hooks run (-want +got):\n%s", diff)
	}
	var waited bool
	for _, l := range log.lines() {
		waited = waited || l == "INFO Waiting before closing the servers (backend.lifecycle.serverShutdownDelay) delay=1h0m0s"
	}
	if !waited {
		t.Errorf("log = %q, want the delay logged", log.lines())
	}
}

func TestStartRejectsBadShutdownSettings(t *testing.T) {
	t.Parallel()
	tests := []struct{ doc, want string }{
		{"backend: {lifecycle: {serverShutdownDelay: -1s}}", "backend.Start: config key backend.lifecycle.serverShutdownDelay is -1s; use a duration of 0 or more, such as 5s"},
		{"backend: {lifecycle: {serverShutdownTimeout: 0}}", "backend.Start: config key backend.lifecycle.serverShutdownTimeout is 0s; use a positive duration, such as 30s"},
		{"backend: {lifecycle: {serverShutdownTimeout: soon}}", "backend.lifecycle.serverShutdownTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			t.Parallel()
			b := backend.New(backend.WithDefaults(configFactory(t, tt.doc)))
			if err := b.Add(backend.NewPlugin("todo", backend.Init(noop))); err != nil {
				t.Fatal(err)
			}
			err := b.Start(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start() = %v, want an error containing %q", err, tt.want)
			}
			if err := b.Stop(t.Context()); err != nil {
				t.Errorf("Stop() = %v", err)
			}
		})
	}
}

// TestDrainHookAddedAfterTheDrainPhaseIsRefused: with no drain hook when
// Stop reaches the drain phase, a drain hook added later (here by a
// plugin's shutdown hook) is refused with an error rather than accepted
// and never run, which would leave its server serving.
func TestDrainHookAddedAfterTheDrainPhaseIsRefused(t *testing.T) {
	t.Parallel()
	var addErr error
	drained := false
	plugin := backend.NewPlugin("todo", backend.Init(func(_ context.Context, d struct {
		L    core.Lifecycle
		Root core.RootLifecycle
	}) error {
		return d.L.AddShutdownHook(func(context.Context) error {
			addErr = d.Root.AddDrainHook(func(context.Context) error { drained = true; return nil })
			return nil
		})
	}))
	b := backend.New()
	if err := b.Add(plugin); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	const want = "Attempted to add drain hook to the root lifecycle after draining has started"
	if addErr == nil || addErr.Error() != want {
		t.Errorf("AddDrainHook during plugin shutdown: got %v (hook run: %v), want %q", addErr, drained, want)
	}
}

// TestFailedStartSkipsTheShutdownDelay: after a failed Start readiness
// never went up, so there is nothing for load balancers to notice and Stop
// drains without waiting for backend.lifecycle.serverShutdownDelay (an
// hour here; before, Stop waited for it). Start's own error about bad
// shutdown settings is not logged again by Stop.
func TestFailedStartSkipsTheShutdownDelay(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, doc string }{
		{"a plugin fails", "backend: {lifecycle: {serverShutdownDelay: 1h}}"},
		{"bad settings", "backend: {lifecycle: {serverShutdownDelay: 1h, serverShutdownTimeout: soon}}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			log := newRecordingLogger()
			root := backend.NewRootServiceFactory(rootARef, func(_ context.Context, d struct{ L core.RootLifecycle }) (rootA, error) {
				return named("server"), d.L.AddDrainHook(func(context.Context) error { rec.add("drain"); return nil })
			})
			b := backend.New(backend.WithDefaults(root, loggerFactory(log), configFactory(t, tt.doc)))
			failing := backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ A rootA }) error {
				return errors.New("the plugin failed")
			}))
			if err := b.Add(failing); err != nil {
				t.Fatal(err)
			}
			if err := b.Start(t.Context()); err == nil {
				t.Fatal("Start() = nil, want an error")
			}
			// Stop's context is done, so that a Stop that starts the
			// hour's wait ends it at once; the log tells whether it did.
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := b.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"drain"}, rec.get()); diff != "" {
				t.Errorf("hooks run (-want +got):\n%s", diff)
			}
			for _, l := range log.lines() {
				if strings.Contains(l, "serverShutdownDelay") || strings.Contains(l, "Invalid shutdown settings") {
					t.Errorf("Stop logged %q after a failed Start", l)
				}
			}
		})
	}
}
