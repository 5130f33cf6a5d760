package backend

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/core"
)

// The built-in services: core.pluginMetadata, core.lifecycle,
// core.rootLifecycle and core.rootInstanceMetadata are implemented here
// because the backend itself drives them (or, for the instance metadata,
// alone knows what was added). They cannot be replaced by a factory.

// isBuiltin reports whether id names a service built into the backend.
func isBuiltin(id string) bool {
	switch id {
	case core.PluginMetadataRef.ID(), core.LifecycleRef.ID(), core.RootLifecycleRef.ID(), core.RootInstanceMetadataRef.ID():
		return true
	}
	return false
}

// pluginMetadata implements core.PluginMetadata.
type pluginMetadata struct{ id string }

func (m pluginMetadata) ID() string { return m.id }

// hooks are the hooks of one lifecycle, the root one or a plugin's.
type hooks struct {
	pluginID string // "" for the root lifecycle

	mu                  sync.Mutex
	startupBegan        bool
	beforeShutdownBegan bool
	drainBegan          bool
	shutdownBegan       bool
	startup             []core.Hook
	beforeShutdown      []core.Hook
	drain               []core.Hook // root lifecycle only
	shutdown            []core.Hook
}

// owner completes "Attempted to add startup hook ...", as in "for plugin
// 'todo'" or "to the root lifecycle".
func (h *hooks) owner() string {
	if h.pluginID == "" {
		return "to the root lifecycle"
	}
	return "for plugin '" + h.pluginID + "'"
}

func (h *hooks) addStartup(hook core.Hook) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case hook == nil:
		return fmt.Errorf("AddStartupHook %s: the hook is nil", h.owner())
	case h.shutdownBegan || h.beforeShutdownBegan:
		return fmt.Errorf("Attempted to add startup hook %s after shutdown began", h.owner())
	case h.startupBegan:
		return fmt.Errorf("Attempted to add startup hook %s after startup; add startup hooks from init or from a service factory", h.owner())
	}
	h.startup = append(h.startup, hook)
	return nil
}

func (h *hooks) addShutdown(hook core.Hook) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case hook == nil:
		return fmt.Errorf("AddShutdownHook %s: the hook is nil", h.owner())
	case h.shutdownBegan:
		return fmt.Errorf("Attempted to add shutdown hook %s after shutdown", h.owner())
	}
	h.shutdown = append(h.shutdown, hook)
	return nil
}

func (h *hooks) addBeforeShutdown(hook core.Hook) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case hook == nil:
		return fmt.Errorf("AddBeforeShutdownHook %s: the hook is nil", h.owner())
	case h.beforeShutdownBegan || h.shutdownBegan:
		return fmt.Errorf("Attempted to add before-shutdown hook %s after shutdown has started", h.owner())
	}
	h.beforeShutdown = append(h.beforeShutdown, hook)
	return nil
}

func (h *hooks) addDrain(hook core.Hook) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case hook == nil:
		return fmt.Errorf("AddDrainHook %s: the hook is nil", h.owner())
	case h.drainBegan || h.shutdownBegan:
		return fmt.Errorf("Attempted to add drain hook %s after draining has started", h.owner())
	}
	h.drain = append(h.drain, hook)
	return nil
}

// hasDrain reports whether a drain hook was added. Stop asks it when the
// drain phase comes: with none, that phase is over at once, and a drain
// hook added later is refused rather than accepted and never run.
func (h *hooks) hasDrain() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.drain) == 0 {
		h.drainBegan = true
	}
	return len(h.drain) > 0
}

// runDrain runs the drain hooks concurrently: each drains its own server,
// and all share ctx's deadline. The errors are returned in the order the
// hooks were added.
func (h *hooks) runDrain(ctx context.Context) []error {
	h.mu.Lock()
	h.drainBegan = true
	hs := append([]core.Hook(nil), h.drain...)
	h.mu.Unlock()
	if len(hs) == 1 {
		if err := callHook(ctx, hs[0]); err != nil {
			return []error{err}
		}
		return nil
	}
	hookErrs := make([]error, len(hs))
	var wg sync.WaitGroup
	for i, hook := range hs {
		wg.Go(func() { hookErrs[i] = callHook(ctx, hook) })
	}
	wg.Wait()
	var errs []error
	for _, err := range hookErrs {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// runStartup runs the startup hooks in the order they were added. Every
// hook runs; their errors are joined.
func (h *hooks) runStartup(ctx context.Context) error {
	h.mu.Lock()
	h.startupBegan = true
	hs := append([]core.Hook(nil), h.startup...)
	h.mu.Unlock()
	var errs []error
	for _, hook := range hs {
		if err := callHook(ctx, hook); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// runBeforeShutdown and runShutdown run their hooks in the reverse of the
// order they were added, like deferred calls: what was set up last is torn
// down first. Every hook runs; the errors are returned in run order.
func (h *hooks) runBeforeShutdown(ctx context.Context) []error {
	h.mu.Lock()
	h.beforeShutdownBegan = true
	hs := append([]core.Hook(nil), h.beforeShutdown...)
	h.mu.Unlock()
	return runReverse(ctx, hs)
}

func (h *hooks) runShutdown(ctx context.Context) []error {
	h.mu.Lock()
	h.shutdownBegan = true
	hs := append([]core.Hook(nil), h.shutdown...)
	h.mu.Unlock()
	return runReverse(ctx, hs)
}

func runReverse(ctx context.Context, hs []core.Hook) []error {
	var errs []error
	for i := len(hs) - 1; i >= 0; i-- {
		if err := callHook(ctx, hs[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func callHook(ctx context.Context, hook core.Hook) error {
	return safeCall(func() error { return hook(ctx) })
}

// pluginLifecycle implements core.Lifecycle for one plugin.
type pluginLifecycle struct {
	h *hooks
	// value and metadata are the plugin's core.Lifecycle and
	// core.PluginMetadata services, boxed once (see boxOf).
	value, metadata reflect.Value
}

func (l *pluginLifecycle) AddStartupHook(hook core.Hook) error  { return l.h.addStartup(hook) }
func (l *pluginLifecycle) AddShutdownHook(hook core.Hook) error { return l.h.addShutdown(hook) }

// rootLifecycle implements core.RootLifecycle.
type rootLifecycle struct {
	h     *hooks
	value reflect.Value // boxed once (see boxOf)
}

func (l *rootLifecycle) AddStartupHook(hook core.Hook) error  { return l.h.addStartup(hook) }
func (l *rootLifecycle) AddShutdownHook(hook core.Hook) error { return l.h.addShutdown(hook) }
func (l *rootLifecycle) AddBeforeShutdownHook(hook core.Hook) error {
	return l.h.addBeforeShutdown(hook)
}
func (l *rootLifecycle) AddDrainHook(hook core.Hook) error { return l.h.addDrain(hook) }

// The defaults of the shutdown settings the backend reads from the root
// config.
const (
	// DefaultServerShutdownDelay is the default of
	// backend.lifecycle.serverShutdownDelay: how long Stop waits between
	// readiness going down and the servers no longer accepting requests.
	DefaultServerShutdownDelay = time.Duration(0)
	// DefaultServerShutdownTimeout is the default of
	// backend.lifecycle.serverShutdownTimeout: how long the drain hooks
	// may wait for the requests in flight.
	DefaultServerShutdownTimeout = 30 * time.Second
)

// shutdownSettings are the config of Stop's phases.
type shutdownSettings struct {
	delay, timeout time.Duration
}

var defaultShutdownSettings = shutdownSettings{DefaultServerShutdownDelay, DefaultServerShutdownTimeout}

// readShutdownSettings reads backend.lifecycle.serverShutdownDelay and
// backend.lifecycle.serverShutdownTimeout from cfg.
func readShutdownSettings(cfg core.Config) (shutdownSettings, error) {
	s := defaultShutdownSettings
	const delayKey, timeoutKey = "backend.lifecycle.serverShutdownDelay", "backend.lifecycle.serverShutdownTimeout"
	d, ok, err := cfg.OptionalDuration(delayKey)
	switch {
	case err != nil:
		return s, err
	case ok && d < 0:
		return s, fmt.Errorf("config key %s is %s; use a duration of 0 or more, such as 5s", delayKey, d)
	case ok:
		s.delay = d
	}
	d, ok, err = cfg.OptionalDuration(timeoutKey)
	switch {
	case err != nil:
		return s, err
	case ok && d <= 0:
		return s, fmt.Errorf("config key %s is %s; use a positive duration, such as 30s", timeoutKey, d)
	case ok:
		s.timeout = d
	}
	return s, nil
}
