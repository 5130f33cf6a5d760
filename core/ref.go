package core

import (
	"fmt"
	"reflect"
	"regexp"
	"sync"
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

// Ref is the untyped view of a [ServiceRef] or an [ExtensionPoint], used by
// the wiring to report and resolve dependencies without knowing T.
type Ref interface {
	// ID is the unique id, such as "core.httpRouter".
	ID() string
	// Type is the Go type a dependent receives: the service interface, or
	// []T for a multiton service.
	Type() reflect.Type
	// String is "serviceRef{<id>}" or "extensionPoint{<id>}", the form used
	// in error messages.
	String() string
}

// ServiceInfo describes a service reference: its id, scope, and whether it
// is a multiton. It is what the wiring needs to know about a ref.
type ServiceInfo interface {
	Ref
	Scope() Scope
	Multiton() bool
	// ElemType is T (Type is []T for a multiton).
	ElemType() reflect.Type
	// DefaultFactory returns the factory used when no other factory for the
	// ref is installed, or nil.
	DefaultFactory() any
}

// ServiceRef identifies a service of Go type T. Declare one per service at
// package level with [NewServiceRef]; plugins depend on it by declaring a
// field of type T (or []T for a multiton) in their dependency struct.
//
// ServiceRef values are comparable; refs declared with the same id compare
// equal unless they carry a default factory.
type ServiceRef[T any] struct {
	id       string
	scope    Scope
	multiton bool
	// defaultFactory is a pointer so that ServiceRef stays comparable.
	defaultFactory *func(ref any) any
}

// RefOption configures a [ServiceRef].
type RefOption func(*refOptions)

type refOptions struct {
	scope          Scope
	multiton       bool
	defaultFactory func(ref any) any
}

// WithScope sets the scope of the ref. The default is [PluginScope].
func WithScope(s Scope) RefOption { return func(o *refOptions) { o.scope = s } }

// Multiton marks the ref as a multiton: any number of factories may provide
// it and dependents receive all instances as []T, in registration order. A
// multiton with no factory resolves to an empty slice, never to an error.
func Multiton() RefOption { return func(o *refOptions) { o.multiton = true } }

// WithDefaultFactory sets the factory used when the backend has no factory
// for the ref. fn receives the ref being declared, so the factory can name
// it without an initialization cycle, and must return a service factory
// built by package backend for that ref:
//
//	var ClockRef = core.NewServiceRef[Clock]("example.clock",
//		core.WithDefaultFactory(func(ref core.ServiceRef[Clock]) any {
//			return backend.NewPluginServiceFactory(ref, newClock)
//		}))
//
// The backend calls fn at most once.
func WithDefaultFactory[T any](fn func(ref ServiceRef[T]) any) RefOption {
	return func(o *refOptions) {
		o.defaultFactory = func(r any) any { return fn(r.(ServiceRef[T])) }
	}
}

var idPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]*([._-][a-zA-Z0-9]+)*$`)

// NewServiceRef declares the reference of a service of type T. T should be
// an interface type so that fakes and real implementations are
// interchangeable. NewServiceRef panics if id is malformed or if id is
// already declared with another Go type: both are programming errors found
// when the program starts.
//
// Refs are indexed by type so that a dependency struct field of type T finds
// its ref; see [LookupRef].
func NewServiceRef[T any](id string, opts ...RefOption) ServiceRef[T] {
	if !idPattern.MatchString(id) {
		panic(fmt.Sprintf("greenroom: invalid service ref id %q: use letters, digits and '.', '_' or '-' separators, such as \"core.httpRouter\"", id))
	}
	var o refOptions
	for _, opt := range opts {
		opt(&o)
	}
	r := ServiceRef[T]{id: id, scope: o.scope, multiton: o.multiton}
	if o.defaultFactory != nil {
		r.defaultFactory = &o.defaultFactory
	}
	register(r)
	return r
}

// ID returns the ref's id.
func (r ServiceRef[T]) ID() string { return r.id }

// Scope returns the ref's scope.
func (r ServiceRef[T]) Scope() Scope { return r.scope }

// Multiton reports whether the ref is a multiton.
func (r ServiceRef[T]) Multiton() bool { return r.multiton }

// ElemType returns T.
func (r ServiceRef[T]) ElemType() reflect.Type { return reflect.TypeFor[T]() }

// Type returns T, or []T for a multiton.
func (r ServiceRef[T]) Type() reflect.Type {
	if r.multiton {
		return reflect.SliceOf(reflect.TypeFor[T]())
	}
	return reflect.TypeFor[T]()
}

// DefaultFactory returns the ref's default factory, or nil.
func (r ServiceRef[T]) DefaultFactory() any {
	if r.defaultFactory == nil {
		return nil
	}
	return (*r.defaultFactory)(r)
}

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
	register(p)
	return p
}

// ID returns the extension point's id.
func (p ExtensionPoint[T]) ID() string { return p.id }

// Type returns T.
func (p ExtensionPoint[T]) Type() reflect.Type { return reflect.TypeFor[T]() }

// String returns "extensionPoint{<id>}".
func (p ExtensionPoint[T]) String() string { return "extensionPoint{" + p.id + "}" }

// The ref index maps Go types and ids to declared refs so that a dependency
// struct, which names only Go types, can be resolved to refs. Refs are
// declared in package-level variables, so in practice the index is written
// while packages initialize and only read afterwards, like the registries of
// database/sql drivers or encoding/gob types. No library offers this; it is
// a few lines over sync.Map.
var refIndex struct {
	mu     sync.RWMutex
	byID   map[string]Ref
	byType map[reflect.Type][]Ref
}

func register(r Ref) {
	refIndex.mu.Lock()
	defer refIndex.mu.Unlock()
	if refIndex.byID == nil {
		refIndex.byID = make(map[string]Ref)
		refIndex.byType = make(map[reflect.Type][]Ref)
	}
	if old, ok := refIndex.byID[r.ID()]; ok {
		if old.Type() != r.Type() || reflect.TypeOf(old) != reflect.TypeOf(r) {
			panic(fmt.Sprintf("greenroom: %s is declared twice, as %s and as %s; ref ids must be unique", r, old.Type(), r.Type()))
		}
		if o, ok := old.(ServiceInfo); ok {
			n := r.(ServiceInfo)
			if o.Scope() != n.Scope() || o.Multiton() != n.Multiton() {
				panic(fmt.Sprintf("greenroom: %s is declared twice with different options (scope %s, multiton %t vs scope %s, multiton %t); ref ids must be unique",
					r, o.Scope(), o.Multiton(), n.Scope(), n.Multiton()))
			}
		}
		return
	}
	refIndex.byID[r.ID()] = r
	refIndex.byType[r.Type()] = append(refIndex.byType[r.Type()], r)
}

// LookupRef returns the refs declared with Go type t (a service interface,
// []T for a multiton, or an extension point type). More than one result
// means the type is ambiguous and a dependency must name its ref by id with
// a `greenroom:"<id>"` struct tag.
func LookupRef(t reflect.Type) []Ref {
	refIndex.mu.RLock()
	defer refIndex.mu.RUnlock()
	return append([]Ref(nil), refIndex.byType[t]...)
}

// LookupRefID returns the ref declared with the given id.
func LookupRefID(id string) (Ref, bool) {
	refIndex.mu.RLock()
	defer refIndex.mu.RUnlock()
	r, ok := refIndex.byID[id]
	return r, ok
}
