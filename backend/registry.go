package backend

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// ErrNilService matches (with errors.Is) the error reported when a factory
// returns a nil service with a nil error. That is a bug in the factory,
// told apart from a missing service.
var ErrNilService = errors.New("factory returned a nil service")

// nilServiceError reports a factory that returned a nil service.
type nilServiceError struct {
	f        *ServiceFactory
	pluginID string
}

func (e *nilServiceError) Error() string {
	if e.pluginID == "" {
		return fmt.Sprintf("%s returned a nil root service with a nil error; a factory must return the service or an error", e.f)
	}
	return fmt.Sprintf("%s returned a nil service for plugin '%s' with a nil error; a factory must return the service or an error", e.f, e.pluginID)
}

func (e *nilServiceError) Is(target error) bool { return target == ErrNilService }

// effective returns the factories that provide svc: for a singleton the one
// that wins (added > WithDefaults > the ref's default factory), for a
// multiton every default and added factory in registration order, or the
// ref's default factory when there is none. Built-in services have none.
// b.mu must be held.
func (b *Backend) effective(svc *refindex.Desc) []*ServiceFactory {
	id := svc.ID
	if isBuiltin(id) {
		return nil
	}
	if svc.Multiton {
		fs := append(append([]*ServiceFactory(nil), b.defaultByID[id]...), b.added[id]...)
		if len(fs) == 0 {
			if d := b.refDefault(svc); d.f != nil {
				fs = append(fs, d.f)
			}
		}
		return fs
	}
	if fs := b.added[id]; len(fs) > 0 {
		return fs[len(fs)-1:]
	}
	if fs := b.defaultByID[id]; len(fs) > 0 {
		return fs[len(fs)-1:]
	}
	if d := b.refDefault(svc); d.f != nil {
		return []*ServiceFactory{d.f}
	}
	return nil
}

// refDefault returns svc's default factory, calling DefaultFactory at most
// once per backend. b.mu must be held.
func (b *Backend) refDefault(svc *refindex.Desc) refDefault {
	if d, ok := b.refDefaults[svc.ID]; ok {
		return d
	}
	var d refDefault
	var v any
	if svc.DefaultFactory != nil {
		v = svc.DefaultFactory()
	}
	switch v := v.(type) {
	case nil:
	case *ServiceFactory:
		switch {
		case v == nil:
		case v.ref == nil || v.ref.ID != svc.ID:
			d.problem = fmt.Sprintf("The default factory of %s is %s; a ref's default factory must provide the ref itself", svc, describeFactory(v))
		default:
			d.f = v
		}
	default:
		d.problem = fmt.Sprintf("The default factory of %s is a %T; it must be a *backend.ServiceFactory built with backend.NewRootServiceFactory or backend.NewPluginServiceFactory", svc, v)
	}
	if b.refDefaults == nil {
		b.refDefaults = make(map[string]refDefault)
	}
	b.refDefaults[svc.ID] = d
	return d
}

func describeFactory(f *ServiceFactory) string {
	if f == nil || f.ref == nil {
		return "an invalid factory (build factories with backend.NewRootServiceFactory or backend.NewPluginServiceFactory)"
	}
	return "the " + f.String()
}

// resolve returns the value of svc for pluginID, of type svc.Type: T, or
// []T for a multiton. The wiring it needs must have been validated.
//
// Values are boxed as reflect.Values of their service's type once, when
// created (see boxOf), so that setting them into dependency structs is a
// plain copy.
func (b *Backend) resolve(ctx context.Context, svc *refindex.Desc, pluginID string) (reflect.Value, error) {
	switch svc.ID {
	case core.PluginMetadataRef.ID():
		return b.lifecycleFor(pluginID).metadata, nil
	case core.LifecycleRef.ID():
		return b.lifecycleFor(pluginID).value, nil
	case core.RootLifecycleRef.ID():
		return b.rootLifecycle.value, nil
	case core.RootInstanceMetadataRef.ID():
		return b.instanceMetadata, nil
	}
	b.mu.Lock()
	fs := b.effective(svc)
	b.instantiated[svc.ID] = true
	b.mu.Unlock()
	if svc.Multiton {
		all := reflect.MakeSlice(svc.Type, 0, len(fs))
		for _, f := range fs {
			v, err := b.instance(ctx, f, pluginID)
			if err != nil {
				return reflect.Value{}, err
			}
			all = reflect.Append(all, v)
		}
		return all, nil
	}
	if len(fs) == 0 {
		// Validation reports this before anything runs; it is reached only
		// if the wiring changed underneath.
		return reflect.Value{}, fmt.Errorf("no factory provides %s; add its factory with backend.Add", svc)
	}
	return b.instance(ctx, fs[0], pluginID)
}

// instance returns the instance of f for pluginID (ignored for a root
// factory), creating it once.
func (b *Backend) instance(ctx context.Context, f *ServiceFactory, pluginID string) (reflect.Value, error) {
	key := cellKey{f: f, pluginID: pluginID}
	if f.ref.Root {
		key.pluginID = ""
	}
	b.mu.Lock()
	c := b.cells[key]
	if c == nil {
		c = b.newCell()
		b.cells[key] = c
	}
	b.mu.Unlock()
	return c.get(func() (reflect.Value, error) { return b.create(ctx, f, key.pluginID) })
}

// create builds the instance of f for pluginID ("" for a root factory).
func (b *Backend) create(ctx context.Context, f *ServiceFactory, pluginID string) (reflect.Value, error) {
	fail := func(err error) (reflect.Value, error) {
		if pluginID == "" {
			return reflect.Value{}, fmt.Errorf("Failed to instantiate root service '%s': %w", f.ref.ID, err)
		}
		return reflect.Value{}, fmt.Errorf("Failed to instantiate service '%s' for plugin '%s': %w", f.ref.ID, pluginID, err)
	}
	deps, err := b.buildDeps(ctx, f.deps, pluginID, nil)
	if err != nil {
		return fail(err)
	}
	var rootContext any
	if f.createRootContext != nil {
		rc, err := b.rootContext(ctx, f)
		if err != nil {
			return fail(err)
		}
		rootContext = rc.Interface()
	}
	var inst any
	err = safeCall(func() (err error) {
		inst, err = f.create(ctx, deps, rootContext)
		return err
	})
	if err != nil {
		return fail(err)
	}
	if isNil(inst) {
		return reflect.Value{}, &nilServiceError{f: f, pluginID: pluginID}
	}
	return f.box(inst), nil
}

// rootContext returns the root context of a plugin factory, creating it
// once per backend.
func (b *Backend) rootContext(ctx context.Context, f *ServiceFactory) (reflect.Value, error) {
	b.mu.Lock()
	c := b.rootContexts[f]
	if c == nil {
		c = b.newCell()
		if b.rootContexts == nil {
			b.rootContexts = make(map[*ServiceFactory]*cell)
		}
		b.rootContexts[f] = c
	}
	b.mu.Unlock()
	return c.get(func() (reflect.Value, error) {
		deps, err := b.buildDeps(ctx, f.rootDeps, "", nil)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("root context: %w", err)
		}
		var rc any
		err = safeCall(func() (err error) {
			rc, err = f.createRootContext(ctx, deps)
			return err
		})
		if err != nil {
			return reflect.Value{}, fmt.Errorf("root context failed: %w", err)
		}
		// The root context is opaque; it is kept as an any so that a nil
		// context (a valid choice) survives the round trip.
		return reflect.ValueOf(&rc).Elem(), nil
	})
}

// buildDeps builds a value of the dependency struct type t for pluginID,
// with eps the extension points available to a module (nil otherwise). It
// returns a pointer to it (a *D), so that the generic code that calls the
// init or factory function dereferences it without another copy.
func (b *Backend) buildDeps(ctx context.Context, t reflect.Type, pluginID string, eps map[string]reflect.Value) (reflect.Value, error) {
	fields := b.spec(t)
	ptr := reflect.New(t)
	v := ptr.Elem()
	for _, fd := range fields {
		if fd.problem != "" {
			return reflect.Value{}, fmt.Errorf("%s %s", t, fd.problem)
		}
		if !fd.ref.ExtensionPoint {
			x, err := b.resolve(ctx, fd.ref, pluginID)
			if err != nil {
				return reflect.Value{}, err
			}
			v.Field(fd.index).Set(x)
			continue
		}
		impl, ok := eps[fd.ref.ID]
		if !ok {
			return reflect.Value{}, fmt.Errorf("%s is not available to %s", fd.ref, t)
		}
		v.Field(fd.index).Set(impl)
	}
	return ptr, nil
}

// isNil reports whether v is nil or a nil pointer, map, slice, channel or
// function.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}
