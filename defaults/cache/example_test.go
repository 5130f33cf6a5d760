package cache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults"
	"github.com/greenroom-dev/greenroom/defaults/cache"
)

// The cache of one plugin on a store: keys are the plugin's own.
func ExampleNew() {
	ctx := context.Background()
	store := cache.NewMemoryStore(cache.MemoryOptions{})
	todo, catalog := cache.New(store, "todo", time.Hour), cache.New(store, "catalog", 0)

	_ = todo.Set(ctx, "count", []byte("3"), 0) // the default TTL: 1h
	v, ok, _ := todo.Get(ctx, "count")
	fmt.Printf("todo: %s %v\n", v, ok)
	_, ok, _ = catalog.Get(ctx, "count")
	fmt.Println("catalog sees it:", ok)

	_, _, err := todo.Get(ctx, "")
	fmt.Println(err)
	// Output:
	// todo: 3 true
	// catalog sees it: false
	// InputError: cache of plugin 'todo': the key is empty; use a non-empty key of at most 250 bytes
}

// A bounded memory store evicts the least recently used entry.
func ExampleNewMemoryStore() {
	ctx := context.Background()
	store := cache.NewMemoryStore(cache.MemoryOptions{MaxEntries: 2})
	c := cache.New(store, "todo", 0)
	_ = core.SetJSON(ctx, c, "a", []string{"x"}, 0)
	_ = core.SetJSON(ctx, c, "b", []string{"y"}, 0)
	_ = core.SetJSON(ctx, c, "c", []string{"z"}, 0)
	_, okA, _ := core.GetJSON[[]string](ctx, c, "a")
	vc, okC, _ := core.GetJSON[[]string](ctx, c, "c")
	fmt.Println(store.Len(), okA, vc, okC)
	// Output: 2 false [z] true
}

// A Redis store does not connect until used; Ping checks the server.
func ExampleNewRedisStore() {
	store, err := cache.NewRedisStore(cache.RedisOptions{URL: "redis://127.0.0.1:6379/0", KeyPrefix: "myapp:"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	fmt.Println(store.Prefix())

	_, err = cache.NewRedisStore(cache.RedisOptions{URL: "127.0.0.1:6379"})
	fmt.Println(err != nil)
	// Output:
	// myapp:
	// true
}

// Factory is among defaults.Factories; its store comes from
// backend.cache.store.
func ExampleFactory() {
	b := defaults.New(defaults.ConfigYAML("app", `
backend:
  cache:
    store: memory
    defaultTtl: 10m
    memory:
      maxEntries: 50000
`))
	_ = b // add plugins that depend on core.Cache, and Start
}

// WithStore gives every plugin of a backend a store built by the caller,
// who closes it.
func ExampleWithStore() {
	store := cache.NewMemoryStore(cache.MemoryOptions{MaxEntries: 100})
	f := cache.Factory(cache.WithStore(store))
	fmt.Println(f != nil)
	// Output: true
}

// Several stores, each with its prefix, can share one go-redis client,
// which the caller closes.
func ExampleNewRedisStoreFromClient() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	a := cache.NewRedisStoreFromClient(client, "app-a:")
	b := cache.NewRedisStoreFromClient(client, "")
	fmt.Println(a.Prefix(), b.Prefix())
	// Output: app-a: greenroom:
}
