package backend_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

var errBoom = errors.New("boom")

// box is a service implementation with identity, to tell instances apart.
type box struct{ name string }

func (b *box) Name() string { return b.name }

// countingFactory returns a factory of ref whose instances are *box values
// named after the plugin, counting the creations.
func countingFactory[T interface{ Name() string }](ref core.ServiceRef[T], n *counter, opts ...backend.FactoryOption) *backend.ServiceFactory {
	if ref.Scope() == core.RootScope {
		return backend.NewRootServiceFactory(ref, func(context.Context, struct{}) (T, error) {
			n.Add()
			return any(&box{name: "root"}).(T), nil
		}, opts...)
	}
	return backend.NewPluginServiceFactory(ref, func(_ context.Context, d struct{ M core.PluginMetadata }) (T, error) {
		n.Add()
		return any(&box{name: d.M.ID()}).(T), nil
	}, opts...)
}

// mustStart starts b, failing the test on error, and stops it when the test
// ends.
func mustStart(t *testing.T, b *backend.Backend) {
	t.Helper()
	t.Cleanup(func() {
		if err := b.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	if err := b.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

func TestScopes(t *testing.T) {
	var roots, plugins, lazy, eager, rootContexts, perPlugin counter
	var mu sync.Mutex
	seenRoot := map[rootA]bool{}
	seenPlugA := map[string]map[plugA]bool{}
	record := func(pluginID string, r rootA, a plugA) {
		mu.Lock()
		defer mu.Unlock()
		seenRoot[r] = true
		if seenPlugA[pluginID] == nil {
			seenPlugA[pluginID] = map[plugA]bool{}
		}
		seenPlugA[pluginID][a] = true
		if a.Name() != pluginID {
			t.Errorf("plugin %s got the plugA instance of %s", pluginID, a.Name())
		}
	}
	withContext := backend.NewPluginServiceFactoryWithContext(plugCRef,
		func(_ context.Context, d struct{ R rootA }) (*box, error) {
			rootContexts.Add()
			return &box{name: "ctx"}, nil
		},
		func(_ context.Context, rc *box, d struct{ M core.PluginMetadata }) (plugC, error) {
			perPlugin.Add()
			return named(rc.name + ":" + d.M.ID()), nil
		})
	b := backend.New(backend.WithDefaults(
		countingFactory(rootARef, &roots),
		countingFactory(plugARef, &plugins),
		countingFactory(plugBRef, &lazy),
		countingFactory(cycARef, &eager, backend.Eager()),
		withContext,
	))
	type deps struct {
		R rootA
		A plugA
		C plugC
		M core.PluginMetadata
	}
	for _, id := range []string{"one", "two", "three"} {
		err := b.Add(
			backend.NewPlugin(id, backend.Init(func(_ context.Context, d deps) error {
				record(id, d.R, d.A)
				if d.M.ID() != id {
					t.Errorf("PluginMetadata.ID() = %q, want %q", d.M.ID(), id)
				}
				if want := "ctx:" + id; d.C.Name() != want {
					t.Errorf("plugC = %q, want %q", d.C.Name(), want)
				}
				return nil
			})),
			backend.NewModule(id, "extra", backend.Init(func(_ context.Context, d deps) error {
				record(id, d.R, d.A)
				return nil
			})),
		)
		if err != nil {
			t.Fatal(err)
		}
	}
	mustStart(t, b)

	tests := []struct {
		name string
		got  int
		want int
	}{
		{"root instances", roots.Get(), 1},
		{"plugin instances (one per plugin)", plugins.Get(), 3},
		{"lazy plugin service nobody uses", lazy.Get(), 0},
		{"eager plugin service (one per plugin)", eager.Get(), 3},
		{"root contexts", rootContexts.Get(), 1},
		{"plugin instances of the factory with a root context", perPlugin.Get(), 3},
		{"distinct root instances seen", len(seenRoot), 1},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	for id, seen := range seenPlugA {
		if len(seen) != 1 {
			t.Errorf("plugin %s saw %d plugA instances, want 1 shared by the plugin and its module", id, len(seen))
		}
	}
}

func TestConcurrentPluginsCreateSharedServicesOnce(t *testing.T) {
	var roots, plugins counter
	b := backend.New(backend.WithDefaults(countingFactory(rootARef, &roots), countingFactory(plugARef, &plugins)))
	// rootB is lazy in the sense that only plugins reach it: it is created
	// through their dependencies, concurrently.
	var rootBs counter
	b2 := backend.NewRootServiceFactory(rootBRef, func(_ context.Context, d needsRootA) (rootB, error) {
		rootBs.Add()
		return named("b"), nil
	})
	if err := b.Add(b2); err != nil {
		t.Fatal(err)
	}
	const n = 16
	for i := range n {
		id := fmt.Sprintf("p%d", i)
		err := b.Add(
			backend.NewPlugin(id, backend.Init(func(context.Context, struct {
				A plugA
				B rootB
			}) error {
				return nil
			})),
			backend.NewModule(id, "m", backend.Init(func(context.Context, struct{ A plugA }) error { return nil })),
		)
		if err != nil {
			t.Fatal(err)
		}
	}
	// Concurrent Resolve calls race with the plugins for the same instances.
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := backend.Resolve(t.Context(), b, plugARef, fmt.Sprintf("p%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	mustStart(t, b)
	wg.Wait()
	if roots.Get() != 1 || rootBs.Get() != 1 || plugins.Get() != n {
		t.Errorf("created %d rootA, %d rootB, %d plugA; want 1, 1, %d", roots.Get(), rootBs.Get(), plugins.Get(), n)
	}
}

func TestMultiton(t *testing.T) {
	b := backend.New(backend.WithDefaults(valueFactory(multiRef, "default1"), valueFactory(multiRef, "default2")))
	var got, gotEmpty []string
	var emptyIsNil bool
	err := b.Add(
		valueFactory(multiRef, "added"),
		backend.NewPlugin("todo", backend.Init(func(_ context.Context, d struct {
			All   []multi
			Empty []multiEmpty
		}) error {
			for _, m := range d.All {
				got = append(got, m.Name())
			}
			for _, m := range d.Empty {
				gotEmpty = append(gotEmpty, m.Name())
			}
			emptyIsNil = d.Empty == nil
			return nil
		})),
	)
	if err != nil {
		t.Fatal(err)
	}
	mustStart(t, b)
	want := []string{"default1:todo", "default2:todo", "added:todo"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("multiton instances (-want +got):\n%s", diff)
	}
	if len(gotEmpty) != 0 || emptyIsNil {
		t.Errorf("multiton without factories = %v (nil: %v), want an empty slice", gotEmpty, emptyIsNil)
	}
	all, err := backend.ResolveAll(t.Context(), b, multiRef, "other")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range all {
		names = append(names, m.Name())
	}
	if diff := cmp.Diff([]string{"default1:other", "default2:other", "added:other"}, names); diff != "" {
		t.Errorf("ResolveAll (-want +got):\n%s", diff)
	}
	empty, err := backend.ResolveAll(t.Context(), b, multiEmptyRef, "todo")
	if err != nil || empty == nil || len(empty) != 0 {
		t.Errorf("ResolveAll(empty multiton) = %#v, %v; want an empty slice", empty, err)
	}
}

func TestFactoryPrecedence(t *testing.T) {
	tests := []struct {
		name     string
		defaults []*backend.ServiceFactory
		added    []backend.Feature
		want     string
	}{
		{"ref default factory", nil, nil, "ref-default:todo"},
		{"WithDefaults over ref default", []*backend.ServiceFactory{valueFactory(withDefRef, "defaults")}, nil, "defaults:todo"},
		{"later WithDefaults wins", []*backend.ServiceFactory{valueFactory(withDefRef, "first"), valueFactory(withDefRef, "second")}, nil, "second:todo"},
		{"added over WithDefaults", []*backend.ServiceFactory{valueFactory(withDefRef, "defaults")}, []backend.Feature{valueFactory(withDefRef, "added")}, "added:todo"},
		{"added over ref default", nil, []backend.Feature{valueFactory(withDefRef, "added")}, "added:todo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backend.New(backend.WithDefaults(tt.defaults...))
			var got string
			features := append(tt.added, backend.NewPlugin("todo", backend.Init(func(_ context.Context, d struct{ W withDef }) error {
				got = d.W.Name()
				return nil
			})))
			if err := b.Add(features...); err != nil {
				t.Fatal(err)
			}
			mustStart(t, b)
			if got != tt.want {
				t.Errorf("plugin got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRefDefaultFactoryCalledOncePerBackend(t *testing.T) {
	before := rootDefCalls.Get()
	b := backend.New()
	var got []string
	var mu sync.Mutex
	for _, id := range []string{"one", "two"} {
		if err := b.Add(backend.NewPlugin(id, backend.Init(func(_ context.Context, d struct{ R rootDef }) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, d.R.Name())
			return nil
		}))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := backend.Resolve(t.Context(), b, rootDefRef, ""); err != nil {
		t.Fatal(err)
	}
	mustStart(t, b)
	if _, err := backend.Resolve(t.Context(), b, rootDefRef, ""); err != nil {
		t.Fatal(err)
	}
	if n := rootDefCalls.Get() - before; n != 1 {
		t.Errorf("DefaultFactory called %d times, want 1", n)
	}
	if diff := cmp.Diff([]string{"root-default", "root-default"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestModuleOrder(t *testing.T) {
	// Module "provider" provides epB and consumes the plugin's epA; modules
	// "consumer-1" and "consumer-2" consume epB, so they init before
	// "provider"; "independent" has no order; the plugin inits last.
	rec := &recorder{}
	epAImpl, epBImpl := &recorder{}, &recorder{}
	b := backend.New()
	err := b.Add(
		backend.NewModule("catalog", "consumer-1", backend.Init(func(_ context.Context, d needsEPB) error {
			d.E.Add("consumer-1")
			rec.add("consumer-1")
			return nil
		})),
		backend.NewModule("catalog", "provider", backend.ProvideExtensionPoint(epBRef, func() epB { return epImpl{epBImpl} }),
			backend.Init(func(_ context.Context, d needsEPA) error {
				got := epBImpl.get()
				slices.Sort(got)
				rec.add("provider saw " + strings.Join(got, ","))
				d.E.Add("provider")
				return nil
			})),
		backend.NewPlugin("catalog", backend.ProvideExtensionPoint(epARef, func() epA { return epImpl{epAImpl} }),
			backend.Init(func(context.Context, struct{}) error {
				rec.add("plugin saw " + strings.Join(epAImpl.get(), ","))
				return nil
			})),
		backend.NewModule("catalog", "consumer-2", backend.Init(func(_ context.Context, d needsEPB) error {
			d.E.Add("consumer-2")
			rec.add("consumer-2")
			return nil
		})),
		backend.NewModule("catalog", "independent", backend.Init(func(context.Context, struct{}) error {
			rec.add("independent")
			return nil
		})),
	)
	if err != nil {
		t.Fatal(err)
	}
	mustStart(t, b)
	events := rec.get()
	pos := func(e string) int {
		i := slices.Index(events, e)
		if i < 0 {
			t.Fatalf("event %q missing from %q", e, events)
		}
		return i
	}
	provider := pos("provider saw consumer-1,consumer-2")
	plugin := pos("plugin saw provider")
	for _, before := range []string{"consumer-1", "consumer-2"} {
		if pos(before) > provider {
			t.Errorf("%s inited after provider: %q", before, events)
		}
	}
	if plugin != len(events)-1 || pos("independent") > plugin {
		t.Errorf("the plugin did not init after all its modules: %q", events)
	}
}

// meet makes two goroutines wait for each other: each closes its own
// channel and waits for the other's. It succeeds only if both run at the
// same time. A generous bound turns a regression into a failure rather
// than a hung test; it never decides a passing run.
func meet(mine, theirs chan struct{}) error {
	close(mine)
	select {
	case <-theirs:
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("the other init never ran concurrently")
	}
}

func TestPluginsInitConcurrently(t *testing.T) {
	a, b2 := make(chan struct{}), make(chan struct{})
	b := backend.New()
	err := b.Add(
		backend.NewPlugin("one", backend.Init(func(context.Context, struct{}) error { return meet(a, b2) })),
		backend.NewPlugin("two", backend.Init(func(context.Context, struct{}) error { return meet(b2, a) })),
	)
	if err != nil {
		t.Fatal(err)
	}
	mustStart(t, b)
}

func TestIndependentModulesInitConcurrently(t *testing.T) {
	a, b2 := make(chan struct{}), make(chan struct{})
	b := backend.New()
	err := b.Add(
		backend.NewPlugin("one", backend.Init(noop)),
		backend.NewModule("one", "a", backend.Init(func(context.Context, struct{}) error { return meet(a, b2) })),
		backend.NewModule("one", "b", backend.Init(func(context.Context, struct{}) error { return meet(b2, a) })),
	)
	if err != nil {
		t.Fatal(err)
	}
	mustStart(t, b)
}

// lifecycleRecorder is a root service that registers root hooks.
type lifecycleRecorder struct{ rec *recorder }

func (l lifecycleRecorder) Name() string { return "lifecycle" }

func TestLifecycleOrder(t *testing.T) {
	rec := &recorder{}
	hook := func(name string) core.Hook {
		return func(context.Context) error { rec.add(name); return nil }
	}
	root := backend.NewRootServiceFactory(rootARef, func(_ context.Context, d struct{ L core.RootLifecycle }) (rootA, error) {
		for _, err := range []error{
			d.L.AddStartupHook(hook("root startup 1")),
			d.L.AddStartupHook(hook("root startup 2")),
			d.L.AddBeforeShutdownHook(hook("root before-shutdown 1")),
			d.L.AddBeforeShutdownHook(hook("root before-shutdown 2")),
			d.L.AddShutdownHook(hook("root shutdown 1")),
			d.L.AddShutdownHook(hook("root shutdown 2")),
		} {
			if err != nil {
				return nil, err
			}
		}
		return named("root"), nil
	})
	plugin := func(id string) *backend.Plugin {
		return backend.NewPlugin(id, backend.Init(func(_ context.Context, d struct{ L core.Lifecycle }) error {
			rec.add(id + " init")
			return errors.Join(
				d.L.AddStartupHook(hook(id+" startup 1")),
				d.L.AddStartupHook(hook(id+" startup 2")),
				d.L.AddShutdownHook(hook(id+" shutdown 1")),
				d.L.AddShutdownHook(hook(id+" shutdown 2")),
			)
		}))
	}
	b := backend.New(backend.WithDefaults(root))
	if err := b.Add(plugin("one"), plugin("two")); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	events := rec.get()
	// Plugins run concurrently: check the order of each plugin's events
	// and of the phases.
	for _, id := range []string{"one", "two"} {
		var mine []string
		for _, e := range events {
			if strings.HasPrefix(e, id+" ") {
				mine = append(mine, e)
			}
		}
		want := []string{id + " init", id + " startup 1", id + " startup 2", id + " shutdown 2", id + " shutdown 1"}
		if diff := cmp.Diff(want, mine); diff != "" {
			t.Errorf("plugin %s events (-want +got):\n%s", id, diff)
		}
	}
	phase := func(e string) int {
		switch {
		case strings.HasPrefix(e, "root startup"):
			return 1
		case strings.HasPrefix(e, "root before-shutdown"):
			return 2
		case strings.HasSuffix(e, "shutdown 1") && !strings.HasPrefix(e, "root"), strings.HasSuffix(e, "shutdown 2") && !strings.HasPrefix(e, "root"):
			return 3
		case strings.HasPrefix(e, "root shutdown"):
			return 4
		}
		return 0 // plugin init and startup
	}
	for i := 1; i < len(events); i++ {
		if phase(events[i-1]) > phase(events[i]) {
			t.Errorf("%q came before %q: %q", events[i-1], events[i], events)
		}
	}
	var roots []string
	for _, e := range events {
		if strings.HasPrefix(e, "root") {
			roots = append(roots, e)
		}
	}
	want := []string{"root startup 1", "root startup 2", "root before-shutdown 2", "root before-shutdown 1", "root shutdown 2", "root shutdown 1"}
	if diff := cmp.Diff(want, roots); diff != "" {
		t.Errorf("root hooks (-want +got):\n%s", diff)
	}
}

// logRecord is one record of a recordingLogger.
type logRecord struct {
	level, msg string
	args       []any
}

// recordingLogger is a core.RootLogger that records what it logs.
type recordingLogger struct {
	mu      *sync.Mutex
	records *[]logRecord
}

func newRecordingLogger() recordingLogger {
	return recordingLogger{mu: &sync.Mutex{}, records: &[]logRecord{}}
}

func (l recordingLogger) log(level, msg string, args []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.records = append(*l.records, logRecord{level, msg, args})
}
func (l recordingLogger) Debug(msg string, args ...any) { l.log("DEBUG", msg, args) }
func (l recordingLogger) Info(msg string, args ...any)  { l.log("INFO", msg, args) }
func (l recordingLogger) Warn(msg string, args ...any)  { l.log("WARN", msg, args) }
func (l recordingLogger) Error(msg string, args ...any) { l.log("ERROR", msg, args) }
func (l recordingLogger) With(...any) core.Logger       { return l }
func (l recordingLogger) Handler() slog.Handler         { return slog.DiscardHandler }

// lines returns "LEVEL msg" for each record, with the error argument.
func (l recordingLogger) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range *l.records {
		line := r.level + " " + r.msg
		for i := 0; i+1 < len(r.args); i += 2 {
			switch v := r.args[i+1].(type) {
			case error:
				line += fmt.Sprintf(" %v=%q", r.args[i], v.Error())
			default:
				line += fmt.Sprintf(" %v=%v", r.args[i], v)
			}
		}
		out = append(out, line)
	}
	return out
}

func loggerFactory(l recordingLogger) *backend.ServiceFactory {
	return backend.NewRootServiceFactory(core.RootLoggerRef, func(context.Context, struct{}) (core.RootLogger, error) {
		return l, nil
	})
}

func TestStopRunsEveryHookAndJoinsErrors(t *testing.T) {
	errBefore, errPlugin, errRoot := errors.New("before failed"), errors.New("plugin failed"), errors.New("root failed")
	rec := &recorder{}
	log := newRecordingLogger()
	root := backend.NewRootServiceFactory(rootARef, func(_ context.Context, d struct{ L core.RootLifecycle }) (rootA, error) {
		return named("root"), errors.Join(
			d.L.AddShutdownHook(func(context.Context) error { rec.add("root 1"); return nil }),
			d.L.AddShutdownHook(func(context.Context) error { rec.add("root 2"); return errRoot }),
			d.L.AddBeforeShutdownHook(func(context.Context) error { rec.add("before"); return errBefore }),
		)
	})
	b := backend.New(backend.WithDefaults(root, loggerFactory(log)))
	err := b.Add(backend.NewPlugin("todo", backend.Init(func(_ context.Context, d struct{ L core.Lifecycle }) error {
		return errors.Join(
			d.L.AddShutdownHook(func(context.Context) error { rec.add("todo 1"); return nil }),
			d.L.AddShutdownHook(func(context.Context) error { rec.add("todo 2"); panic("kaboom") }),
			d.L.AddShutdownHook(func(context.Context) error { rec.add("todo 3"); return errPlugin }),
		)
	})))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	err = b.Stop(t.Context())
	for _, want := range []error{errBefore, errPlugin, errRoot} {
		if !errors.Is(err, want) {
			t.Errorf("Stop() = %v; want it to wrap %v", err, want)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	wantPrefixes := []string{
		"Root before-shutdown hook failed: before failed",
		"Plugin 'todo' shutdown hook failed: plugin failed",
		"Plugin 'todo' shutdown hook failed: panic: kaboom",
		"Root shutdown hook failed: root failed",
	}
	var got []string
	for _, l := range lines {
		for _, p := range wantPrefixes {
			if l == p {
				got = append(got, l)
			}
		}
	}
	if diff := cmp.Diff(wantPrefixes, got); diff != "" {
		t.Errorf("Stop() error lines (-want +got):\n%s\nerror:\n%v", diff, err)
	}
	if diff := cmp.Diff([]string{"before", "todo 3", "todo 2", "todo 1", "root 2", "root 1"}, rec.get()); diff != "" {
		t.Errorf("hooks run (-want +got):\n%s", diff)
	}
	var logged []string
	for _, l := range log.lines() {
		if strings.HasPrefix(l, "ERROR Shutdown hook failed") {
			logged = append(logged, l)
		}
	}
	if len(logged) != 4 || !strings.Contains(logged[0], "Root before-shutdown hook failed: before failed") {
		t.Errorf("logged shutdown failures: %q", logged)
	}
	// Stop is idempotent.
	if err := b.Stop(t.Context()); err != nil {
		t.Errorf("second Stop() = %v, want nil", err)
	}
	if n := len(rec.get()); n != 6 {
		t.Errorf("second Stop ran hooks again: %q", rec.get())
	}
}

func TestLogging(t *testing.T) {
	log := newRecordingLogger()
	b := backend.New(backend.WithDefaults(loggerFactory(log)))
	err := b.Add(
		backend.NewPlugin("good", backend.Init(noop)),
		backend.NewPlugin("bad", backend.Init(func(context.Context, struct{}) error { return errBoom })),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err == nil {
		t.Fatal("Start succeeded, want the failure of plugin 'bad'")
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := log.lines()
	// The plugins start concurrently: sort their lines.
	slices.Sort(got[1:3])
	want := []string{
		"INFO Plugin initialization started plugins=[bad good]",
		`ERROR Plugin startup failed plugin=bad error="Plugin 'bad' startup failed: boom"`,
		"INFO Plugin started plugin=good",
		"INFO Backend stopped",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestLateHooks(t *testing.T) {
	var pl core.Lifecycle
	b := backend.New()
	err := b.Add(backend.NewPlugin("todo", backend.Init(func(_ context.Context, d struct{ L core.Lifecycle }) error {
		pl = d.L
		return nil
	})))
	if err != nil {
		t.Fatal(err)
	}
	rl, err := backend.Resolve(t.Context(), b, core.RootLifecycleRef, "")
	if err != nil {
		t.Fatal(err)
	}
	nop := func(context.Context) error { return nil }
	tests := []struct {
		name string
		when string // "started" or "stopped"
		add  func() error
		want string
	}{
		{"plugin startup hook after startup", "started", func() error { return pl.AddStartupHook(nop) },
			"Attempted to add startup hook for plugin 'todo' after startup; add startup hooks from init or from a service factory"},
		{"root startup hook after startup", "started", func() error { return rl.AddStartupHook(nop) },
			"Attempted to add startup hook to the root lifecycle after startup; add startup hooks from init or from a service factory"},
		{"nil startup hook", "started", func() error { return pl.AddStartupHook(nil) }, "AddStartupHook for plugin 'todo': the hook is nil"},
		{"nil shutdown hook", "started", func() error { return pl.AddShutdownHook(nil) }, "AddShutdownHook for plugin 'todo': the hook is nil"},
		{"nil before-shutdown hook", "started", func() error { return rl.AddBeforeShutdownHook(nil) }, "AddBeforeShutdownHook to the root lifecycle: the hook is nil"},
		{"plugin shutdown hook after shutdown", "stopped", func() error { return pl.AddShutdownHook(nop) },
			"Attempted to add shutdown hook for plugin 'todo' after shutdown"},
		{"root shutdown hook after shutdown", "stopped", func() error { return rl.AddShutdownHook(nop) },
			"Attempted to add shutdown hook to the root lifecycle after shutdown"},
		{"before-shutdown hook after shutdown", "stopped", func() error { return rl.AddBeforeShutdownHook(nop) },
			"Attempted to add before-shutdown hook to the root lifecycle after shutdown has started"},
		{"nil drain hook", "started", func() error { return rl.AddDrainHook(nil) }, "AddDrainHook to the root lifecycle: the hook is nil"},
		{"drain hook after shutdown", "stopped", func() error { return rl.AddDrainHook(nop) },
			"Attempted to add drain hook to the root lifecycle after draining has started"},
		{"startup hook after shutdown", "stopped", func() error { return pl.AddStartupHook(nop) },
			"Attempted to add startup hook for plugin 'todo' after shutdown began"},
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Before shutdown, shutdown hooks may still be added.
	if err := pl.AddShutdownHook(nop); err != nil {
		t.Errorf("AddShutdownHook after startup: %v", err)
	}
	if err := rl.AddBeforeShutdownHook(nop); err != nil {
		t.Errorf("AddBeforeShutdownHook after startup: %v", err)
	}
	for _, when := range []string{"started", "stopped"} {
		if when == "stopped" {
			if err := b.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range tests {
			if tt.when != when {
				continue
			}
			t.Run(tt.name, func(t *testing.T) {
				err := tt.add()
				if err == nil || err.Error() != tt.want {
					t.Errorf("error = %v\nwant %s", err, tt.want)
				}
			})
		}
	}
}
