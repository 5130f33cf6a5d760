package backend

import (
	"context"
	"fmt"
	"reflect"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// ServiceFactory builds the instances of one service. Build it with
// [NewRootServiceFactory], [NewPluginServiceFactory] or
// [NewPluginServiceFactoryWithContext] and install it with [Backend.Add]
// (or as a default with [WithDefaults]).
//
// A root service has one instance per backend. A plugin service has one
// instance per plugin, created lazily when a plugin (or another service)
// depends on it, unless the factory is [Eager]. A factory's dependencies are
// declared, like a plugin's, as the fields of a struct type.
type ServiceFactory struct {
	ref   *refindex.Desc
	eager bool
	// deps is the dependency struct type of create.
	deps reflect.Type
	// create builds an instance from a pointer to a value of type deps
	// and the root context (nil when the factory has none).
	create func(ctx context.Context, deps reflect.Value, rootContext any) (any, error)
	// box turns an instance into a reflect.Value of the service's type
	// (boxOf[T]).
	box func(any) reflect.Value
	// rootDeps is the dependency struct type of createRootContext, or nil;
	// createRootContext takes a pointer to a value of it.
	rootDeps          reflect.Type
	createRootContext func(ctx context.Context, deps reflect.Value) (any, error)
	// pc is where the constructor was called, see position.
	pc uintptr
}

// FactoryOption configures a [ServiceFactory].
type FactoryOption func(*ServiceFactory)

// Eager makes a plugin service factory create an instance for every plugin
// when the plugin starts, even when nothing depends on it. The HTTP router
// uses it so that every plugin is mounted. Root services are always eager.
func Eager() FactoryOption { return func(f *ServiceFactory) { f.eager = true } }

// Ref returns the ref the factory provides. It makes *ServiceFactory a
// [core.ServiceFactory], which a ref's default factory returns (see
// core.WithDefaultFactory).
func (f *ServiceFactory) Ref() core.Ref { return f.ref.Ref }

var _ core.ServiceFactory = (*ServiceFactory)(nil)

// String describes the factory for error messages.
func (f *ServiceFactory) String() string { return "factory of " + f.ref.String() }

func (f *ServiceFactory) isFeature() {}

// NewRootServiceFactory returns a factory for the root service ref. fn is
// called once per backend with the dependencies declared by the fields of D,
// which must all be root services.
func NewRootServiceFactory[T, D any](ref core.ServiceRef[T], fn func(ctx context.Context, deps D) (T, error), opts ...FactoryOption) *ServiceFactory {
	if ref.Scope() != core.RootScope {
		panic(fmt.Sprintf("greenroom: NewRootServiceFactory(%s): the ref is plugin scoped; use NewPluginServiceFactory", ref))
	}
	f := &ServiceFactory{
		ref:   mustDesc("NewRootServiceFactory", ref),
		pc:    callerPC(),
		eager: true,
		box:   boxOf[T],
		deps:  mustDepsType[D]("NewRootServiceFactory", ref, ""),
		create: func(ctx context.Context, deps reflect.Value, _ any) (any, error) {
			return fn(ctx, *deps.Interface().(*D))
		},
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// NewPluginServiceFactory returns a factory for the plugin service ref. fn
// is called once per plugin with the dependencies declared by the fields of
// D; depend on core.PluginMetadata to learn which plugin.
func NewPluginServiceFactory[T, D any](ref core.ServiceRef[T], fn func(ctx context.Context, deps D) (T, error), opts ...FactoryOption) *ServiceFactory {
	if ref.Scope() != core.PluginScope {
		panic(fmt.Sprintf("greenroom: NewPluginServiceFactory(%s): the ref is root scoped; use NewRootServiceFactory", ref))
	}
	f := &ServiceFactory{
		ref:  mustDesc("NewPluginServiceFactory", ref),
		pc:   callerPC(),
		box:  boxOf[T],
		deps: mustDepsType[D]("NewPluginServiceFactory", ref, ""),
		create: func(ctx context.Context, deps reflect.Value, _ any) (any, error) {
			return fn(ctx, *deps.Interface().(*D))
		},
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// NewPluginServiceFactoryWithContext returns a factory for the plugin
// service ref with a root context: rootContext is called once per backend
// with the root services declared by RD, and its result is passed to every
// call of fn, which is called once per plugin. Use it to share a connection
// pool or a cache between the plugin instances of a service.
func NewPluginServiceFactoryWithContext[T, RD, C, D any](ref core.ServiceRef[T], rootContext func(ctx context.Context, deps RD) (C, error), fn func(ctx context.Context, rootContext C, deps D) (T, error), opts ...FactoryOption) *ServiceFactory {
	f := NewPluginServiceFactory(ref, func(context.Context, D) (T, error) { var zero T; return zero, nil }, opts...)
	f.pc = callerPC()
	f.rootDeps = mustDepsType[RD]("NewPluginServiceFactoryWithContext", ref, " root context")
	f.createRootContext = func(ctx context.Context, deps reflect.Value) (any, error) {
		return rootContext(ctx, *deps.Interface().(*RD))
	}
	f.create = func(ctx context.Context, deps reflect.Value, rc any) (any, error) {
		c, _ := rc.(C) // a nil root context is the zero C
		return fn(ctx, c, *deps.Interface().(*D))
	}
	return f
}

// boxOf returns v, a T held in an any, as a reflect.Value of type T, which
// reflect.Value.Set assigns to a field of type T by a plain copy. The
// conversion to T is compiled code, whose interface checks the runtime
// caches; Set from a reflect.Value of v's own type would check, on every
// call, that the type implements T.
func boxOf[T any](v any) reflect.Value {
	p := new(T)
	*p = v.(T)
	return reflect.ValueOf(p).Elem()
}

// mustDesc returns the descriptor of ref, which package core registered
// when the ref was declared. A ref that was not declared (the zero
// ServiceRef) is a programming error reported by a panic naming the
// constructor.
func mustDesc(constructor string, ref core.Ref) *refindex.Desc {
	d := refindex.Default.ByID(ref.ID())
	if d == nil {
		panic(fmt.Sprintf("greenroom: %s(%s): the ref was not declared with core.NewServiceRef", constructor, ref))
	}
	return d
}

// mustDepsType checks that D is a struct type and returns it. A non-struct
// D is a programming error reported when the factory is declared, by a
// panic naming the constructor, the ref and what the type is for (suffix).
func mustDepsType[D any](constructor string, ref core.Ref, suffix string) reflect.Type {
	t := reflect.TypeFor[D]()
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("greenroom: %s(%s)%s: dependencies must be a struct type whose fields are the services, got %s", constructor, ref, suffix, t))
	}
	return t
}
