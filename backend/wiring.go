package backend

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// Problem is one problem in the wiring of a backend, found before anything
// runs.
type Problem struct {
	// Plugin and Module are the ids of the plugin and module the problem
	// is about, when it is about one.
	Plugin, Module string
	// Ref is the service ref or extension point involved, in the form
	// "serviceRef{<id>}" or "extensionPoint{<id>}", when one is.
	Ref string
	// Declared is where the plugin, module or factory the problem is about
	// was declared (the call of NewPlugin, NewModule or the factory
	// constructor), as "dir/file.go:line", such as "todo/plugin.go:42";
	// "" when the problem is about none. The message names it too.
	Declared string
	// Message says what is wrong, where, and how to fix it.
	Message string
}

// String returns the message.
func (p Problem) String() string { return p.Message }

// WiringError reports every problem in the wiring of a backend. Start
// returns it before running any factory or init; Resolve returns it for
// the part of the wiring it needs.
type WiringError struct {
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *WiringError) Error() string {
	var sb strings.Builder
	if len(e.Problems) == 1 {
		sb.WriteString("backend wiring has 1 problem:")
	} else {
		fmt.Fprintf(&sb, "backend wiring has %d problems:", len(e.Problems))
	}
	for _, p := range e.Problems {
		sb.WriteString("\n  - ")
		sb.WriteString(strings.ReplaceAll(p.Message, "\n", "\n    "))
	}
	return sb.String()
}

// plan is the validated wiring that Start runs.
type plan struct {
	plugins []*pluginPlan // sorted by id
	// rootFactories are created at Start, before any plugin, in order.
	rootFactories []*ServiceFactory
	// eagerPluginFactories are created for every plugin as it starts.
	eagerPluginFactories []*ServiceFactory
	// validated are the factories whose dependencies were checked.
	validated []*ServiceFactory
}

func (p *plan) pluginIDs() []string {
	ids := make([]string, len(p.plugins))
	for i, pp := range p.plugins {
		ids[i] = pp.plugin.id
	}
	return ids
}

type pluginPlan struct {
	plugin  *Plugin
	modules []*modulePlan // registration order
	// extensionPoints are the extension points provided by the plugin and
	// its modules, by id; their implementations are made when the plugin
	// starts, once per backend.
	extensionPoints map[string]epOwner
}

type modulePlan struct {
	module *Module
	// after are the indexes of the modules that must init first: the
	// consumers of the extension points this module provides.
	after []int
}

// epOwner is the provider of an extension point.
type epOwner struct {
	pluginID string
	owner    string // "plugin 'p'" or "module 'm' for plugin 'p'"
	module   *Module
	ep       extensionPointImpl
}

// requester is what declares a dependency: a plugin, a module, a factory,
// a factory's root context, or a call of Resolve. Its name is formatted
// only when there is a problem to report.
type requester struct {
	kind           requesterKind
	plugin, module string          // ids, for plugins and modules
	pc             uintptr         // declaration of the plugin or module
	factory        *ServiceFactory // for factories and root contexts
}

type requesterKind int

const (
	requesterResolve requesterKind = iota
	requesterPlugin
	requesterModule
	requesterFactory
	requesterRootContext // the root context of factory
)

// name starts a sentence about the requester, with where it was
// declared: "Plugin 'todo' (declared at todo/plugin.go:42)".
func (r requester) name() string {
	switch r.kind {
	case requesterPlugin:
		return "Plugin '" + r.plugin + "'" + declaredAt(r.pos())
	case requesterModule:
		return "Module '" + r.module + "' for plugin '" + r.plugin + "'" + declaredAt(r.pos())
	case requesterFactory:
		return "The " + r.factory.String() + declaredAt(r.pos())
	case requesterRootContext:
		return "The root context of the " + r.factory.String() + declaredAt(r.pos())
	}
	return "Resolve"
}

// pos returns where the requester was declared, or "".
func (r requester) pos() string {
	if r.factory != nil {
		return position(r.factory.pc)
	}
	return position(r.pc)
}

// problem returns a problem about the requester.
func (r requester) problem(ref, msg string) Problem {
	return Problem{Plugin: r.plugin, Module: r.module, Ref: ref, Declared: r.pos(), Message: msg}
}

// root reports whether the requester may depend only on root services.
func (r requester) root() bool {
	return r.kind == requesterRootContext || (r.kind == requesterFactory && r.factory.ref.Root)
}

// validator collects the problems of a backend's wiring. b.mu is held
// while it runs.
type validator struct {
	b        *Backend
	problems []Problem
	seen     map[string]bool
	// state is how far the check of each factory's dependencies has
	// gone; order lists the factories in the order their checks began.
	state map[*ServiceFactory]checkState
	order []*ServiceFactory
	// maybeCyclic is set when a factory depends, through a service, on a
	// factory whose check has begun and not ended: the checks follow the
	// dependencies depth first, so the service graph has a cycle.
	maybeCyclic bool
}

type checkState uint8

const (
	unchecked checkState = iota
	checking
	checked
)

func newValidator(b *Backend) *validator {
	n := len(b.installed)
	return &validator{b: b, state: make(map[*ServiceFactory]checkState, n), order: make([]*ServiceFactory, 0, n)}
}

func (v *validator) add(p Problem) {
	if v.seen[p.Message] {
		return
	}
	if v.seen == nil {
		v.seen = make(map[string]bool)
	}
	v.seen[p.Message] = true
	v.problems = append(v.problems, p)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

const idRule = "^[a-z][a-z0-9]*(-[a-z0-9]+)*$ (lowercase letters and digits in words separated by single dashes, starting with a letter, such as \"todo\" or \"todo-list\")"

// validate checks the whole wiring and returns the plan to run, or the
// problems. b.mu must be held.
func (b *Backend) validate() (*plan, []Problem) {
	v := newValidator(b)
	v.checkFactories()
	plugins, modules := v.checkFeatures()
	owners := v.checkExtensionPoints(plugins, modules)

	p := &plan{plugins: make([]*pluginPlan, 0, len(plugins))}
	// Root services are eager: every installed root factory is created.
	for _, id := range b.installed {
		svc := b.installedRef(id)
		if !svc.Root || isBuiltin(id) {
			continue
		}
		for _, f := range b.effective(svc) {
			v.checkFactory(f)
		}
	}
	if len(plugins) > 0 {
		for _, id := range b.installed {
			svc := b.installedRef(id)
			if svc.Root || isBuiltin(id) {
				continue
			}
			for _, f := range b.effective(svc) {
				if f.eager {
					v.checkFactory(f)
					p.eagerPluginFactories = append(p.eagerPluginFactories, f)
				}
			}
		}
	}

	byPlugin := make(map[string]*pluginPlan, len(plugins))
	for _, pl := range plugins {
		pp := &pluginPlan{plugin: pl}
		byPlugin[pl.id] = pp
		p.plugins = append(p.plugins, pp)
		v.checkInitDeps(requester{kind: requesterPlugin, plugin: pl.id, pc: pl.pc}, pl.reg.init, owners)
	}
	for _, m := range modules {
		pp := byPlugin[m.pluginID]
		if pp == nil {
			continue // reported by checkFeatures
		}
		pp.modules = append(pp.modules, &modulePlan{module: m})
		v.checkInitDeps(requester{kind: requesterModule, plugin: m.pluginID, module: m.moduleID, pc: m.pc}, m.reg.init, owners)
	}
	for id, o := range owners {
		if pp := byPlugin[o.pluginID]; pp != nil {
			if pp.extensionPoints == nil {
				pp.extensionPoints = make(map[string]epOwner)
			}
			pp.extensionPoints[id] = o
		}
	}
	for _, pp := range p.plugins {
		v.orderModules(pp, owners)
	}
	v.checkCycles()

	p.validated = v.order
	p.rootFactories = make([]*ServiceFactory, 0, len(v.order))
	for _, f := range v.order {
		if f.ref.Root {
			p.rootFactories = append(p.rootFactories, f)
		}
	}
	slices.SortFunc(p.plugins, func(a, b *pluginPlan) int { return strings.Compare(a.plugin.id, b.plugin.id) })
	if len(v.problems) > 0 {
		return nil, v.problems
	}
	return p, nil
}

// validateService checks the part of the wiring that resolving svc needs.
// b.mu must be held.
func (b *Backend) validateService(svc *refindex.Desc) []Problem {
	v := newValidator(b)
	v.checkFactories()
	v.checkServiceDep(requester{kind: requesterResolve}, nil, svc)
	v.checkCycles()
	return v.problems
}

// installedRef returns the ref of an installed service id.
func (b *Backend) installedRef(id string) *refindex.Desc {
	if fs := b.added[id]; len(fs) > 0 {
		return fs[0].ref
	}
	return b.defaultByID[id][0].ref
}

// checkFactories reports invalid factories: nil ones, factories for
// built-in services, and singleton services added twice.
func (v *validator) checkFactories() {
	b := v.b
	for i, f := range b.defaults {
		switch {
		case f == nil || f.ref == nil:
			v.add(Problem{Message: fmt.Sprintf("Factory #%d given to backend.WithDefaults is nil or was not built with a factory constructor such as backend.NewRootServiceFactory", i+1)})
		case isBuiltin(f.ref.ID):
			v.add(Problem{Ref: f.ref.String(), Declared: position(f.pc), Message: fmt.Sprintf("%s is built into the backend and cannot be replaced; remove its factory%s from backend.WithDefaults", f.ref, declaredAt(position(f.pc)))})
		}
	}
	counted := make(map[string]bool)
	for i, feat := range b.features {
		f, ok := feat.(*ServiceFactory)
		if !ok {
			continue
		}
		switch {
		case f == nil || f.ref == nil:
			v.add(Problem{Message: fmt.Sprintf("Feature #%d given to backend.Add is a nil factory or was not built with a factory constructor such as backend.NewPluginServiceFactory", i+1)})
		case isBuiltin(f.ref.ID):
			v.add(Problem{Ref: f.ref.String(), Declared: position(f.pc), Message: fmt.Sprintf("%s is built into the backend and cannot be replaced; remove its factory%s from backend.Add", f.ref, declaredAt(position(f.pc)))})
		case !f.ref.Multiton && !counted[f.ref.ID]:
			counted[f.ref.ID] = true
			if n := len(b.added[f.ref.ID]); n > 1 {
				v.add(Problem{Ref: f.ref.String(), Message: fmt.Sprintf("%s has %d factories added with backend.Add, but it is a singleton service; add only one (a factory added with backend.Add already replaces the default)", f.ref, n)})
			}
		}
	}
}

// checkFeatures reports invalid, duplicate and incomplete plugins and
// modules, and returns the valid ones in registration order.
func (v *validator) checkFeatures() ([]*Plugin, []*Module) {
	var plugins []*Plugin
	var modules []*Module
	pluginIDs := make(map[string]bool)
	type moduleKey struct{ plugin, module string }
	moduleIDs := make(map[moduleKey]bool)
	for i, feat := range v.b.features {
		if _, ok := feat.(*ServiceFactory); ok {
			continue
		}
		if isNilFeature(feat) {
			v.add(Problem{Message: fmt.Sprintf("Feature #%d given to backend.Add is nil", i+1)})
			continue
		}
		switch f := feat.(type) {
		case *Plugin:
			switch {
			case !validID(f.id):
				v.add(Problem{Plugin: f.id, Declared: position(f.pc), Message: fmt.Sprintf("Invalid plugin id '%s'%s: plugin ids must match %s", f.id, declaredAt(position(f.pc)), idRule)})
				continue
			case pluginIDs[f.id]:
				v.add(Problem{Plugin: f.id, Declared: position(f.pc), Message: fmt.Sprintf("%s%s is added twice; add each plugin once", capitalize(f.String()), declaredAt(position(f.pc)))})
				continue
			}
			pluginIDs[f.id] = true
			if v.checkRegistration(f, f.id, "", f.pc, &f.reg, "backend.NewPlugin") {
				plugins = append(plugins, f)
			}
		case *Module:
			switch {
			case !validID(f.pluginID):
				v.add(Problem{Plugin: f.pluginID, Module: f.moduleID, Declared: position(f.pc), Message: fmt.Sprintf("Invalid plugin id '%s' for module '%s'%s: plugin ids must match %s", f.pluginID, f.moduleID, declaredAt(position(f.pc)), idRule)})
				continue
			case !validID(f.moduleID):
				v.add(Problem{Plugin: f.pluginID, Module: f.moduleID, Declared: position(f.pc), Message: fmt.Sprintf("Invalid module id '%s' for plugin '%s'%s: module ids must match %s", f.moduleID, f.pluginID, declaredAt(position(f.pc)), idRule)})
				continue
			case moduleIDs[moduleKey{f.pluginID, f.moduleID}]:
				v.add(Problem{Plugin: f.pluginID, Module: f.moduleID, Declared: position(f.pc), Message: fmt.Sprintf("%s%s is added twice; add each module once", capitalize(f.String()), declaredAt(position(f.pc)))})
				continue
			}
			moduleIDs[moduleKey{f.pluginID, f.moduleID}] = true
			if v.checkRegistration(f, f.pluginID, f.moduleID, f.pc, &f.reg, "backend.NewModule") {
				modules = append(modules, f)
			}
		}
	}
	for _, m := range modules {
		if !pluginIDs[m.pluginID] {
			v.add(Problem{Plugin: m.pluginID, Module: m.moduleID, Declared: position(m.pc), Message: fmt.Sprintf("%s%s extends plugin '%s', which is not added; add the plugin with backend.Add, or remove the module", capitalize(m.String()), declaredAt(position(m.pc)), m.pluginID)})
		}
	}
	return plugins, modules
}

// checkRegistration reports the declaration errors of the plugin or module
// feature and reports whether it can run.
func (v *validator) checkRegistration(feature fmt.Stringer, pluginID, moduleID string, pc uintptr, reg *registration, constructor string) bool {
	for _, e := range reg.errs {
		v.add(Problem{Plugin: pluginID, Module: moduleID, Declared: position(pc), Message: fmt.Sprintf("%s%s: %s", capitalize(feature.String()), declaredAt(position(pc)), e)})
	}
	if reg.initCalls == 0 {
		v.add(Problem{Plugin: pluginID, Module: moduleID, Declared: position(pc), Message: fmt.Sprintf("%s%s has no init function; pass backend.Init(func(ctx context.Context, deps D) error { ... }) to %s", capitalize(feature.String()), declaredAt(position(pc)), constructor)})
	}
	return len(reg.errs) == 0 && reg.init != nil
}

// checkExtensionPoints reports extension points provided twice and returns
// the provider of each.
func (v *validator) checkExtensionPoints(plugins []*Plugin, modules []*Module) map[string]epOwner {
	var owners map[string]epOwner // allocated by the first provider
	provide := func(o epOwner, eps []extensionPointImpl) {
		for _, ep := range eps {
			if owners == nil {
				owners = make(map[string]epOwner)
			}
			if prev, ok := owners[ep.ref.ID]; ok {
				v.add(Problem{Plugin: o.pluginID, Ref: ep.ref.String(), Message: fmt.Sprintf("%s is provided twice, by %s and by %s; an extension point has exactly one provider", ep.ref, prev.owner, o.owner)})
				continue
			}
			o.ep = ep
			owners[ep.ref.ID] = o
		}
	}
	for _, p := range plugins {
		provide(epOwner{pluginID: p.id, owner: p.String()}, p.reg.extensionPoints)
	}
	for _, m := range modules {
		provide(epOwner{pluginID: m.pluginID, owner: m.String(), module: m}, m.reg.extensionPoints)
	}
	return owners
}

// checkInitDeps checks the dependencies of a plugin's or module's init.
func (v *validator) checkInitDeps(req requester, init *initFunc, owners map[string]epOwner) {
	for _, fd := range v.b.spec(init.deps) {
		if fd.problem != "" {
			v.add(req.problem("", req.name()+" "+fd.problem))
			continue
		}
		if !fd.ref.ExtensionPoint {
			v.checkServiceDep(req, &fd, fd.ref)
			continue
		}
		o, provided := owners[fd.ref.ID]
		var msg string
		switch {
		case !provided:
			msg = fmt.Sprintf("%s depends on %s (%s), but no plugin or module provides it; provide it with backend.ProvideExtensionPoint in plugin '%s' or one of its modules", req.name(), fd.ref, fd.describe(), req.plugin)
		case o.pluginID != req.plugin:
			msg = fmt.Sprintf("%s depends on %s (%s) of plugin '%s'; extension points can be used only by the plugin that provides them and its modules", req.name(), fd.ref, fd.describe(), o.pluginID)
		default:
			continue
		}
		v.add(req.problem(fd.ref.String(), msg))
	}
}

// checkServiceDep checks that svc, a dependency of req (through field fd,
// nil for Resolve), can be provided, and checks its factories in turn.
func (v *validator) checkServiceDep(req requester, fd *depField, svc *refindex.Desc) {
	b := v.b
	// The messages are formatted only when there is a problem: this runs
	// for every dependency of every Start.
	via := func() string {
		if fd == nil {
			return ""
		}
		return " (" + fd.describe() + ")"
	}
	problem := func(msg string) Problem { return req.problem(svc.String(), msg) }
	if !svc.Root && req.root() {
		if req.kind == requesterRootContext {
			v.add(problem(fmt.Sprintf("%s depends on %s%s, which is plugin scoped; a root context can depend only on root services%s", req.name(), svc, via(), rootCounterpartHint(svc, nil))))
		} else {
			v.add(problem(fmt.Sprintf("%s depends on %s%s, which is plugin scoped; %s is a root service and can depend only on root services%s", req.name(), svc, via(), req.factory.ref, rootCounterpartHint(svc, req.factory.ref))))
		}
		return
	}
	if isBuiltin(svc.ID) {
		return
	}
	fs := b.effective(svc)
	if d := b.refDefaults[svc.ID]; d.problem != "" {
		v.add(Problem{Ref: svc.String(), Message: d.problem})
	}
	if len(fs) == 0 {
		if svc.Multiton {
			return
		}
		if fd == nil {
			v.add(problem(fmt.Sprintf("%s: no factory provides %s; add its factory with backend.Add", req.name(), svc)))
		} else {
			v.add(problem(fmt.Sprintf("%s depends on %s%s, but no factory provides it; add its factory with backend.Add", req.name(), svc, via())))
		}
		return
	}
	for _, f := range fs {
		v.checkFactory(f)
	}
}

// checkFactory checks the dependencies of a factory once.
func (v *validator) checkFactory(f *ServiceFactory) {
	switch v.state[f] {
	case checking:
		v.maybeCyclic = true
		return
	case checked:
		return
	}
	v.state[f] = checking
	v.order = append(v.order, f)
	v.checkFactoryDeps(requester{kind: requesterFactory, factory: f}, v.b.spec(f.deps))
	if f.rootDeps != nil {
		v.checkFactoryDeps(requester{kind: requesterRootContext, factory: f}, v.b.spec(f.rootDeps))
	}
	v.state[f] = checked
}

func (v *validator) checkFactoryDeps(req requester, fields []depField) {
	for _, fd := range fields {
		if fd.problem != "" {
			v.add(req.problem(req.factory.ref.String(), req.name()+" "+fd.problem))
			continue
		}
		svc := fd.ref
		if svc.ExtensionPoint {
			v.add(req.problem(fd.ref.String(), fmt.Sprintf("%s depends on %s (%s), but a service cannot depend on an extension point; only the plugin that provides it and its modules can", req.name(), fd.ref, fd.describe())))
			continue
		}
		v.checkServiceDep(req, &fd, svc)
	}
}

// checkCycles reports the cycles of the service graph. A graph without
// cycles is the common case, told by maybeCyclic; a problem may have
// stopped the depth-first checks short of a cycle, so then the graph is
// searched too.
func (v *validator) checkCycles() {
	if !v.maybeCyclic && len(v.problems) == 0 {
		return
	}
	nodes, edges := v.serviceGraph()
	for _, c := range findCycles(nodes, func(n string) []string { return edges[n] }) {
		parts := make([]string, len(c))
		for i, id := range c {
			parts[i] = "serviceRef{" + id + "}"
		}
		v.add(Problem{Ref: parts[0], Message: fmt.Sprintf("Circular service dependency: %s; a service cannot depend on itself, even indirectly", strings.Join(parts, " -> "))})
	}
}

// serviceGraph returns the graph of services over the checked factories:
// the ids of their services, in the order they were first checked, and
// for each the ids of the services its factories depend on, in the order
// of the fields (built-in services, which depend on nothing, left out).
func (v *validator) serviceGraph() ([]string, map[string][]string) {
	var nodes []string
	edges := make(map[string][]string)
	for _, f := range v.order {
		id := f.ref.ID
		if _, ok := edges[id]; !ok {
			edges[id] = nil
			nodes = append(nodes, id)
		}
		for _, t := range []reflect.Type{f.deps, f.rootDeps} {
			if t == nil {
				continue
			}
			for _, fd := range v.b.spec(t) {
				svc := fd.ref
				if fd.problem != "" || svc.ExtensionPoint || isBuiltin(svc.ID) || slices.Contains(edges[id], svc.ID) {
					continue
				}
				edges[id] = append(edges[id], svc.ID)
			}
		}
	}
	return nodes, edges
}

// orderModules computes the init order of a plugin's modules: a module
// that provides an extension point inits after the modules that consume
// it. A cycle is a problem.
func (v *validator) orderModules(pp *pluginPlan, owners map[string]epOwner) {
	if len(pp.modules) == 0 {
		return
	}
	index := make(map[*Module]int)
	for i, mp := range pp.modules {
		index[mp.module] = i
	}
	// consumes[i] are the modules whose extension points module i uses.
	consumes := make(map[string][]string)
	var nodes []string
	for i, mp := range pp.modules {
		nodes = append(nodes, mp.module.moduleID)
		for _, fd := range v.b.spec(mp.module.reg.init.deps) {
			if fd.ref == nil {
				continue
			}
			o, ok := owners[fd.ref.ID]
			if !ok || o.module == nil || o.pluginID != pp.plugin.id {
				continue
			}
			j := index[o.module]
			if j == i || slices.Contains(pp.modules[j].after, i) {
				continue
			}
			pp.modules[j].after = append(pp.modules[j].after, i)
			consumes[mp.module.moduleID] = append(consumes[mp.module.moduleID], o.module.moduleID)
		}
	}
	for _, c := range findCycles(nodes, func(n string) []string { return consumes[n] }) {
		parts := make([]string, len(c))
		for i, id := range c {
			parts[i] = "'" + id + "'"
		}
		v.add(Problem{Plugin: pp.plugin.id, Message: fmt.Sprintf("Circular dependency between the modules of plugin '%s': %s (each consumes an extension point provided by the next; a module that provides an extension point inits after the modules that consume it)", pp.plugin.id, strings.Join(parts, " -> "))})
	}
}

// findCycles returns cycles of a directed graph, each as a path that
// starts and ends with the same node, found by depth-first search from
// the nodes in order. It reports at least one cycle for every strongly
// connected part of the graph that has one, and each cycle once.
func findCycles(nodes []string, next func(string) []string) [][]string {
	const (
		unvisited = iota
		active
		finished
	)
	state := make(map[string]int, len(nodes))
	stack := make([]string, 0, len(nodes))
	var cycles [][]string
	var seen map[string]bool // canonical forms of the cycles found
	var visit func(n string)
	visit = func(n string) {
		state[n] = active
		stack = append(stack, n)
		for _, m := range next(n) {
			switch state[m] {
			case unvisited:
				visit(m)
			case active:
				i := slices.Index(stack, m)
				c := append(slices.Clone(stack[i:]), m)
				key := canonicalCycle(c)
				if !seen[key] {
					if seen == nil {
						seen = make(map[string]bool)
					}
					seen[key] = true
					cycles = append(cycles, c)
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = finished
	}
	for _, n := range nodes {
		if state[n] == unvisited {
			visit(n)
		}
	}
	return cycles
}

// canonicalCycle names a cycle independently of where it starts.
func canonicalCycle(c []string) string {
	ring := c[:len(c)-1]
	start := 0
	for i, n := range ring {
		if n < ring[start] {
			start = i
		}
	}
	rotated := append(slices.Clone(ring[start:]), ring[:start]...)
	return strings.Join(rotated, "\x00")
}
