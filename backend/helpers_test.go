package backend_test

import (
	"context"
	"sync"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Service types of the tests. Each ref has its own Go type, except
// sharedType, which two refs share to test ambiguity.
type (
	rootA      interface{ Name() string }
	rootB      interface{ Name() string }
	plugA      interface{ Name() string }
	plugB      interface{ Name() string }
	plugC      interface{ Name() string }
	cycA       interface{ Name() string }
	cycB       interface{ Name() string }
	cycC       interface{ Name() string }
	multi      interface{ Name() string }
	multiEmpty interface{ Name() string }
	sharedType interface{ Name() string }
	withDef    interface{ Name() string }
	rootDef    interface{ Name() string }
	badDef     interface{ Name() string }
	wrongDef   interface{ Name() string }
	ptrSvc     interface{ Name() string }
	notARef    interface{ Name() string }
	epA        interface{ Add(string) }
	epB        interface{ Add(string) }
	epC        interface{ Add(string) }
)

// named implements the service types.
type named string

func (n named) Name() string { return string(n) }

var (
	rootARef      = core.NewServiceRef[rootA]("test.rootA", core.WithScope(core.RootScope))
	rootBRef      = core.NewServiceRef[rootB]("test.rootB", core.WithScope(core.RootScope))
	plugARef      = core.NewServiceRef[plugA]("test.plugA")
	plugBRef      = core.NewServiceRef[plugB]("test.plugB")
	plugCRef      = core.NewServiceRef[plugC]("test.plugC")
	cycARef       = core.NewServiceRef[cycA]("test.cycA")
	cycBRef       = core.NewServiceRef[cycB]("test.cycB")
	cycCRef       = core.NewServiceRef[cycC]("test.cycC")
	multiRef      = core.NewServiceRef[multi]("test.multi", core.Multiton())
	multiEmptyRef = core.NewServiceRef[multiEmpty]("test.multiEmpty", core.Multiton())
	shared1Ref    = core.NewServiceRef[sharedType]("test.shared1")
	shared2Ref    = core.NewServiceRef[sharedType]("test.shared2")
	withDefRef    = core.NewServiceRef[withDef]("test.withDef", core.WithDefaultFactory(func(ref core.ServiceRef[withDef]) core.ServiceFactory {
		return backend.NewPluginServiceFactory(ref, func(_ context.Context, d struct{ M core.PluginMetadata }) (withDef, error) {
			return named("ref-default:" + d.M.ID()), nil
		})
	}))
	rootDefRef = core.NewServiceRef[rootDef]("test.rootDef", core.WithScope(core.RootScope), core.WithDefaultFactory(func(ref core.ServiceRef[rootDef]) core.ServiceFactory {
		rootDefCalls.Add()
		return backend.NewRootServiceFactory(ref, func(context.Context, struct{}) (rootDef, error) {
			return named("root-default"), nil
		})
	}))
	badDefRef   = core.NewServiceRef[badDef]("test.badDef", core.WithDefaultFactory(func(r core.ServiceRef[badDef]) core.ServiceFactory { return foreignFactory{r} }))
	wrongDefRef = core.NewServiceRef[wrongDef]("test.wrongDef", core.WithDefaultFactory(func(core.ServiceRef[wrongDef]) core.ServiceFactory {
		return valueFactory(plugARef, "wrong")
	}))
	epARef = core.NewExtensionPoint[epA]("test.epA")
	epBRef = core.NewExtensionPoint[epB]("test.epB")
	epCRef = core.NewExtensionPoint[epC]("test.epC")
)

// foreignFactory is a core.ServiceFactory that package backend did not
// build.
type foreignFactory struct{ ref core.Ref }

func (f foreignFactory) Ref() core.Ref { return f.ref }

// rootDefCalls counts the calls of rootDefRef's DefaultFactory function,
// which must be called at most once per backend.
var rootDefCalls counter

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) Add()     { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *counter) Get() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// valueFactory returns a factory of ref, root or plugin scoped as the ref
// is, with no dependencies, whose instances are named value (plus
// ":<pluginId>" for plugin services).
func valueFactory[T interface{ Name() string }](ref core.ServiceRef[T], value string) *backend.ServiceFactory {
	if ref.Scope() == core.RootScope {
		return backend.NewRootServiceFactory(ref, func(context.Context, struct{}) (T, error) {
			return any(named(value)).(T), nil
		})
	}
	return backend.NewPluginServiceFactory(ref, func(_ context.Context, d struct{ M core.PluginMetadata }) (T, error) {
		return any(named(value + ":" + d.M.ID())).(T), nil
	})
}

// noop is an init function with no dependencies.
func noop(context.Context, struct{}) error { return nil }

// recorder records events from concurrent goroutines.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// epImpl implements the extension point types.
type epImpl struct{ rec *recorder }

func (e epImpl) Add(s string) { e.rec.add(s) }
