package backend

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// Backend is a set of plugins, modules and service factories that starts and
// stops together. Create one with [New]; its methods are safe for
// concurrent use.
type Backend struct {
	mu sync.Mutex

	defaults []*ServiceFactory // as given to WithDefaults, nils included
	features []Feature         // as given to Add, nils included

	// The installed factories by service id, in registration order.
	added       map[string][]*ServiceFactory
	defaultByID map[string][]*ServiceFactory
	// installed are the ids of the services with a factory given to
	// WithDefaults or Add, in the order they were first given.
	installed []string
	// refDefaults caches each ref's default factory: DefaultFactory is
	// called at most once per backend.
	refDefaults map[string]refDefault

	instantiated map[string]bool // service ids resolved at least once
	// validated are the factories whose wiring a successful Start
	// checked. Nothing can be added after Start, so Resolve need not check
	// their services again.
	validated    []*ServiceFactory
	cells        map[cellKey]*cell
	cellSlab     []cell // the cells are allocated here, see newCell
	rootContexts map[*ServiceFactory]*cell

	// specs memoizes the analysis of dependency struct types (see spec).
	specMu sync.Mutex
	specs  map[reflect.Type][]depField

	rootLifecycle    *rootLifecycle
	instanceMetadata reflect.Value // of core.RootInstanceMetadata, built in
	pluginLifecycles map[string]*pluginLifecycle
	// shutdown holds the settings of Stop's phases, read from the root
	// config by Start (see readShutdownSettings) when shutdownRead.
	shutdown     shutdownSettings
	shutdownRead bool

	startCalled bool
	ready       bool          // Start succeeded: readiness went up
	startDone   chan struct{} // closed when Start returns
	cancelStart context.CancelCauseFunc
	stopCalled  bool
	stopDone    chan struct{} // closed when Stop has run every hook
}

// refDefault is the cached result of a ref's DefaultFactory.
type refDefault struct {
	f       *ServiceFactory
	problem string // why the default factory cannot be used
}

// cellKey identifies one instance: of a root factory (pluginID "") or of a
// plugin factory for one plugin.
type cellKey struct {
	f        *ServiceFactory
	pluginID string
}

// cell memoizes the creation of one instance or root context. Creation
// runs once, outside the backend's lock; concurrent callers wait for it.
type cell struct {
	once sync.Once
	done bool // set inside once, read under once's guarantee or by peek
	v    reflect.Value
	err  error
	mu   sync.Mutex // guards done for peek
}

func (c *cell) get(create func() (reflect.Value, error)) (reflect.Value, error) {
	c.once.Do(func() {
		var v reflect.Value
		err := safeCall(func() (err error) {
			v, err = create()
			return err
		})
		c.mu.Lock()
		c.v, c.err, c.done = v, err, true
		c.mu.Unlock()
	})
	return c.v, c.err
}

// peek returns the instance if it has been created successfully.
func (c *cell) peek() (reflect.Value, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v, c.done && c.err == nil
}

// BackendOption configures a [Backend].
type BackendOption func(*Backend)

// WithDefaults installs factories used for services that no added feature
// provides. Package defaults passes the production factories, package
// testbackend the fakes. A later default for the same singleton service
// replaces an earlier one; defaults for a multiton service all contribute,
// before the added ones.
func WithDefaults(factories ...*ServiceFactory) BackendOption {
	return func(b *Backend) { b.defaults = append(b.defaults, factories...) }
}

// New returns a backend with no features.
func New(opts ...BackendOption) *Backend {
	b := &Backend{
		rootLifecycle: &rootLifecycle{h: &hooks{}},
	}
	b.rootLifecycle.value = boxOf[core.RootLifecycle](b.rootLifecycle)
	b.instanceMetadata = boxOf[core.RootInstanceMetadata](instanceMetadata{b: b})
	for _, o := range opts {
		o(b)
	}
	// Sized for the defaults, so that they do not grow as services are
	// installed and instantiated: a backend typically instantiates each
	// default once, for one or a few plugins. The maps that often stay
	// empty are made on first use.
	n := len(b.defaults)
	b.defaultByID = make(map[string][]*ServiceFactory, n)
	b.installed = make([]string, 0, n)
	b.instantiated = make(map[string]bool, n)
	b.cells = make(map[cellKey]*cell, n)
	b.cellSlab = make([]cell, 0, n)
	b.pluginLifecycles = make(map[string]*pluginLifecycle)
	for i, f := range b.defaults {
		if f == nil || f.ref == nil {
			continue
		}
		id := f.ref.ID
		if fs, ok := b.defaultByID[id]; ok {
			b.defaultByID[id] = append(fs, f) // copies: fs is full
			continue
		}
		b.installed = append(b.installed, id)
		// Most services have one default: its slice is b.defaults' own,
		// made full so that an append copies it.
		b.defaultByID[id] = b.defaults[i : i+1 : i+1]
	}
	return b
}

// newCell returns a new cell, allocated with others: a backend creates
// one per instance. Cells are never moved, so pointers to them stay valid.
// b.mu must be held.
func (b *Backend) newCell() *cell {
	if len(b.cellSlab) == cap(b.cellSlab) {
		b.cellSlab = make([]cell, 0, max(8, cap(b.cellSlab)))
	}
	b.cellSlab = b.cellSlab[:len(b.cellSlab)+1]
	return &b.cellSlab[len(b.cellSlab)-1]
}

// Add adds features. A service factory replaces the default for its
// service; two added factories for one singleton service are an error
// reported by Start, with every other wiring problem.
//
// Add fails, adding nothing, for a value that is not a [*Plugin], a
// [*Module] or a [*ServiceFactory] (a type of another package that embeds
// Feature), after Start or Stop, and for a factory of a service that
// [Resolve] has already instantiated. A nil feature is a wiring problem
// that Start reports.
func (b *Backend) Add(features ...Feature) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range features {
		switch {
		case b.stopCalled:
			return fmt.Errorf("backend.Add: cannot add %s: the backend has stopped", describeFeature(f))
		case b.startCalled:
			return fmt.Errorf("backend.Add: cannot add %s after the backend has started; add every feature before Start", describeFeature(f))
		}
		switch f.(type) {
		case nil, *Plugin, *Module, *ServiceFactory:
		default:
			return fmt.Errorf("backend.Add: %s (a %T) is not a plugin, module or service factory; add only values made by backend.NewPlugin, backend.NewModule and the factory constructors such as backend.NewPluginServiceFactory (options of other packages, such as those of package testbackend, go to their own functions)", describeFeature(f), f)
		}
		if sf, ok := f.(*ServiceFactory); ok && sf != nil && sf.ref != nil && b.instantiated[sf.ref.ID] {
			return fmt.Errorf("backend.Add: cannot add %s: %s has already been instantiated by Resolve; add factories before resolving services", sf, sf.ref)
		}
	}
	for _, f := range features {
		b.features = append(b.features, f)
		sf, ok := f.(*ServiceFactory)
		if !ok || sf == nil || sf.ref == nil {
			continue
		}
		id := sf.ref.ID
		if len(b.added[id]) == 0 && len(b.defaultByID[id]) == 0 {
			b.installed = append(b.installed, id)
		}
		if b.added == nil {
			b.added = make(map[string][]*ServiceFactory)
		}
		b.added[id] = append(b.added[id], sf)
	}
	return nil
}

func describeFeature(f Feature) string {
	if isNilFeature(f) {
		return "a nil feature"
	}
	if s, ok := f.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%v", f)
}

func isNilFeature(f Feature) bool {
	if f == nil {
		return true
	}
	v := reflect.ValueOf(f)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// PluginIDs returns the ids of the added plugins, sorted.
func (b *Backend) PluginIDs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids []string
	for _, f := range b.features {
		if p, ok := f.(*Plugin); ok && p != nil && !slices.Contains(ids, p.id) {
			ids = append(ids, p.id)
		}
	}
	slices.Sort(ids)
	return ids
}

// ModuleIDs returns the ids of the added modules of the plugin pluginID,
// sorted, whether or not the plugin itself is added.
func (b *Backend) ModuleIDs(pluginID string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids []string
	for _, f := range b.features {
		if m, ok := f.(*Module); ok && m != nil && m.pluginID == pluginID && !slices.Contains(ids, m.moduleID) {
			ids = append(ids, m.moduleID)
		}
	}
	slices.Sort(ids)
	return ids
}

// errStopping is the cause of the cancellation of an in-flight Start by Stop.
var errStopping = errors.New("the backend is stopping")

// Start validates the wiring, then starts every plugin.
//
// Before any factory or init runs, Start checks the whole graph of plugins,
// modules, extension points and services, and reports every problem at once
// in a [*WiringError]. Then it creates the root services, and starts the
// plugins concurrently: for each plugin, its eager services, its modules
// (in extension point order, independent modules concurrently), its init
// and its startup hooks. When every plugin has started, the root startup
// hooks run.
//
// Start fails with an error naming each plugin or module that failed and
// its cause ("Plugin 'todo' startup failed: ..."); causes are wrapped, so
// errors.Is and errors.As see them. After a failed Start, call Stop to stop
// what did start.
//
// ctx is passed to every factory, init and startup hook, and only for the
// duration of the call: a service that outlives Start must not keep it.
// Start may be called once.
func (b *Backend) Start(ctx context.Context) error {
	b.mu.Lock()
	switch {
	case b.stopCalled:
		b.mu.Unlock()
		return errors.New("backend.Start: the backend has already stopped; create a new one with backend.New")
	case b.startCalled:
		b.mu.Unlock()
		return errors.New("backend has already started")
	}
	b.startCalled = true
	b.startDone = make(chan struct{})
	ctx, cancel := context.WithCancelCause(ctx)
	b.cancelStart = cancel
	p, problems := b.validate()
	if p != nil {
		b.validated = p.validated
	}
	b.mu.Unlock()
	defer close(b.startDone)
	defer cancel(nil)

	if len(problems) > 0 {
		return &WiringError{Problems: problems}
	}
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("backend.Start: %w", err)
	}
	return b.run(ctx, p)
}

// run creates the root services and starts the plugins of a valid plan.
func (b *Backend) run(ctx context.Context, p *plan) error {
	for _, f := range p.rootFactories {
		if err := context.Cause(ctx); err != nil {
			return fmt.Errorf("backend.Start: %w", err)
		}
		if _, err := b.instance(ctx, f, ""); err != nil {
			return err
		}
	}
	// The shutdown settings are read now, so that a mistake in them fails
	// the start rather than the stop.
	if cfg := b.rootConfig(); cfg != nil {
		s, err := readShutdownSettings(cfg)
		if err != nil {
			s = defaultShutdownSettings // for Stop, which need not report it again
		}
		b.mu.Lock()
		b.shutdown, b.shutdownRead = s, true
		b.mu.Unlock()
		if err != nil {
			return fmt.Errorf("backend.Start: %w", err)
		}
	}
	log := b.rootLogger()
	if log != nil {
		log.Info("Plugin initialization started", "plugins", p.pluginIDs())
	}

	errs := make([]error, len(p.plugins))
	start := func(i int) {
		pp := p.plugins[i]
		errs[i] = b.startPlugin(ctx, p, pp)
		if log != nil {
			if errs[i] != nil {
				log.Error("Plugin startup failed", "plugin", pp.plugin.id, "error", errs[i])
			} else {
				log.Info("Plugin started", "plugin", pp.plugin.id)
			}
		}
	}
	// The plugins start concurrently; a single plugin starts in this
	// goroutine, for which another would be pure overhead.
	if len(p.plugins) == 1 {
		start(0)
	} else {
		var wg sync.WaitGroup
		for i := range p.plugins {
			wg.Go(func() { start(i) })
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	if err := b.rootLifecycle.h.runStartup(ctx); err != nil {
		err = fmt.Errorf("Root startup hook failed: %w", err)
		if log != nil {
			log.Error("Backend startup failed", "error", err)
		}
		return err
	}
	b.mu.Lock()
	b.ready = true
	b.mu.Unlock()
	if log != nil {
		log.Info("Backend started")
	}
	return nil
}

// startPlugin starts one plugin: eager services, modules, init, startup
// hooks.
func (b *Backend) startPlugin(ctx context.Context, p *plan, pp *pluginPlan) error {
	id := pp.plugin.id
	fail := func(err error) error { return fmt.Errorf("Plugin '%s' startup failed: %w", id, err) }
	for _, f := range p.eagerPluginFactories {
		if _, err := b.instance(ctx, f, id); err != nil {
			return fail(err)
		}
	}
	eps, err := newExtensionPoints(pp)
	if err != nil {
		return fail(err)
	}
	if err := b.startModules(ctx, pp, eps); err != nil {
		return err
	}
	if err := context.Cause(ctx); err != nil {
		return fail(err)
	}
	deps, err := b.buildDeps(ctx, pp.plugin.reg.init.deps, id, eps)
	if err != nil {
		return fail(err)
	}
	if err := safeCall(func() error { return pp.plugin.reg.init.fn(ctx, deps) }); err != nil {
		return fail(err)
	}
	if err := b.lifecycleFor(id).h.runStartup(ctx); err != nil {
		return fail(err)
	}
	return nil
}

// newExtensionPoints makes this backend's implementations of the extension
// points that the plugin of pp and its modules provide, by id.
func newExtensionPoints(pp *pluginPlan) (map[string]reflect.Value, error) {
	if len(pp.extensionPoints) == 0 {
		return nil, nil
	}
	eps := make(map[string]reflect.Value, len(pp.extensionPoints))
	for id, o := range pp.extensionPoints {
		var v reflect.Value
		err := safeCall(func() (err error) {
			v, err = o.ep.create()
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.owner, err)
		}
		eps[id] = v
	}
	return eps, nil
}

// startModules inits the modules of a plugin in their topological order.
// Each module runs in its own goroutine as soon as the modules it must
// follow are done; a module after a failed one does not run.
func (b *Backend) startModules(ctx context.Context, pp *pluginPlan, eps map[string]reflect.Value) error {
	n := len(pp.modules)
	switch n {
	case 0:
		return nil
	case 1:
		// Nothing to run concurrently with.
		if err := b.initModule(ctx, pp, pp.modules[0], eps); err != nil {
			return moduleFailed(pp.modules[0].module, err)
		}
		return nil
	}
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	failed := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, mp := range pp.modules {
		wg.Go(func() {
			defer close(done[i])
			for _, j := range mp.after {
				<-done[j]
				if failed[j] {
					failed[i] = true
					return
				}
			}
			if err := b.initModule(ctx, pp, mp, eps); err != nil {
				failed[i] = true
				errs[i] = moduleFailed(mp.module, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func moduleFailed(m *Module, err error) error {
	return fmt.Errorf("Module '%s' for plugin '%s' startup failed: %w", m.moduleID, m.pluginID, err)
}

func (b *Backend) initModule(ctx context.Context, pp *pluginPlan, mp *modulePlan, eps map[string]reflect.Value) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	deps, err := b.buildDeps(ctx, mp.module.reg.init.deps, pp.plugin.id, eps)
	if err != nil {
		return err
	}
	return safeCall(func() error { return mp.module.reg.init.fn(ctx, deps) })
}

// Stop stops the backend in phases whose order is the engine's, not that
// of the hooks' registration:
//
//  1. the root before-shutdown hooks: readiness goes down;
//  2. a pause of backend.lifecycle.serverShutdownDelay (default
//     [DefaultServerShutdownDelay]), for load balancers to notice, while
//     the servers still serve; skipped when no drain hook was added, and
//     after a failed Start (readiness never went up);
//  3. the root drain hooks, concurrently: the HTTP server stops accepting
//     connections and finishes the requests in flight; their context is
//     done after backend.lifecycle.serverShutdownTimeout (default
//     [DefaultServerShutdownTimeout]);
//  4. every plugin's shutdown hooks, the plugins concurrently;
//  5. the root shutdown hooks: root services such as database pools close
//     last, once no request can use them.
//
// The before-shutdown and shutdown hooks of one lifecycle run in the
// reverse of the order they were added. Every hook runs; their errors are
// logged and joined into Stop's error. ctx bounds the whole of Stop.
//
// Stop stops what started: it may be called after a failed Start, or
// without Start to run the hooks of services built by [Resolve]. An
// in-flight Start is cancelled and waited for. Stop is idempotent: a second
// call waits for the first to finish and returns nil. After Stop the
// backend cannot be started.
func (b *Backend) Stop(ctx context.Context) error {
	b.mu.Lock()
	if b.stopCalled {
		done := b.stopDone
		b.mu.Unlock()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("backend.Stop: waiting for another Stop: %w", context.Cause(ctx))
		}
	}
	b.stopCalled = true
	b.stopDone = make(chan struct{})
	startDone, cancelStart := b.startDone, b.cancelStart
	b.mu.Unlock()
	defer close(b.stopDone)

	if startDone != nil {
		cancelStart(errStopping)
		<-startDone
	}

	log := b.rootLogger()
	var errs []error
	report := func(what string, hookErrs []error) {
		for _, err := range hookErrs {
			err = fmt.Errorf("%s failed: %w", what, err)
			if log != nil {
				log.Error("Shutdown hook failed", "error", err)
			}
			errs = append(errs, err)
		}
	}

	report("Root before-shutdown hook", b.rootLifecycle.h.runBeforeShutdown(ctx))

	if b.rootLifecycle.h.hasDrain() {
		settings, err := b.shutdownSettings()
		if err != nil && log != nil {
			// Only without Start (see Resolve): Start reports its own.
			log.Warn("Invalid shutdown settings; using the defaults", "error", err)
		}
		b.mu.Lock()
		ready := b.ready
		b.mu.Unlock()
		// The delay lets load balancers notice that readiness went down;
		// after a failed Start it never went up.
		if settings.delay > 0 && ready {
			if log != nil {
				log.Info("Waiting before closing the servers (backend.lifecycle.serverShutdownDelay)", "delay", settings.delay)
			}
			wait(ctx, settings.delay)
		}
		drainCtx, cancel := context.WithTimeoutCause(ctx, settings.timeout,
			fmt.Errorf("requests were still in flight after backend.lifecycle.serverShutdownTimeout (%s)", settings.timeout))
		report("Root drain hook", b.rootLifecycle.h.runDrain(drainCtx))
		cancel()
	}

	b.mu.Lock()
	ids := make([]string, 0, len(b.pluginLifecycles))
	for id := range b.pluginLifecycles {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	pluginHooks := make([]*hooks, len(ids))
	for i, id := range ids {
		pluginHooks[i] = b.pluginLifecycles[id].h
	}
	b.mu.Unlock()
	pluginErrs := make([][]error, len(ids))
	if len(pluginHooks) == 1 {
		pluginErrs[0] = pluginHooks[0].runShutdown(ctx)
	} else {
		var wg sync.WaitGroup
		for i, h := range pluginHooks {
			wg.Go(func() { pluginErrs[i] = h.runShutdown(ctx) })
		}
		wg.Wait()
	}
	for i, id := range ids {
		if len(pluginErrs[i]) > 0 {
			report("Plugin '"+id+"' shutdown hook", pluginErrs[i])
		}
	}

	report("Root shutdown hook", b.rootLifecycle.h.runShutdown(ctx))
	if log != nil {
		log.Info("Backend stopped")
	}
	return errors.Join(errs...)
}

// wait returns after d, or sooner once ctx is done.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// shutdownSettings returns the settings Start read, or reads them from the
// root config if it was created without Start (by Resolve). On an error
// it returns the defaults with the error.
func (b *Backend) shutdownSettings() (shutdownSettings, error) {
	b.mu.Lock()
	s, ok := b.shutdown, b.shutdownRead
	b.mu.Unlock()
	if ok {
		return s, nil
	}
	cfg := b.rootConfig()
	if cfg == nil {
		return defaultShutdownSettings, nil
	}
	s, err := readShutdownSettings(cfg)
	if err != nil {
		return defaultShutdownSettings, err
	}
	return s, nil
}

// rootLogger returns the root logger if it has been created, or nil.
func (b *Backend) rootLogger() core.Logger {
	l, _ := b.rootInstance(core.RootLoggerRef.ID()).(core.Logger)
	return l
}

// rootConfig returns the root config if it has been created, or nil.
func (b *Backend) rootConfig() core.Config {
	c, _ := b.rootInstance(core.RootConfigRef.ID()).(core.Config)
	return c
}

// rootInstance returns the instance of a root service if it has been
// created, or nil.
func (b *Backend) rootInstance(id string) any {
	b.mu.Lock()
	defer b.mu.Unlock()
	fs := b.effective(refindex.Default.ByID(id))
	if len(fs) == 0 {
		return nil
	}
	c := b.cells[cellKey{f: fs[0]}]
	if c == nil {
		return nil
	}
	v, ok := c.peek()
	if !ok || !v.IsValid() {
		return nil
	}
	return v.Interface()
}

// lifecycleFor returns the lifecycle of a plugin, creating it.
func (b *Backend) lifecycleFor(pluginID string) *pluginLifecycle {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.pluginLifecycles[pluginID]
	if l == nil {
		l = &pluginLifecycle{h: &hooks{pluginID: pluginID}}
		l.value = boxOf[core.Lifecycle](l)
		l.metadata = boxOf[core.PluginMetadata](pluginMetadata{id: pluginID})
		b.pluginLifecycles[pluginID] = l
	}
	return l
}
