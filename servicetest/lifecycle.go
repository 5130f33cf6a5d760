package servicetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
)

// TestLifecycle checks an implementation of [core.Lifecycle] through a
// driver: newLifecycle must call init once with the lifecycle, as a
// plugin's init receives it, before start returns (the suite adds hooks in
// init), and return the functions that start and stop what owns the
// lifecycle (a backend, or a fake's RunStartupHooks and RunShutdownHooks).
//
// The contracts: startup hooks run once when starting and not before,
// shutdown hooks once when stopping and not before, every startup hook
// before any shutdown hook, a startup hook's error fails the start, a
// failing shutdown hook does not keep the others from running, and adding
// a hook after its phase has begun is an error.
func TestLifecycle(t *testing.T, newLifecycle func(t *testing.T, init func(lc core.Lifecycle)) (start, stop func(context.Context) error)) {
	t.Helper()
	ctx := context.Background()
	type env struct {
		mu          sync.Mutex
		events      []string
		lc          core.Lifecycle
		start, stop func(context.Context) error
	}
	setup := func(t *testing.T, hooks func(e *env, lc core.Lifecycle) error) *env {
		e := &env{}
		e.start, e.stop = newLifecycle(t, func(lc core.Lifecycle) {
			e.lc = lc
			if err := hooks(e, lc); err != nil {
				t.Errorf("adding hooks in init: %v", err)
			}
		})
		return e
	}
	hook := func(e *env, name string, err error) core.Hook {
		return func(ctx context.Context) error {
			if ctx == nil {
				err = errors.New("hook " + name + " got a nil context")
			}
			e.mu.Lock()
			e.events = append(e.events, name)
			e.mu.Unlock()
			return err
		}
	}
	events := func(e *env) []string {
		e.mu.Lock()
		defer e.mu.Unlock()
		return slices.Clone(e.events)
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	addAll := func(e *env, lc core.Lifecycle) error {
		return errors.Join(
			lc.AddStartupHook(hook(e, "start1", nil)),
			lc.AddShutdownHook(hook(e, "stop1", nil)),
			lc.AddStartupHook(hook(e, "start2", nil)),
			lc.AddShutdownHook(hook(e, "stop2", nil)),
		)
	}

	t.Run("startup hooks run once on start and shutdown hooks once on stop", func(t *testing.T) {
		e := setup(t, addAll)
		if err := e.start(ctx); err != nil {
			t.Fatalf("start: %v", err)
		}
		if got := sorted(events(e)); !slices.Equal(got, []string{"start1", "start2"}) {
			t.Errorf("after start, hooks run: %q; want exactly the startup hooks, once each", got)
		}
		if err := e.stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		got := events(e)
		if !slices.Equal(sorted(got), []string{"start1", "start2", "stop1", "stop2"}) {
			t.Errorf("after stop, hooks run: %q; want every hook once", got)
		}
		if i := slices.IndexFunc(got, func(s string) bool { return s == "stop1" || s == "stop2" }); i >= 0 && slices.ContainsFunc(got[i:], func(s string) bool { return s == "start1" || s == "start2" }) {
			t.Errorf("hooks ran in the order %q; every startup hook must run before any shutdown hook", got)
		}
	})
	t.Run("no hook runs before start", func(t *testing.T) {
		e := setup(t, addAll)
		if got := events(e); len(got) != 0 {
			t.Errorf("hooks ran before start: %q", got)
		}
		_ = e.start(ctx)
		_ = e.stop(ctx)
	})
	t.Run("a startup hook's error fails the start", func(t *testing.T) {
		boom := errors.New("boom")
		e := setup(t, func(e *env, lc core.Lifecycle) error { return lc.AddStartupHook(hook(e, "failing", boom)) })
		err := e.start(ctx)
		if !errors.Is(err, boom) {
			t.Errorf("start with a failing startup hook = %v; want an error wrapping the hook's", err)
		}
		_ = e.stop(ctx)
	})
	t.Run("a failing shutdown hook does not keep the others from running", func(t *testing.T) {
		e := setup(t, func(e *env, lc core.Lifecycle) error {
			return errors.Join(
				lc.AddShutdownHook(hook(e, "stop1", nil)),
				lc.AddShutdownHook(hook(e, "failing", errors.New("boom"))),
				lc.AddShutdownHook(hook(e, "stop2", nil)),
			)
		})
		if err := e.start(ctx); err != nil {
			t.Fatalf("start: %v", err)
		}
		_ = e.stop(ctx) // the error may be returned or logged
		if got := sorted(events(e)); !slices.Equal(got, []string{"failing", "stop1", "stop2"}) {
			t.Errorf("shutdown hooks run: %q; want all three", got)
		}
	})
	t.Run("adding a startup hook after start is an error", func(t *testing.T) {
		e := setup(t, func(*env, core.Lifecycle) error { return nil })
		if err := e.start(ctx); err != nil {
			t.Fatalf("start: %v", err)
		}
		if err := e.lc.AddStartupHook(hook(e, "late", nil)); err == nil {
			t.Errorf("AddStartupHook after start = nil; want an error, since the hook would never run")
		}
		_ = e.stop(ctx)
		if got := events(e); slices.Contains(got, "late") {
			t.Errorf("a startup hook added after start ran")
		}
	})
	t.Run("adding a shutdown hook after stop is an error", func(t *testing.T) {
		e := setup(t, func(*env, core.Lifecycle) error { return nil })
		if err := e.start(ctx); err != nil {
			t.Fatalf("start: %v", err)
		}
		if err := e.stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		if err := e.lc.AddShutdownHook(hook(e, "late", nil)); err == nil {
			t.Errorf("AddShutdownHook after stop = nil; want an error, since the hook would never run")
		}
	})
}
