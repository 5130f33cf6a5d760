package servicetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
)

// TestRootHealth checks an implementation of [core.RootHealth] built on a
// root lifecycle that the suite drives: liveness is always ok; readiness is
// an error with a message until the startup hooks have run, ok after them,
// and an error again once the before-shutdown hooks run.
func TestRootHealth(t *testing.T, newHealth func(t *testing.T, lc core.RootLifecycle) core.RootHealth) {
	t.Helper()
	ctx := context.Background()
	lc := &suiteLifecycle{}
	h := newHealth(t, lc)
	check := func(t *testing.T, phase string, wantReady bool) {
		t.Helper()
		if s := h.Liveness(ctx); !s.OK() {
			t.Errorf("%s: Liveness() = %+v, want ok: the process answers", phase, s)
		}
		s := h.Readiness(ctx)
		switch {
		case wantReady && !s.OK():
			t.Errorf("%s: Readiness() = %+v, want ok", phase, s)
		case !wantReady && (s.OK() || s.Status != "error" || s.Message == ""):
			t.Errorf("%s: Readiness() = %+v, want status \"error\" with a message", phase, s)
		}
	}
	t.Run("not ready before the backend has started", func(t *testing.T) { check(t, "before start", false) })
	t.Run("ready once the startup hooks ran", func(t *testing.T) {
		if err := lc.run(ctx, lc.startup); err != nil {
			t.Fatalf("startup hooks: %v", err)
		}
		check(t, "after start", true)
	})
	t.Run("not ready once shutting down", func(t *testing.T) {
		if err := lc.run(ctx, lc.beforeShutdown); err != nil {
			t.Fatalf("before-shutdown hooks: %v", err)
		}
		check(t, "shutting down", false)
		if err := lc.run(ctx, lc.drain); err != nil {
			t.Fatalf("drain hooks: %v", err)
		}
		if err := lc.run(ctx, lc.shutdown); err != nil {
			t.Fatalf("shutdown hooks: %v", err)
		}
		check(t, "after shutdown", false)
	})
}

// suiteLifecycle is a root lifecycle whose hooks the suite runs.
type suiteLifecycle struct {
	mu                                       sync.Mutex
	startup, beforeShutdown, drain, shutdown []core.Hook
}

func (l *suiteLifecycle) add(list *[]core.Hook, h core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	*list = append(*list, h)
	return nil
}

func (l *suiteLifecycle) AddStartupHook(h core.Hook) error  { return l.add(&l.startup, h) }
func (l *suiteLifecycle) AddShutdownHook(h core.Hook) error { return l.add(&l.shutdown, h) }
func (l *suiteLifecycle) AddBeforeShutdownHook(h core.Hook) error {
	return l.add(&l.beforeShutdown, h)
}
func (l *suiteLifecycle) AddDrainHook(h core.Hook) error { return l.add(&l.drain, h) }

func (l *suiteLifecycle) run(ctx context.Context, hooks []core.Hook) error {
	l.mu.Lock()
	hs := slices.Clone(hooks)
	l.mu.Unlock()
	var errs []error
	for _, h := range hs {
		errs = append(errs, h(ctx))
	}
	return errors.Join(errs...)
}
