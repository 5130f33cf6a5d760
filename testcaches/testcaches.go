package testcaches

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/cache"
)

// ID names a cache engine.
type ID string

// The engines.
const (
	// Memory is the production memory store: it needs nothing.
	Memory ID = "memory"
	// Redis7 is the production Redis store on a Redis 7 server, from
	// GREENROOM_TEST_CACHE_REDIS7_CONNECTION_STRING.
	Redis7 ID = "redis7"
)

var allIDs = []ID{Memory, Redis7}

// EnvVar returns the name of the environment variable holding a connection
// string for the engine (empty for Memory, which needs no server).
func (id ID) EnvVar() string {
	if id == Memory || !id.known() {
		return ""
	}
	return "GREENROOM_TEST_CACHE_" + strings.ToUpper(string(id)) + "_CONNECTION_STRING"
}

func (id ID) known() bool {
	for _, k := range allIDs {
		if id == k {
			return true
		}
	}
	return false
}

func (id ID) apply(c *config) { c.ids = append(c.ids, id) }

// Option configures a [Set]: an [ID] selects an engine.
type Option interface{ apply(*config) }

type config struct {
	ids      []ID
	provider ContainerProvider
}

// Set is a selection of cache engines, made by [New].
type Set struct {
	ids      []ID
	provider ContainerProvider
}

// New returns the set of the engines among opts, or of every engine
// (memory and redis7) when opts names none, with the other options
// ([WithContainerProvider]). Unknown engines fail t.
func New(t testing.TB, opts ...Option) *Set {
	t.Helper()
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if len(cfg.ids) == 0 {
		cfg.ids = allIDs
	}
	for _, id := range cfg.ids {
		if !id.known() {
			t.Fatalf("testcaches: unknown engine %q; known engines are %v", id, allIDs)
		}
	}
	return &Set{ids: cfg.ids, provider: cfg.provider}
}

// IDs returns the engines of the set, in order.
func (s *Set) IDs() []ID { return append([]ID(nil), s.ids...) }

// Each runs fn as one subtest per engine, named after it ("memory",
// "redis7"), with a fresh isolated cache from [Set.Init]. An engine that is
// not available skips its subtest, or fails it when CI is true.
func (s *Set) Each(t *testing.T, fn func(t *testing.T, c *Cache)) {
	t.Helper()
	for _, id := range s.ids {
		t.Run(string(id), func(t *testing.T) {
			fn(t, s.Init(t, id))
		})
	}
}

// Init returns a fresh cache store of engine id for t, isolated from every
// other test: a memory store of its own, or a Redis keyspace of its own (a
// unique key prefix) whose keys are deleted when t ends. A Redis engine
// whose variable is not set skips t (fails it under CI=true); one whose
// variable is set but that does not answer fails t.
func (s *Set) Init(t testing.TB, id ID) *Cache {
	t.Helper()
	return s.init(t, id, os.Getenv)
}

// init is Init with the environment read through getenv.
func (s *Set) init(t testing.TB, id ID, getenv func(string) string) *Cache {
	t.Helper()
	if !id.known() {
		t.Fatalf("testcaches: unknown engine %q; known engines are %v", id, allIDs)
	}
	if id == Memory {
		return &Cache{ID: id, Store: cache.NewMemoryStore(cache.MemoryOptions{})}
	}
	url, source := getenv(id.EnvVar()), id.EnvVar()
	if url == "" && s.provider != nil {
		var err error
		url, err = containerURL(id, s.provider)
		if errors.Is(err, ErrNoContainerEngine) {
			unavailable(t, id, getenv, fmt.Errorf("%w; or set %s to a connection string", err, id.EnvVar()))
			return nil
		}
		if err != nil {
			t.Fatalf("testcaches: %s: %v", id, err)
		}
		source = "container of " + s.provider.Name()
	}
	if url == "" {
		unavailable(t, id, getenv, fmt.Errorf("set %s to a connection string such as redis://127.0.0.1:6379/0, or give New a container provider (WithContainerProvider)", id.EnvVar()))
		return nil
	}
	client, err := sharedClient(url)
	if err != nil {
		t.Fatalf("testcaches: %s at %s (from %s): %v", id, url, source, err)
	}
	prefix := "greenroom-test:" + randomHex(8) + ":"
	c := &Cache{ID: id, Store: cache.NewRedisStoreFromClient(client, prefix), ConnectionString: url, KeyPrefix: prefix}
	t.Cleanup(func() {
		if err := deletePrefix(context.Background(), client, prefix); err != nil {
			t.Errorf("testcaches: deleting the keys %s* of the test: %v", prefix, err)
		}
	})
	return c
}

func unavailable(t testing.TB, id ID, getenv func(string) string, err error) {
	t.Helper()
	msg := fmt.Sprintf("testcaches: %s is not available: %v", id, err)
	if isTrue(getenv("CI")) {
		t.Fatalf("%s (CI=true requires every requested engine)", msg)
	}
	t.Skip(msg)
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// Cache is one test's isolated cache store.
type Cache struct {
	// ID is the engine.
	ID ID
	// Store is the test's store: hand it to cache.Factory with
	// cache.WithStore, or use [Cache.Factory].
	Store cache.Store
	// ConnectionString and KeyPrefix are the Redis server and the
	// test's key prefix; empty for Memory.
	ConnectionString, KeyPrefix string
}

// Factory returns the production core.cache factory on the test's store,
// for a test backend: testbackend.Start(t, plugin, c.Factory()).
func (c *Cache) Factory() *backend.ServiceFactory {
	return cache.Factory(cache.WithStore(c.Store))
}

// ForPlugin returns the production cache of the plugin pluginID on the
// test's store, with no default TTL.
func (c *Cache) ForPlugin(pluginID string) core.Cache {
	return cache.New(c.Store, pluginID, 0)
}

// clients holds one Redis client per connection string, shared by the
// tests of the binary (each with its own key prefix) and never closed: a
// connection pool per test would cost a dial per test.
var clients struct {
	sync.Mutex
	m map[string]*clientEntry
}

type clientEntry struct {
	once   sync.Once
	client *redis.Client
	err    error
}

func sharedClient(url string) (*redis.Client, error) {
	clients.Lock()
	if clients.m == nil {
		clients.m = map[string]*clientEntry{}
	}
	e := clients.m[url]
	if e == nil {
		e = &clientEntry{}
		clients.m[url] = e
	}
	clients.Unlock()
	e.once.Do(func() {
		opts, err := redis.ParseURL(url)
		if err != nil {
			e.err = fmt.Errorf("the connection string is invalid: %w", err)
			return
		}
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 2*time.Second, 2*time.Second, 2*time.Second
		opts.ContextTimeoutEnabled = true
		opts.DialerRetries, opts.MaxRetries = 1, 1
		c := redis.NewClient(opts)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			c.Close()
			e.err = fmt.Errorf("Redis does not answer PING: %w", err)
			return
		}
		e.client = c
	})
	return e.client, e.err
}

// deletePrefix deletes every key starting with prefix (which holds no
// glob metacharacter).
func deletePrefix(ctx context.Context, c *redis.Client, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := c.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
