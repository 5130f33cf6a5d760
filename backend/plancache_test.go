package backend

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/refgen"
)

// Service types of the plan cache tests.
type (
	pcRoot   interface{ Root() }
	pcPlugin interface{ Plugin() }
	pcOther  interface{ Other() }
	pcImpl   struct{}
)

func (pcImpl) Root()   {}
func (pcImpl) Plugin() {}
func (pcImpl) Other()  {}

var (
	pcRootRef   = core.NewServiceRef[pcRoot]("test.planCacheRoot", core.WithScope(core.RootScope))
	pcPluginRef = core.NewServiceRef[pcPlugin]("test.planCachePlugin")
	pcOtherRef  = core.NewServiceRef[pcOther]("test.planCacheOther", core.WithDefaultFactory(func(ref core.ServiceRef[pcOther]) any {
		return NewPluginServiceFactory(ref, func(context.Context, struct{}) (pcOther, error) { return pcImpl{}, nil })
	}))
)

// pcEvents records what the factories and inits of one backend did.
type pcEvents struct {
	mu     sync.Mutex
	events []string
}

func (e *pcEvents) add(s string) { e.mu.Lock(); e.events = append(e.events, s); e.mu.Unlock() }

// pcDefaults are new factories, as a test backend makes for every start:
// two root services and an eager plugin service.
func pcDefaults(e *pcEvents) []*ServiceFactory {
	return []*ServiceFactory{
		NewRootServiceFactory(pcRootRef, func(context.Context, struct{}) (pcRoot, error) {
			e.add("root")
			return pcImpl{}, nil
		}),
		NewPluginServiceFactory(pcPluginRef, func(_ context.Context, d struct {
			M core.PluginMetadata
			R pcRoot
		}) (pcPlugin, error) {
			e.add("eager:" + d.M.ID())
			return pcImpl{}, nil
		}, Eager()),
	}
}

// pcPluginOf returns a plugin that depends on pcPlugin and records its
// init in the events passed through the context.
func pcPluginOf(id string) *Plugin {
	return NewPlugin(id, Init(func(ctx context.Context, d struct{ P pcPlugin }) error {
		ctx.Value(pcEventsKey{}).(*pcEvents).add("init:" + id)
		return nil
	}))
}

type pcEventsKey struct{}

var pcA, pcB = pcPluginOf("pc-a"), pcPluginOf("pc-b")

// pcStart starts and stops a backend with defaults and features, and
// returns what ran and whether its plan came from the cache.
func pcStart(t *testing.T, defaults []*ServiceFactory, e *pcEvents, features ...Feature) (cached bool, err error) {
	t.Helper()
	b := New(WithDefaults(defaults...))
	if err := b.Add(features...); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	if hash, ok := b.wiringHash(); ok {
		cached = b.cachedPlan(hash) != nil
	}
	b.mu.Unlock()
	err = b.Start(context.WithValue(t.Context(), pcEventsKey{}, e))
	if stopErr := b.Stop(context.Background()); stopErr != nil {
		t.Errorf("Stop: %v", stopErr)
	}
	return cached, err
}

func TestPlanCache(t *testing.T) {
	// A declaration makes the plans cached before it stale, so that this
	// test starts from an empty cache for its wirings, under -count too.
	core.NewServiceRef[pcRoot]("test.planCacheRoot", core.WithScope(core.RootScope))
	refgen.Declared()

	var first pcEvents
	if cached, err := pcStart(t, pcDefaults(&first), &first, pcB, pcA); cached || err != nil {
		t.Fatalf("first start: cached %v, error %v; want a validated plan and no error", cached, err)
	}
	t.Run("same wiring, new factories", func(t *testing.T) {
		var e pcEvents
		cached, err := pcStart(t, pcDefaults(&e), &e, pcB, pcA)
		if !cached || err != nil {
			t.Fatalf("cached %v, error %v; want the cached plan", cached, err)
		}
		// The plugins start concurrently: compare the events as sets, after
		// the root service, created first.
		got, want := slices.Clone(e.events), slices.Clone(first.events)
		if len(got) == 0 || got[0] != "root" || want[0] != "root" {
			t.Errorf("events %q and %q, want the root service created first", got, want)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("events %q, want those of the validated start %q", e.events, first.events)
		}
	})
	t.Run("another plugin order", func(t *testing.T) {
		var e pcEvents
		if cached, err := pcStart(t, pcDefaults(&e), &e, pcA, pcB); cached || err != nil {
			t.Fatalf("cached %v, error %v; want a validated plan: the wiring differs", cached, err)
		}
	})
	t.Run("a factory with other dependencies", func(t *testing.T) {
		var e pcEvents
		defaults := pcDefaults(&e)
		defaults[1] = NewPluginServiceFactory(pcPluginRef, func(context.Context, struct{ X plugMissing }) (pcPlugin, error) {
			return pcImpl{}, nil
		}, Eager())
		cached, err := pcStart(t, defaults, &e, pcB, pcA)
		if cached || err == nil || !strings.Contains(err.Error(), "plugMissing") {
			t.Fatalf("cached %v, error %v; want the wiring error of the new factory", cached, err)
		}
	})
	t.Run("a problem is never cached", func(t *testing.T) {
		for range 2 {
			var e pcEvents
			cached, err := pcStart(t, pcDefaults(&e)[1:], &e, pcA) // no root service
			if cached || err == nil || !strings.Contains(err.Error(), "test.planCacheRoot") {
				t.Fatalf("cached %v, error %v; want the wiring error, validated", cached, err)
			}
		}
	})
	t.Run("a ref's default factory is not cached", func(t *testing.T) {
		other := NewPlugin("pc-other", Init(func(context.Context, struct{ O pcOther }) error { return nil }))
		for range 2 {
			var e pcEvents
			if cached, err := pcStart(t, pcDefaults(&e), &e, other); cached || err != nil {
				t.Fatalf("cached %v, error %v; want a validated plan", cached, err)
			}
		}
	})
	t.Run("a factory given twice is not cached", func(t *testing.T) {
		for range 2 {
			var e pcEvents
			d := pcDefaults(&e)
			if cached, err := pcStart(t, append(d, d[1]), &e, pcA); cached || err != nil {
				t.Fatalf("cached %v, error %v; want a validated plan", cached, err)
			}
		}
	})
	t.Run("a factory given to Add", func(t *testing.T) {
		var events [2]pcEvents
		for i := range events {
			e := &events[i]
			d := pcDefaults(e)
			cached, err := pcStart(t, d[:1], e, pcB, d[1], pcA)
			if cached != (i == 1) || err != nil {
				t.Fatalf("start %d: cached %v, error %v; want the second one cached", i+1, cached, err)
			}
		}
		got, want := slices.Sorted(slices.Values(events[1].events)), slices.Sorted(slices.Values(events[0].events))
		if !slices.Equal(got, want) || !slices.Contains(got, "eager:pc-a") {
			t.Errorf("events %q, want those of the validated start %q, with the added factory's", events[1].events, events[0].events)
		}
	})
	t.Run("a ref declared since", func(t *testing.T) {
		refgen.Declared()
		var e pcEvents
		if cached, err := pcStart(t, pcDefaults(&e), &e, pcB, pcA); cached || err != nil {
			t.Fatalf("cached %v, error %v; want a validated plan", cached, err)
		}
	})
}

// TestPlanCacheIsBounded checks that the cache of plans does not grow past
// maxPlans when every backend has new plugins.
func TestPlanCacheIsBounded(t *testing.T) {
	var e pcEvents
	d := pcDefaults(&e)
	for i := range maxPlans + 10 {
		if _, err := pcStart(t, d, &e, pcPluginOf(fmt.Sprintf("pc-bounded%d", i))); err != nil {
			t.Fatal(err)
		}
		plans.mu.Lock()
		n := plans.n
		plans.mu.Unlock()
		if n > maxPlans {
			t.Fatalf("after %d wirings the cache holds %d plans, want at most %d", i+1, n, maxPlans)
		}
	}
}

// plugMissing is a service type no ref declares.
type plugMissing interface{ Missing() }
