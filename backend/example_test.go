package backend_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// The services of the examples. A service is an interface and a ref,
// declared once at package level.
type (
	// Clock is a root service: one instance per backend.
	Clock interface{ Now() string }
	// Greeter is a plugin service: one instance per plugin.
	Greeter interface{ Greet(name string) string }
	// Check is a multiton service: any number of factories contribute.
	Check interface{ Check() string }
	// Greetings is an extension point of the "hello" plugin: its modules
	// add greetings, the plugin reads them all.
	Greetings interface {
		Add(greeting string)
		All() []string
	}
)

var (
	ClockRef     = core.NewServiceRef[Clock]("example.clock", core.WithScope(core.RootScope))
	GreeterRef   = core.NewServiceRef[Greeter]("example.greeter")
	CheckRef     = core.NewServiceRef[Check]("example.check", core.Multiton())
	GreetingsExt = core.NewExtensionPoint[Greetings]("example.greetings")
)

type fixedClock string

func (c fixedClock) Now() string { return string(c) }

type greeter struct {
	plugin string
	clock  Clock
}

func (g greeter) Greet(name string) string {
	return fmt.Sprintf("%s [%s] hello, %s", g.clock.Now(), g.plugin, name)
}

// ClockFactory provides the root Clock.
var ClockFactory = backend.NewRootServiceFactory(ClockRef, func(ctx context.Context, _ struct{}) (Clock, error) {
	return fixedClock("12:00"), nil
})

// GreeterFactory provides a Greeter per plugin. Its dependencies are the
// fields of a struct, like a plugin's.
var GreeterFactory = backend.NewPluginServiceFactory(GreeterRef, func(ctx context.Context, deps struct {
	Meta  core.PluginMetadata
	Clock Clock
}) (Greeter, error) {
	return greeter{plugin: deps.Meta.ID(), clock: deps.Clock}, nil
})

func ExampleNewPlugin() {
	type deps struct {
		Greeter   Greeter
		Lifecycle core.Lifecycle
	}
	hello := backend.NewPlugin("hello", backend.Init(func(ctx context.Context, d deps) error {
		fmt.Println(d.Greeter.Greet("init"))
		return d.Lifecycle.AddShutdownHook(func(ctx context.Context) error {
			fmt.Println("hello: shutting down")
			return nil
		})
	}))

	b := backend.New(backend.WithDefaults(ClockFactory, GreeterFactory))
	if err := b.Add(hello); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Stop(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 12:00 [hello] hello, init
	// hello: shutting down
}

// greetingList implements the Greetings extension point.
type greetingList struct {
	mu   sync.Mutex
	list []string
}

func (g *greetingList) Add(s string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.list = append(g.list, s)
}

func (g *greetingList) All() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.list)
}

func ExampleNewModule() {
	// The plugin provides an extension point; modules of the same plugin
	// consume it, and init before the plugin. The plugin receives, like its
	// modules, the implementation made for this backend.
	hello := backend.NewPlugin("hello",
		backend.ProvideExtensionPoint(GreetingsExt, func() Greetings { return &greetingList{} }),
		backend.Init(func(ctx context.Context, d struct{ Greetings Greetings }) error {
			fmt.Println("greetings:", strings.Join(d.Greetings.All(), ", "))
			return nil
		}))
	french := backend.NewModule("hello", "french", backend.Init(func(ctx context.Context, d struct{ Greetings Greetings }) error {
		d.Greetings.Add("bonjour")
		return nil
	}))

	b := backend.New()
	if err := b.Add(hello, french); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Start(context.Background()); err != nil {
		fmt.Println(err)
	}
	defer b.Stop(context.Background())
	// Output:
	// greetings: bonjour
}

func ExampleBackend_Start() {
	// Start validates the whole wiring before anything runs, and reports
	// every problem at once, naming where each plugin or module was
	// declared.
	b := backend.New() // no factory for Greeter
	err := b.Add(
		backend.NewPlugin("hello", backend.Init(func(ctx context.Context, d struct{ Greeter Greeter }) error {
			return nil
		})),
		backend.NewModule("missing", "extra", backend.Init(func(context.Context, struct{}) error { return nil })),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = b.Start(context.Background())
	fmt.Println(err)

	var werr *backend.WiringError
	if errors.As(err, &werr) {
		fmt.Println("problems:", len(werr.Problems))
	}
	// Output:
	// backend wiring has 2 problems:
	//   - Module 'extra' for plugin 'missing' (declared at backend/example_test.go:151) extends plugin 'missing', which is not added; add the plugin with backend.Add, or remove the module
	//   - Plugin 'hello' (declared at backend/example_test.go:148) depends on serviceRef{example.greeter} (field Greeter backend_test.Greeter), but no factory provides it; add its factory with backend.Add
	// problems: 2
}

func ExampleBackend_Start_failure() {
	// An init that fails fails Start, naming the plugin; the cause is
	// wrapped.
	errDown := errors.New("upstream is down")
	b := backend.New()
	err := b.Add(backend.NewPlugin("hello", backend.Init(func(ctx context.Context, _ struct{}) error {
		return errDown
	})))
	if err != nil {
		fmt.Println(err)
		return
	}
	err = b.Start(context.Background())
	fmt.Println(err)
	fmt.Println(errors.Is(err, errDown))
	// Output:
	// Plugin 'hello' startup failed: upstream is down
	// true
}

func ExampleBackend_Stop() {
	hook := func(name string) core.Hook {
		return func(context.Context) error { fmt.Println(name); return nil }
	}
	// A root service that registers root lifecycle hooks.
	ready := backend.NewRootServiceFactory(ClockRef, func(ctx context.Context, d struct{ Lifecycle core.RootLifecycle }) (Clock, error) {
		// Added in an order the engine ignores: it runs the phases of
		// Stop in its own order.
		return fixedClock("12:00"), errors.Join(
			d.Lifecycle.AddShutdownHook(hook("root: shutdown (database pools close)")),
			d.Lifecycle.AddDrainHook(hook("root: drain (the HTTP server finishes its requests)")),
			d.Lifecycle.AddStartupHook(hook("root: every plugin has started")),
			d.Lifecycle.AddBeforeShutdownHook(hook("root: before shutdown (readiness goes down)")),
		)
	})
	hello := backend.NewPlugin("hello", backend.Init(func(ctx context.Context, d struct{ Lifecycle core.Lifecycle }) error {
		return errors.Join(
			d.Lifecycle.AddStartupHook(hook("hello: started")),
			d.Lifecycle.AddShutdownHook(hook("hello: shutdown")),
		)
	}))
	b := backend.New(backend.WithDefaults(ready))
	if err := b.Add(hello); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Stop(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println("second Stop:", b.Stop(context.Background()))
	// Output:
	// hello: started
	// root: every plugin has started
	// root: before shutdown (readiness goes down)
	// root: drain (the HTTP server finishes its requests)
	// hello: shutdown
	// root: shutdown (database pools close)
	// second Stop: <nil>
}

func ExampleResolve() {
	// Resolve builds one service, and what it depends on, without starting
	// the backend: a unit test of a factory.
	b := backend.New(backend.WithDefaults(ClockFactory))
	if err := b.Add(GreeterFactory); err != nil {
		fmt.Println(err)
		return
	}
	defer b.Stop(context.Background())

	g, err := backend.Resolve(context.Background(), b, GreeterRef, "todo")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(g.Greet("test"))
	// Output:
	// 12:00 [todo] hello, test
}

type namedCheck string

func (c namedCheck) Check() string { return string(c) }

func checkFactory(name string) *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(CheckRef, func(context.Context, struct{}) (Check, error) {
		return namedCheck(name), nil
	})
}

func ExampleResolveAll() {
	// A multiton gathers the instances of every factory, in registration
	// order; a plugin declares a field of type []Check.
	b := backend.New(backend.WithDefaults(checkFactory("disk")))
	if err := b.Add(checkFactory("database")); err != nil {
		fmt.Println(err)
		return
	}
	checks, err := backend.ResolveAll(context.Background(), b, CheckRef, "todo")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range checks {
		fmt.Println(c.Check())
	}
	// Output:
	// disk
	// database
}

func ExampleNewRootServiceFactory() {
	// A root factory runs once per backend, when the backend starts, and may
	// depend only on root services.
	b := backend.New()
	if err := b.Add(ClockFactory); err != nil {
		fmt.Println(err)
		return
	}
	c, err := backend.Resolve(context.Background(), b, ClockRef, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Now())
	// Output:
	// 12:00
}

func ExampleNewPluginServiceFactory() {
	// A plugin factory runs once per plugin that uses the service; the
	// plugin and its modules share the instance.
	b := backend.New(backend.WithDefaults(ClockFactory, GreeterFactory))
	for _, id := range []string{"catalog", "todo"} {
		g, err := backend.Resolve(context.Background(), b, GreeterRef, id)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(g.Greet("you"))
	}
	// Output:
	// 12:00 [catalog] hello, you
	// 12:00 [todo] hello, you
}

func ExampleBackend_PluginIDs() {
	b := backend.New()
	noInit := backend.Init(func(context.Context, struct{}) error { return nil })
	if err := b.Add(
		backend.NewPlugin("todo", noInit),
		backend.NewModule("todo", "search", noInit),
		backend.NewPlugin("catalog", noInit),
	); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.PluginIDs())
	fmt.Println(b.ModuleIDs("todo"))
	// Output:
	// [catalog todo]
	// [search]
}

// pool stands for a resource shared by the plugin instances of a service,
// such as a connection pool.
type pool struct{ opened int }

func ExampleNewPluginServiceFactoryWithContext() {
	// The root context is created once per backend and passed to the
	// factory for every plugin.
	var opened int
	f := backend.NewPluginServiceFactoryWithContext(GreeterRef,
		func(ctx context.Context, d struct{ Clock Clock }) (*pool, error) {
			opened++
			return &pool{opened: opened}, nil
		},
		func(ctx context.Context, p *pool, d struct{ Meta core.PluginMetadata }) (Greeter, error) {
			return greeter{plugin: fmt.Sprintf("%s, pool %d", d.Meta.ID(), p.opened), clock: fixedClock("09:00")}, nil
		})
	b := backend.New(backend.WithDefaults(ClockFactory, f))
	for _, id := range []string{"catalog", "todo"} {
		g, err := backend.Resolve(context.Background(), b, GreeterRef, id)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(g.Greet("you"))
	}
	fmt.Println("pools opened:", opened)
	// Output:
	// 09:00 [catalog, pool 1] hello, you
	// 09:00 [todo, pool 1] hello, you
	// pools opened: 1
}

func ExampleEager() {
	// An eager plugin service is created for every plugin as it starts,
	// even when the plugin does not depend on it.
	f := backend.NewPluginServiceFactory(CheckRef, func(ctx context.Context, d struct{ Meta core.PluginMetadata }) (Check, error) {
		fmt.Println("created for", d.Meta.ID())
		return namedCheck(d.Meta.ID()), nil
	}, backend.Eager())
	b := backend.New(backend.WithDefaults(f))
	if err := b.Add(backend.NewPlugin("todo", backend.Init(func(context.Context, struct{}) error { return nil }))); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Start(context.Background()); err != nil {
		fmt.Println(err)
	}
	defer b.Stop(context.Background())
	// Output:
	// created for todo
}

func ExampleWithDefaults() {
	// A factory added with Add replaces the default for its service.
	replacement := backend.NewRootServiceFactory(ClockRef, func(ctx context.Context, _ struct{}) (Clock, error) {
		return fixedClock("23:59"), nil
	})
	b := backend.New(backend.WithDefaults(ClockFactory))
	if err := b.Add(replacement); err != nil {
		fmt.Println(err)
		return
	}
	c, err := backend.Resolve(context.Background(), b, ClockRef, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Now())
	// Output:
	// 23:59
}

func ExampleProvideExtensionPoint() {
	// The constructor runs once per backend: what modules register belongs
	// to the backend they run in, though hello and english are declared
	// once. A module that provides an extension point inits after the
	// modules that consume it.
	hello := backend.NewPlugin("hello", backend.Init(func(context.Context, struct{}) error { return nil }))
	registry := backend.NewModule("hello", "registry",
		backend.ProvideExtensionPoint(GreetingsExt, func() Greetings { return &greetingList{} }),
		backend.Init(func(ctx context.Context, d struct{ Greetings Greetings }) error {
			fmt.Println("registered:", strings.Join(d.Greetings.All(), ", "))
			return nil
		}))
	english := backend.NewModule("hello", "english", backend.Init(func(ctx context.Context, d struct{ Greetings Greetings }) error {
		d.Greetings.Add("hello")
		return nil
	}))
	for range 2 {
		b := backend.New()
		if err := b.Add(hello, registry, english); err != nil {
			fmt.Println(err)
			return
		}
		if err := b.Start(context.Background()); err != nil {
			fmt.Println(err)
		}
		b.Stop(context.Background())
	}
	// Output:
	// registered: hello
	// registered: hello
}

func ExampleInit() {
	// A struct tag names a dependency's ref by id. It is needed when two
	// refs share a Go type; otherwise the field's type finds the ref.
	type deps struct {
		Primary Greeter `greenroom:"example.greeter"`
	}
	b := backend.New(backend.WithDefaults(ClockFactory, GreeterFactory))
	err := b.Add(backend.NewPlugin("hello", backend.Init(func(ctx context.Context, d deps) error {
		fmt.Println(d.Primary.Greet("tagged"))
		return nil
	})))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Start(context.Background()); err != nil {
		fmt.Println(err)
	}
	defer b.Stop(context.Background())
	// Output:
	// 12:00 [hello] hello, tagged
}
