package mockservices

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/greenroom-dev/greenroom/core"
)

// LifecycleService is a standalone fake [core.RootLifecycle] (and so
// [core.Lifecycle]) for unit tests of code that takes a lifecycle directly:
// the test runs the hooks with RunStartupHooks and RunShutdownHooks.
//
// There is no factory for it: the lifecycle services are built into the
// backend engine, which runs the hooks of every plugin at the right moment
// of Start and Stop, and cannot be replaced. In a test backend, the real
// lifecycle runs.
type LifecycleService struct {
	mu                sync.Mutex
	startup, shutdown []core.Hook
	beforeShutdown    []core.Hook
	drain             []core.Hook
	started, shutDown bool
}

var _ core.RootLifecycle = (*LifecycleService)(nil)

// Lifecycle returns a lifecycle whose hooks run only when the test says so.
func Lifecycle() *LifecycleService { return &LifecycleService{} }

// AddStartupHook implements [core.Lifecycle]. It fails once
// RunStartupHooks has been called.
func (l *LifecycleService) AddStartupHook(hook core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return errors.New("attempted to add a startup hook after startup; add hooks in the plugin's init")
	}
	l.startup = append(l.startup, hook)
	return nil
}

// AddShutdownHook implements [core.Lifecycle]. It fails once
// RunShutdownHooks has been called.
func (l *LifecycleService) AddShutdownHook(hook core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shutDown {
		return errors.New("attempted to add a shutdown hook after shutdown began")
	}
	l.shutdown = append(l.shutdown, hook)
	return nil
}

// AddBeforeShutdownHook implements [core.RootLifecycle]. It fails once
// RunShutdownHooks has been called.
func (l *LifecycleService) AddBeforeShutdownHook(hook core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shutDown {
		return errors.New("attempted to add a before-shutdown hook after shutdown began")
	}
	l.beforeShutdown = append(l.beforeShutdown, hook)
	return nil
}

// AddDrainHook implements [core.RootLifecycle]. It fails once
// RunShutdownHooks has been called.
func (l *LifecycleService) AddDrainHook(hook core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shutDown {
		return errors.New("attempted to add a drain hook after shutdown began")
	}
	l.drain = append(l.drain, hook)
	return nil
}

// RunStartupHooks runs the startup hooks in the order they were added and
// stops at the first error, which it returns. It may be called once.
func (l *LifecycleService) RunStartupHooks(ctx context.Context) error {
	l.mu.Lock()
	if l.started {
		l.mu.Unlock()
		return errors.New("RunStartupHooks was called twice; the startup hooks run once")
	}
	l.started = true
	hooks := slices.Clone(l.startup)
	l.mu.Unlock()
	for i, h := range hooks {
		if err := h(ctx); err != nil {
			return fmt.Errorf("startup hook %d of %d failed: %w", i+1, len(hooks), err)
		}
	}
	return nil
}

// RunShutdownHooks runs the before-shutdown hooks in the order they were
// added, then the drain hooks in that order, then the shutdown hooks in
// reverse order, like deferred calls: the phases of a backend's Stop,
// without its delay and drain timeout. Every hook runs even if another
// fails; the errors are joined. A second call does nothing.
func (l *LifecycleService) RunShutdownHooks(ctx context.Context) error {
	l.mu.Lock()
	if l.shutDown {
		l.mu.Unlock()
		return nil
	}
	l.shutDown = true
	before, drain, hooks := slices.Clone(l.beforeShutdown), slices.Clone(l.drain), slices.Clone(l.shutdown)
	l.mu.Unlock()
	slices.Reverse(hooks)
	var errs []error
	for i, h := range before {
		if err := h(ctx); err != nil {
			errs = append(errs, fmt.Errorf("before-shutdown hook %d of %d failed: %w", i+1, len(before), err))
		}
	}
	for i, h := range drain {
		if err := h(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drain hook %d of %d failed: %w", i+1, len(drain), err))
		}
	}
	for i, h := range hooks {
		if err := h(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown hook %d of %d (counted from the last added) failed: %w", i+1, len(hooks), err))
		}
	}
	return errors.Join(errs...)
}
