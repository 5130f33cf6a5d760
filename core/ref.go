package core

import (
	"fmt"
	"reflect"
	"regexp"

	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// Scope says how many instances of a service exist in one backend.
type Scope int

const (
	// PluginScope services have one instance per plugin (the default).
	PluginScope Scope = iota
	// RootScope services have one instance per backend, shared by all plugins.
	RootScope
)

func (s Scope) String() string {
	if s == RootScope {
		return "root"
	}
	return "plugin"
}

// Ref is what [ServiceRef] and [ExtensionPoint] values have in common, the
// form in which package backend lists dependencies.
type Ref interface {
	// ID is the unique id, such as "core.httpRouter".
	ID() string
	// String is "serviceRef{<id>}" or "extensionPoint{<id>}", the form used
	// in error messages.
	String() string
}

// ServiceRef identifies a service of Go type T. Declare one per service at
// package level with [NewServiceRef]; plugins depend on it by declaring a
// field of type T (or []T for a multiton) in their dependency struct.
//
// ServiceRef values are comparable; refs declared with the same id compare
// equal.
type ServiceRef[T any] struct {
	id       string
	scope    Scope
	multiton bool
}

// RefOption configures a [ServiceRef].
type RefOption func(*refOptions)

type refOptions struct {
	scope          Scope
	multiton       bool
	defaultFactory func(ref any) ServiceFactory
}

// WithScope sets the scope of the ref. The default is [PluginScope].
func WithScope(s Scope) RefOption { return func(o *refOptions) { o.scope = s } }

// Multiton marks the ref as a multiton: any number of factories may provide
// it and dependents receive all instances as []T, in registration order. A
// multiton with no factory resolves to an empty slice, never to an error.
func Multiton() RefOption { return func(o *refOptions) { o.multiton = true } }

// ServiceFactory is a factory of a service, as the constructors of package
// backend make them (backend.NewPluginServiceFactory and the like): their
// *backend.ServiceFactory implements it. It is what the function given to
// [WithDefaultFactory] returns; a backend reports any other implementation
// as a wiring problem.
type ServiceFactory interface {
	// Ref returns the ref of the service the factory provides.
	Ref() Ref
}

// WithDefaultFactory sets the factory used when the backend has no factory
// for the ref. fn receives the ref being declared, so that the factory can
// name it without an initialization cycle, and returns a factory of that
// ref built by package backend:
//
//	var ClockRef = core.NewServiceRef[Clock]("example.clock",
//		core.WithDefaultFactory(func(ref core.ServiceRef[Clock]) core.ServiceFactory {
//			return backend.NewPluginServiceFactory(ref, newClock)
//		}))
//
// Each backend calls fn at most once, when it first needs the service.
func WithDefaultFactory[T any](fn func(ref ServiceRef[T]) ServiceFactory) RefOption {
	return func(o *refOptions) {
		o.defaultFactory = func(r any) ServiceFactory { return fn(r.(ServiceRef[T])) }
	}
}

var idPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]*([._-][a-zA-Z0-9]+)*$`)

// NewServiceRef declares the reference of a service of type T. T should be
// an interface type so that fakes and real implementations are
// interchangeable. NewServiceRef panics if id is malformed or if id is
// already declared with another Go type or other options: both are
// programming errors found when the program starts. Declaring the same ref
// again returns an equal ref; the first declaration's default factory is
// the one used.
//
// A dependency struct field of type T (or []T for a multiton) finds the
// ref by its type, unless several refs share it: then the field names the
// ref with a `greenroom:"<id>"` struct tag.
func NewServiceRef[T any](id string, opts ...RefOption) ServiceRef[T] {
	if !idPattern.MatchString(id) {
		panic(fmt.Sprintf("greenroom: invalid service ref id %q: use letters, digits and '.', '_' or '-' separators, such as \"core.httpRouter\"", id))
	}
	var o refOptions
	for _, opt := range opts {
		opt(&o)
	}
	r := ServiceRef[T]{id: id, scope: o.scope, multiton: o.multiton}
	d := &refindex.Desc{
		ID:       id,
		Type:     reflect.TypeFor[T](),
		Elem:     reflect.TypeFor[T](),
		Root:     o.scope == RootScope,
		Multiton: o.multiton,
		Ref:      r,
	}
	if o.multiton {
		d.Type = reflect.SliceOf(d.Elem)
	}
	if fn := o.defaultFactory; fn != nil {
		d.DefaultFactory = func() any { return fn(r) }
	}
	register(d)
	return r
}

// ID returns the ref's id.
func (r ServiceRef[T]) ID() string { return r.id }

// Scope returns the ref's scope.
func (r ServiceRef[T]) Scope() Scope { return r.scope }

// Multiton reports whether the ref is a multiton.
func (r ServiceRef[T]) Multiton() bool { return r.multiton }

// String returns "serviceRef{<id>}".
func (r ServiceRef[T]) String() string { return "serviceRef{" + r.id + "}" }

// ExtensionPoint identifies an extension point of Go type T that a plugin
// (or one of its modules) provides and that modules of the same plugin
// consume by declaring a field of type T in their dependency struct.
type ExtensionPoint[T any] struct{ id string }

// NewExtensionPoint declares an extension point. Like [NewServiceRef], it
// panics on a malformed id or an id reused with another type.
func NewExtensionPoint[T any](id string) ExtensionPoint[T] {
	if !idPattern.MatchString(id) {
		panic(fmt.Sprintf("greenroom: invalid extension point id %q", id))
	}
	p := ExtensionPoint[T]{id: id}
	register(&refindex.Desc{
		ID:             id,
		ExtensionPoint: true,
		Type:           reflect.TypeFor[T](),
		Elem:           reflect.TypeFor[T](),
		Ref:            p,
	})
	return p
}

// ID returns the extension point's id.
func (p ExtensionPoint[T]) ID() string { return p.id }

// String returns "extensionPoint{<id>}".
func (p ExtensionPoint[T]) String() string { return "extensionPoint{" + p.id + "}" }

// register adds d to the index package backend reads, panicking when its
// id is declared otherwise.
func register(d *refindex.Desc) {
	if _, err := refindex.Default.Register(d); err != nil {
		panic("greenroom: " + err.Error())
	}
}
