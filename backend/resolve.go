package backend

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// Resolve returns the instance of ref for the plugin pluginID (ignored for
// root services).
//
// After Start, it is the instance the plugins got, or, for a lazy service
// nothing has used yet, a new one kept for later callers. Before Start,
// Resolve builds the service and its dependencies on demand, after
// validating the part of the wiring they need (a [*WiringError] otherwise);
// Start then reuses what was built, and Stop runs the hooks the services
// added. Tests use Resolve to assert on services, and to build one factory
// in isolation.
//
// Resolve of a multiton ref is an error; use [ResolveAll].
func Resolve[T any](ctx context.Context, b *Backend, ref core.ServiceRef[T], pluginID string) (T, error) {
	var zero T
	if ref.Multiton() {
		return zero, fmt.Errorf("backend.Resolve(%s): the ref is a multiton; use backend.ResolveAll", ref)
	}
	v, err := b.resolveChecked(ctx, ref, pluginID)
	if err != nil {
		return zero, err
	}
	return v.Interface().(T), nil
}

// ResolveAll returns the instances of the multiton ref for the plugin
// pluginID (ignored for root services), in registration order; an empty
// slice when no factory provides it. It is otherwise like [Resolve].
func ResolveAll[T any](ctx context.Context, b *Backend, ref core.ServiceRef[T], pluginID string) ([]T, error) {
	if !ref.Multiton() {
		return nil, fmt.Errorf("backend.ResolveAll(%s): the ref is not a multiton; use backend.Resolve", ref)
	}
	v, err := b.resolveChecked(ctx, ref, pluginID)
	if err != nil {
		return nil, err
	}
	return v.Interface().([]T), nil
}

func (b *Backend) resolveChecked(ctx context.Context, ref core.Ref, pluginID string) (reflect.Value, error) {
	svc := refindex.Default.ByID(ref.ID())
	if svc == nil {
		return reflect.Value{}, fmt.Errorf("backend.Resolve(%s): the ref was not declared with core.NewServiceRef", ref)
	}
	if !svc.Root && !validID(pluginID) {
		return reflect.Value{}, fmt.Errorf("backend.Resolve(%s): invalid plugin id '%s'; %s is plugin scoped, so pass the id of the plugin to resolve it for, matching %s", svc, pluginID, svc, idRule)
	}
	if svc.Root {
		pluginID = ""
	}
	b.mu.Lock()
	var problems []Problem
	if !slices.ContainsFunc(b.validated, func(f *ServiceFactory) bool { return f.ref.ID == svc.ID }) {
		problems = b.validateService(svc)
	}
	b.mu.Unlock()
	if len(problems) > 0 {
		return reflect.Value{}, &WiringError{Problems: problems}
	}
	return b.resolve(ctx, svc, pluginID)
}
