package servicetest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/cache"
	"github.com/greenroom-dev/greenroom/servicetest"
	"github.com/greenroom-dev/greenroom/testcaches"
)

// TestCache runs the suite on the production stores of each engine
// (memory and redis7), on the real clock: the suite lets at most 50ms pass
// at a time. Each of its subtests gets a fresh store of the engine.
func TestCache(t *testing.T) {
	t.Parallel()
	set := testcaches.New(t)
	set.Each(t, func(t *testing.T, c *testcaches.Cache) {
		t.Parallel()
		servicetest.TestCache(t, func(t *testing.T) servicetest.CacheEnv {
			return servicetest.CacheEnv{ForPlugin: set.Init(t, c.ID).ForPlugin, Advance: time.Sleep}
		})
	})
}

// TestCacheMemoryFakeClock runs the suite on the production memory store
// with a clock the suite moves: no sleeping.
func TestCacheMemoryFakeClock(t *testing.T) {
	t.Parallel()
	servicetest.TestCache(t, func(t *testing.T) servicetest.CacheEnv {
		var mu sync.Mutex
		now := time.Unix(0, 0)
		s := cache.NewMemoryStore(cache.MemoryOptions{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
		return servicetest.CacheEnv{
			ForPlugin: func(id string) core.Cache { return cache.New(s, id, 0) },
			Advance:   func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() },
		}
	})
}
