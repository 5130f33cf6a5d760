package backend

import (
	"hash/maphash"
	"reflect"
	"sync"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/refgen"
)

// The plans of valid wirings are cached for the process, so that a
// backend wired like an earlier one starts without validating again: tests
// start many backends with the same plugins and the same kinds of service
// factories, whose validation was a tenth of a test backend's start.
//
// Validation reads only what a wiring key holds: for each factory given to
// WithDefaults and Add, in order, its ref (id, scope, multiton, default
// factory), its dependency struct types and whether it is eager; the
// plugins and modules added, by identity (their declarations cannot change
// once made); and the analysis of dependency structs, which depends on the
// refs declared (refgen). A plan is cached only when validation found no
// problem and consulted no ref's default factory (whose result a key does
// not hold). The plugins' plans are shared, read-only, by the backends
// that hit the cache; the factories of a plan are kept as positions in the
// wiring and mapped to each backend's own factories.
//
// The cache holds at most maxPlans plans; it is emptied when full, so that
// tests that declare a new plugin for every backend do not grow it.
var plans struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[uint64][]*planTemplate
	n    int
}

const maxPlans = 256

func init() { plans.seed = maphash.MakeSeed() }

// wiringEntry is a factory, plugin or module given to a backend, as far as
// validation is concerned.
type wiringEntry struct {
	kind           wiringKind
	feature        Feature          // the plugin or module
	ref            core.ServiceInfo // the factory's
	deps, rootDeps reflect.Type
	eager          bool
}

type wiringKind uint8

const (
	defaultFactory wiringKind = iota + 1
	nilDefault
	addedFactory
	addedPlugin
	addedModule
)

// planTemplate is a cached plan: the plugins' plans, and the factories as
// positions in the wiring (the defaults, then the features).
type planTemplate struct {
	gen                    uint64
	wiring                 []wiringEntry
	plugins                []*pluginPlan
	root, eager, validated []int
}

// wiringEntry returns the entry at a position of b's wiring (the
// defaults, then the features), or ok false for a feature that is not
// cached (a nil feature, a feature of another type), whose validation is
// not skipped. b.mu must be held.
func (b *Backend) wiringEntry(pos int) (e wiringEntry, ok bool) {
	if pos < len(b.defaults) {
		f := b.defaults[pos]
		if f == nil || f.ref == nil {
			return wiringEntry{kind: nilDefault}, true
		}
		return wiringEntry{kind: defaultFactory, ref: f.ref, deps: f.deps, rootDeps: f.rootDeps, eager: f.eager}, true
	}
	switch f := b.features[pos-len(b.defaults)].(type) {
	case *ServiceFactory:
		if f != nil && f.ref != nil {
			return wiringEntry{kind: addedFactory, ref: f.ref, deps: f.deps, rootDeps: f.rootDeps, eager: f.eager}, true
		}
	case *Plugin:
		if f != nil {
			return wiringEntry{kind: addedPlugin, feature: f}, true
		}
	case *Module:
		if f != nil {
			return wiringEntry{kind: addedModule, feature: f}, true
		}
	}
	return wiringEntry{}, false
}

// wiringHash returns a hash of b's wiring, or ok false if it holds a
// feature that is not cached. b.mu must be held. It hashes the kinds and
// the ids of the entries only, which is quicker than hashing the entries
// whole; cachedPlan compares them whole.
func (b *Backend) wiringHash() (hash uint64, ok bool) {
	var h maphash.Hash
	h.SetSeed(plans.seed)
	for pos := range len(b.defaults) + len(b.features) {
		e, ok := b.wiringEntry(pos)
		if !ok {
			return 0, false
		}
		h.WriteByte(byte(e.kind))
		switch f := e.feature.(type) {
		case *Plugin:
			h.WriteString(f.id)
		case *Module:
			h.WriteString(f.pluginID)
			h.WriteString(f.moduleID)
		}
		if e.ref != nil {
			h.WriteString(e.ref.ID())
		}
	}
	return h.Sum64(), true
}

// wiresLike reports whether b's wiring is w. b.mu must be held.
func (b *Backend) wiresLike(w []wiringEntry) bool {
	if len(w) != len(b.defaults)+len(b.features) {
		return false
	}
	for pos, want := range w {
		if e, _ := b.wiringEntry(pos); e != want {
			return false
		}
	}
	return true
}

// cachedPlan returns the plan of the cached template for b's wiring, of
// hash hash, or nil. b.mu must be held.
func (b *Backend) cachedPlan(hash uint64) *plan {
	gen := refgen.Current()
	plans.mu.Lock()
	var t *planTemplate
	for _, c := range plans.m[hash] {
		if c.gen == gen && b.wiresLike(c.wiring) {
			t = c
			break
		}
	}
	plans.mu.Unlock()
	if t == nil {
		return nil
	}
	factories := func(positions []int) []*ServiceFactory {
		fs := make([]*ServiceFactory, len(positions))
		for i, pos := range positions {
			fs[i] = b.factoryAt(pos)
		}
		return fs
	}
	return &plan{
		plugins:              t.plugins,
		rootFactories:        factories(t.root),
		eagerPluginFactories: factories(t.eager),
		validated:            factories(t.validated),
	}
}

// cachePlan caches p, the plan of a successful validation of b's wiring,
// of hash hash, made at the refgen generation gen, if it can be. b.mu must
// be held.
func (b *Backend) cachePlan(hash, gen uint64, p *plan) {
	if len(b.refDefaults) > 0 {
		return // a ref's default factory was consulted
	}
	t := &planTemplate{gen: gen, plugins: p.plugins}
	t.wiring = make([]wiringEntry, len(b.defaults)+len(b.features))
	for pos := range t.wiring {
		t.wiring[pos], _ = b.wiringEntry(pos)
	}
	var ok bool
	if t.root, ok = b.positions(p.rootFactories); !ok {
		return
	}
	if t.eager, ok = b.positions(p.eagerPluginFactories); !ok {
		return
	}
	if t.validated, ok = b.positions(p.validated); !ok {
		return
	}
	plans.mu.Lock()
	defer plans.mu.Unlock()
	if plans.m == nil || plans.n >= maxPlans {
		plans.m, plans.n = make(map[uint64][]*planTemplate), 0
	}
	plans.m[hash] = append(plans.m[hash], t)
	plans.n++
}

// positions returns the positions of fs in b's wiring, or ok false if one
// is not there once (a ref's default factory, or a factory given twice,
// whose position would be ambiguous).
func (b *Backend) positions(fs []*ServiceFactory) ([]int, bool) {
	pos := make([]int, len(fs))
	for i, f := range fs {
		n := 0
		for j, d := range b.defaults {
			if d == f {
				pos[i], n = j, n+1
			}
		}
		for j, feat := range b.features {
			if sf, ok := feat.(*ServiceFactory); ok && sf == f {
				pos[i], n = len(b.defaults)+j, n+1
			}
		}
		if n != 1 {
			return nil, false
		}
	}
	return pos, true
}

// factoryAt returns the factory at a position of b's wiring.
func (b *Backend) factoryAt(pos int) *ServiceFactory {
	if pos < len(b.defaults) {
		return b.defaults[pos]
	}
	return b.features[pos-len(b.defaults)].(*ServiceFactory)
}
