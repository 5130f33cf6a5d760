package backend

import (
	"context"
	"fmt"
	"reflect"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// Feature is something added to a [Backend]: a [*Plugin], a [*Module] or a
// [*ServiceFactory].
type Feature interface {
	isFeature()
}

// validID reports whether id is a valid plugin or module id, matching
// ^[a-z][a-z0-9]*(-[a-z0-9]+)*$: lowercase letters and digits in words
// separated by single dashes, starting with a letter. It is checked by hand
// rather than with a regular expression because every Start checks every
// id.
func validID(id string) bool {
	if id == "" || id[0] < 'a' || id[0] > 'z' || id[len(id)-1] == '-' {
		return false
	}
	for i := 1; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && id[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// Plugin is a backend plugin: an id, an init function with its declared
// dependencies, and the extension points it offers to its modules.
type Plugin struct {
	id  string
	reg registration
	pc  uintptr // where NewPlugin was called, see position
}

// Module extends a plugin: it inits before the plugin, and may consume the
// plugin's extension points.
type Module struct {
	pluginID, moduleID string
	reg                registration
	pc                 uintptr // where NewModule was called, see position
}

// registration is what a plugin's or module's options declare.
type registration struct {
	init            *initFunc
	initCalls       int
	extensionPoints []extensionPointImpl
	// errs are declaration errors (such as Init given twice), reported with
	// the other wiring problems when the backend starts.
	errs []string
}

type initFunc struct {
	deps reflect.Type
	// fn calls the init function with a pointer to a value of type deps.
	fn func(ctx context.Context, deps reflect.Value) error
}

// extensionPointImpl is an extension point as a plugin or module provides
// it: create makes the implementation of one backend, boxed by boxOf.
type extensionPointImpl struct {
	ref    *refindex.Desc
	create func() (reflect.Value, error)
}

// Option declares part of a plugin or module: [Init] or
// [ProvideExtensionPoint].
type Option func(*registration)

// Init declares the init function of a plugin or module. Its dependencies
// are the exported fields of D: each field's type names a service (a core
// service interface such as core.HTTPRouter, a service of your own declared
// with core.NewServiceRef, []T for a multiton) or, for modules, an extension
// point of its plugin. When two refs share a Go type, name the ref with a
// struct tag: `greenroom:"<ref id>"`. Every dependency is resolved before
// fn runs; fn never sees a missing service.
//
// A plugin or module must declare exactly one Init.
func Init[D any](fn func(ctx context.Context, deps D) error) Option {
	t := reflect.TypeFor[D]()
	return func(r *registration) {
		r.initCalls++
		if r.initCalls > 1 {
			r.errs = append(r.errs, "Init was given more than once; declare exactly one init function")
			return
		}
		if t.Kind() != reflect.Struct {
			r.errs = append(r.errs, fmt.Sprintf("Init: dependencies must be a struct type whose fields are the services, got %s", t))
			return
		}
		if fn == nil {
			r.errs = append(r.errs, "Init was given a nil function")
			return
		}
		r.init = &initFunc{deps: t, fn: func(ctx context.Context, deps reflect.Value) error {
			return fn(ctx, *deps.Interface().(*D))
		}}
	}
}

// ProvideExtensionPoint declares that the plugin or module provides the
// extension point p, for the modules of the same plugin to consume.
//
// newImpl makes the implementation, and is called once per backend, when
// the plugin starts, before any of its modules inits: what modules
// register through an extension point belongs to the backend they run in,
// even when the plugin, a package-level variable, is added to many
// backends. The plugin or module that provides p receives the same
// implementation in its own init by declaring a field of type T, to read
// what the modules registered (the plugin inits after its modules; a
// module that provides an extension point inits after the modules that
// consume it).
func ProvideExtensionPoint[T any](p core.ExtensionPoint[T], newImpl func() T) Option {
	return func(r *registration) {
		if newImpl == nil {
			r.errs = append(r.errs, fmt.Sprintf("ProvideExtensionPoint(%s) was given a nil constructor", p))
			return
		}
		r.extensionPoints = append(r.extensionPoints, extensionPointImpl{ref: refindex.Default.ByID(p.ID()), create: func() (reflect.Value, error) {
			impl := newImpl()
			if isNil(impl) {
				return reflect.Value{}, fmt.Errorf("the constructor given to ProvideExtensionPoint(%s) returned nil; return the implementation", p)
			}
			return boxOf[T](impl), nil
		}})
	}
}

// NewPlugin declares a plugin. Its id must match ^[a-z][a-z0-9]*(-[a-z0-9]+)*$;
// its routes are served under /api/<id>. Problems with the declaration are
// reported, with every other wiring problem, when the backend starts; each
// problem names the file and line of the call of NewPlugin.
func NewPlugin(id string, opts ...Option) *Plugin {
	p := &Plugin{id: id, pc: callerPC()}
	for _, o := range opts {
		o(&p.reg)
	}
	return p
}

// ID returns the plugin id.
func (p *Plugin) ID() string { return p.id }

func (p *Plugin) isFeature() {}

// String returns "plugin '<id>'".
func (p *Plugin) String() string { return fmt.Sprintf("plugin '%s'", p.id) }

// Dependencies returns the refs of the plugin's init dependencies, in field
// order. Fields that name no ref are left out; Start reports them.
func (p *Plugin) Dependencies() []core.Ref { return p.reg.dependencies() }

// NewModule declares a module of the plugin pluginID. Like [NewPlugin],
// it records where it is called, for wiring problems to name.
func NewModule(pluginID, moduleID string, opts ...Option) *Module {
	m := &Module{pluginID: pluginID, moduleID: moduleID, pc: callerPC()}
	for _, o := range opts {
		o(&m.reg)
	}
	return m
}

// PluginID returns the id of the plugin the module extends.
func (m *Module) PluginID() string { return m.pluginID }

// ModuleID returns the module id.
func (m *Module) ModuleID() string { return m.moduleID }

func (m *Module) isFeature() {}

// Dependencies returns the refs of the module's init dependencies (services
// and extension points), in field order. Fields that name no ref are left
// out; Start reports them.
func (m *Module) Dependencies() []core.Ref { return m.reg.dependencies() }

// String returns "module '<moduleId>' for plugin '<pluginId>'".
func (m *Module) String() string {
	return fmt.Sprintf("module '%s' for plugin '%s'", m.moduleID, m.pluginID)
}

func (r *registration) dependencies() []core.Ref {
	if r.init == nil {
		return nil
	}
	var refs []core.Ref
	for _, f := range analyzeDeps(r.init.deps) {
		if f.ref != nil {
			refs = append(refs, f.ref.Ref)
		}
	}
	return refs
}
