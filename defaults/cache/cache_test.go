package cache_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/cache"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
)

var ctx = context.Background()

// fakeClock is a clock a test moves.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func TestMemoryStoreEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	s := cache.NewMemoryStore(cache.MemoryOptions{MaxEntries: 3})
	for _, k := range []string{"a", "b", "c"} {
		if err := s.Set(ctx, k, []byte(k), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := s.Get(ctx, "a"); !ok { // a is now the most recently used
		t.Fatal("a is missing")
	}
	if err := s.Set(ctx, "d", []byte("d"), 0); err != nil {
		t.Fatal(err)
	}
	if n := s.Len(); n != 3 {
		t.Errorf("Len() = %d, want the bound 3", n)
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok, _ := s.Get(ctx, k); ok != want {
			t.Errorf("after evicting one of 4 entries, %q present = %v, want %v", k, ok, want)
		}
	}
}

func TestMemoryStoreDropsExpiredEntries(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(0, 0)}
	s := cache.NewMemoryStore(cache.MemoryOptions{MaxEntries: 1000, Now: clock.Now})
	for i := range 100 {
		if err := s.Set(ctx, fmt.Sprint("old", i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	clock.now = clock.now.Add(time.Hour)
	// Entries that are never read again go as the store is written to:
	// every Set checks a few; each of 1000 Sets removes the
	// expired entries it samples, until none is left.
	for i := range 1000 {
		if err := s.Set(ctx, fmt.Sprint("new", i%10), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Len(); n > 10+sweepSlack {
		t.Errorf("Len() = %d after 1000 Sets of 10 keys, want the 100 expired entries gone (at most %d left)", n, 10+sweepSlack)
	}
	if _, ok, _ := s.Get(ctx, "old0"); ok {
		t.Error("an expired entry is returned")
	}
}

// sweepSlack is how many expired entries may remain: the sweep samples at
// random, so the last few may wait for later Sets.
const sweepSlack = 20

func TestMemoryStoreCopies(t *testing.T) {
	t.Parallel()
	s := cache.NewMemoryStore(cache.MemoryOptions{})
	v := []byte("abc")
	_ = s.Set(ctx, "k", v, 0)
	v[0] = 'x'
	got, _, _ := s.Get(ctx, "k")
	if string(got) != "abc" {
		t.Errorf("Get = %q after the caller changed its slice, want abc", got)
	}
}

func TestKeysAreNamespacedUnambiguously(t *testing.T) {
	t.Parallel()
	s := cache.NewMemoryStore(cache.MemoryOptions{})
	a, ab := cache.New(s, "a", 0), cache.New(s, "a:b", 0)
	_ = a.Set(ctx, "b:c", []byte("of a"), 0)
	_ = ab.Set(ctx, "c", []byte("of a:b"), 0)
	if v, _, _ := a.Get(ctx, "b:c"); string(v) != "of a" {
		t.Errorf("plugin a key b:c = %q", v)
	}
	if n := s.Len(); n != 2 {
		t.Errorf("store holds %d entries, want 2", n)
	}
}

func TestInvalidKeysNameThePlugin(t *testing.T) {
	t.Parallel()
	c := cache.New(cache.NewMemoryStore(cache.MemoryOptions{}), "catalog", 0)
	err := c.Set(ctx, "", []byte("v"), 0)
	if !errs.Is(err, errs.Input) || !strings.Contains(err.Error(), "plugin 'catalog'") {
		t.Errorf("Set of an empty key = %v, want an Input error naming plugin 'catalog'", err)
	}
	err = c.Set(ctx, "k", nil, -time.Second)
	if !errs.Is(err, errs.Input) || !strings.Contains(err.Error(), "negative") {
		t.Errorf("Set with a negative TTL = %v, want an Input error", err)
	}
}

// brokenStore fails every operation.
type brokenStore struct{}

var errBroken = errors.New("connection refused")

func (brokenStore) Get(context.Context, string) ([]byte, bool, error)        { return nil, false, errBroken }
func (brokenStore) Set(context.Context, string, []byte, time.Duration) error { return errBroken }
func (brokenStore) Delete(context.Context, string) error                     { return errBroken }
func (brokenStore) Close() error                                             { return nil }

func TestStoreErrorsAreServiceUnavailable(t *testing.T) {
	t.Parallel()
	c := cache.New(brokenStore{}, "catalog", 0)
	_, _, err := c.Get(ctx, "k")
	if !errs.Is(err, errs.ServiceUnavailable) || !errors.Is(err, errBroken) || !strings.Contains(err.Error(), "plugin 'catalog'") {
		t.Errorf("Get on a broken store = %v, want a ServiceUnavailable naming the plugin and wrapping the cause", err)
	}
}

// counter is a plugin whose route counts the cache's hits.
func counterPlugin(id string) backend.Feature {
	return backend.NewPlugin(id, backend.Init(func(ctx context.Context, d struct {
		Cache  core.Cache
		Router core.HTTPRouter
	}) error {
		d.Router.AddAuthPolicy("/", core.AllowUnauthenticated)
		d.Router.HandleFunc("GET /hit", func(w http.ResponseWriter, r *http.Request) {
			_, hit, err := d.Cache.Get(r.Context(), "seen")
			if err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			if err := d.Cache.Set(r.Context(), "seen", []byte("1"), 0); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, hit)
		})
		return nil
	}))
}

// Two backends of one process never share entries, and two plugins of
// one backend neither.
func TestFactoryStoreIsPerBackend(t *testing.T) {
	t.Parallel()
	tb1 := testbackend.Start(t, counterPlugin("one"), counterPlugin("two"), cache.Factory())
	tb2 := testbackend.Start(t, counterPlugin("one"), cache.Factory())
	for _, c := range []struct {
		tb   *testbackend.Backend
		path string
		want string
	}{
		{tb1, "/api/one/hit", "false"}, {tb1, "/api/one/hit", "true"},
		{tb1, "/api/two/hit", "false"}, {tb2, "/api/one/hit", "false"},
	} {
		if got := string(c.tb.Get(c.path).Do(t).ExpectStatus(t, http.StatusOK).Bytes()); got != c.want {
			t.Errorf("GET %s = %s, want %s", c.path, got, c.want)
		}
	}
}

func TestFactoryConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		cache map[string]any
		want  string
	}{
		{"an unknown store", map[string]any{"store": "disk"}, `config key "backend.cache.store": "disk" is not a cache store`},
		{"redis without a connection", map[string]any{"store": "redis"}, `config key "backend.cache.redis.connection": missing`},
		{"a bad Redis URL", map[string]any{"store": "redis", "redis": map[string]any{"connection": "http://x"}}, `config key "backend.cache.redis.connection": the Redis URL is invalid`},
		{"a negative TTL", map[string]any{"defaultTtl": "-1s"}, `config key "backend.cache.defaultTtl"`},
		{"zero maxEntries", map[string]any{"memory": map[string]any{"maxEntries": 0}}, `config key "backend.cache.memory.maxEntries"`},
		{"a zero timeout", map[string]any{"redis": map[string]any{"readTimeout": "0s"}}, `config key "backend.cache.redis.readTimeout"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := map[string]any{"backend": map[string]any{"cache": c.cache}}
			_, err := testbackend.New(testbackend.WithConfig(cfg)).TryStart(t, counterPlugin("one"), cache.Factory())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("TryStart = %v, want an error containing %s", err, c.want)
			}
		})
	}
}

// ttlStore records the TTLs it is given.
type ttlStore struct {
	*cache.MemoryStore
	mu   sync.Mutex
	ttls []time.Duration
}

func (s *ttlStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.mu.Lock()
	s.ttls = append(s.ttls, ttl)
	s.mu.Unlock()
	return s.MemoryStore.Set(ctx, key, value, ttl)
}

// backend.cache.defaultTtl is the TTL of a Set with a ttl of 0, also on a
// store given with WithStore.
func TestFactoryDefaultTTL(t *testing.T) {
	t.Parallel()
	store := &ttlStore{MemoryStore: cache.NewMemoryStore(cache.MemoryOptions{})}
	cfg := map[string]any{"backend": map[string]any{"cache": map[string]any{"defaultTtl": "90m"}}}
	tb := testbackend.New(testbackend.WithConfig(cfg)).Start(t, counterPlugin("one"), cache.Factory(cache.WithStore(store)))
	tb.Get("/api/one/hit").Do(t).ExpectStatus(t, http.StatusOK)
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.ttls) != 1 || store.ttls[0] != 90*time.Minute {
		t.Errorf("the store was given the TTLs %v, want [1h30m0s]", store.ttls)
	}
}

// deadRedis returns the URL of a TCP port that accepted connections once
// and is now closed: a Redis that went away.
func deadRedis(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "redis://" + addr + "/0"
}

// A Redis that is down at startup does not stop the backend: a warning is
// logged and the route answers with the cache's errors.
func TestFactoryStartsWithRedisDown(t *testing.T) {
	t.Parallel()
	cfg := map[string]any{"backend": map[string]any{"cache": map[string]any{"store": "redis", "redis": map[string]any{"connection": deadRedis(t)}}}}
	tb := testbackend.New(testbackend.WithConfig(cfg)).Start(t, counterPlugin("one"), cache.Factory())
	logs := testbackend.Service(t, tb, core.RootLoggerRef, "").(*mockservices.LoggerService)
	if len(logs.Filter(func(r mockservices.LogRecord) bool { return strings.Contains(r.Message, "Redis does not answer") })) != 1 {
		t.Errorf("no warning that Redis does not answer; records: %v", logs.Records())
	}
	body := string(tb.Get("/api/one/hit").Do(t).ExpectStatus(t, http.StatusServiceUnavailable).Bytes())
	if !strings.Contains(body, "plugin 'one'") {
		t.Errorf("the cache error %q does not name the plugin", body)
	}
}

// A Redis store whose server went away fails fast: well under the default
// timeouts added up, never hanging.
func TestRedisStoreGoneFailsFast(t *testing.T) {
	t.Parallel()
	s, err := cache.NewRedisStore(cache.RedisOptions{URL: deadRedis(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error, 1)
	go func() { _, _, err := s.Get(ctx, "k"); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Get on a closed port succeeded")
		}
	case <-time.After(30 * time.Second): // a hang guard, not a timed assertion
		t.Fatal("Get on a closed port hangs")
	}
}

// The Redis client is closed when the backend stops, after the plugins.
func TestFactoryClosesRedisAtStop(t *testing.T) {
	t.Parallel()
	cfg := map[string]any{"backend": map[string]any{"cache": map[string]any{"store": "redis", "redis": map[string]any{"connection": deadRedis(t)}}}}
	tb := testbackend.New(testbackend.WithConfig(cfg)).Start(t, counterPlugin("one"), cache.Factory())
	c := testbackend.Service(t, tb, core.CacheRef, "one")
	tb.Stop(t)
	_, _, err := c.Get(ctx, "k")
	if !errors.Is(err, redis.ErrClosed) {
		t.Errorf("Get after the backend stopped = %v, want redis: client is closed", err)
	}
}
