package mockservices

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/cachekey"
)

// CacheService is a fake [core.Cache] store for every plugin of a backend,
// in memory, on a fake clock: entries expire when the test moves the clock
// with [CacheService.Advance], never by themselves, so a test of expiry
// never sleeps. The plugins see views bound to their ids, through
// [CacheFactory] or [CacheService.ForPlugin]; two plugins never see each
// other's keys. Invalid keys and negative TTLs are errs.Input errors, as in
// production. It is unbounded: nothing is evicted but what expires.
type CacheService struct {
	mu      sync.Mutex
	now     time.Time
	entries map[string]cacheEntry // by cachekey.Namespaced
}

type cacheEntry struct {
	plugin, key string
	value       []byte
	expires     time.Time // zero: never
}

// Cache returns an empty fake cache whose clock shows [SchedulerStart].
func Cache() *CacheService {
	return &CacheService{now: schedulerStart, entries: map[string]cacheEntry{}}
}

// CacheFactory returns a factory of the core.cache service that gives each
// plugin a view of c bound to its id. With a nil c, each backend gets a
// fake of its own, made when a plugin first depends on the cache: that is
// the factory of [DefaultFactories].
func CacheFactory(c *CacheService) *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.CacheRef,
		func(context.Context, struct{}) (*CacheService, error) {
			if c == nil {
				return Cache(), nil
			}
			return c, nil
		},
		func(ctx context.Context, c *CacheService, d struct{ Plugin core.PluginMetadata }) (core.Cache, error) {
			return c.ForPlugin(d.Plugin.ID()), nil
		})
}

// ForPlugin returns the cache that the plugin pluginID sees, for a unit
// test of code that takes a core.Cache.
func (c *CacheService) ForPlugin(pluginID string) core.Cache {
	return pluginCache{c: c, plugin: pluginID}
}

// Advance moves the fake clock forward by d; entries whose TTL has passed
// are gone.
func (c *CacheService) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for k, e := range c.entries {
		if c.expired(e) {
			delete(c.entries, k)
		}
	}
}

// Now returns the fake clock's time.
func (c *CacheService) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Keys returns the live keys of the plugin pluginID, sorted.
func (c *CacheService) Keys(pluginID string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []string
	for _, e := range c.entries {
		if e.plugin == pluginID && !c.expired(e) {
			keys = append(keys, e.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// TTL returns the time the entry at the plugin's key has left on the fake
// clock, 0 for an entry that never expires, and false if there is no live
// entry.
func (c *CacheService) TTL(pluginID, key string) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[cachekey.Namespaced(pluginID, key)]
	if !ok || c.expired(e) {
		return 0, false
	}
	if e.expires.IsZero() {
		return 0, true
	}
	return e.expires.Sub(c.now), true
}

// String lists the live entries, "plugin/key", for test failures.
func (c *CacheService) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.entries {
		if !c.expired(e) {
			out = append(out, e.plugin+"/"+e.key)
		}
	}
	slices.Sort(out)
	return "cache[" + strings.Join(out, " ") + "]"
}

func (c *CacheService) expired(e cacheEntry) bool {
	return !e.expires.IsZero() && !c.now.Before(e.expires)
}

// pluginCache is a plugin's view of a CacheService.
type pluginCache struct {
	c      *CacheService
	plugin string
	ttl    time.Duration
}

func (p pluginCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := cachekey.Check(p.plugin, key); err != nil {
		return nil, false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	e, ok := p.c.entries[cachekey.Namespaced(p.plugin, key)]
	if !ok || p.c.expired(e) {
		return nil, false, nil
	}
	return slices.Clone(e.value), true, nil
}

func (p pluginCache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := cachekey.Check(p.plugin, key); err != nil {
		return err
	}
	if err := cachekey.CheckTTL(p.plugin, key, ttl); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl == 0 {
		ttl = p.ttl
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	e := cacheEntry{plugin: p.plugin, key: key, value: append([]byte{}, value...)}
	if ttl > 0 {
		e.expires = p.c.now.Add(ttl)
	}
	p.c.entries[cachekey.Namespaced(p.plugin, key)] = e
	return nil
}

func (p pluginCache) Delete(ctx context.Context, key string) error {
	if err := cachekey.Check(p.plugin, key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	delete(p.c.entries, cachekey.Namespaced(p.plugin, key))
	return nil
}

func (p pluginCache) WithDefaultTTL(ttl time.Duration) core.Cache {
	p.ttl = max(ttl, 0)
	return p
}
