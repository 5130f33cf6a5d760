package mockservices_test

import (
	"context"
	"fmt"
	"time"

	"github.com/greenroom-dev/greenroom/mockservices"
)

// The fake expires entries when the test moves its clock.
func ExampleCache() {
	ctx := context.Background()
	c := mockservices.Cache()
	todo := c.ForPlugin("todo") // the core.Cache the plugin sees
	_ = todo.Set(ctx, "summary", []byte("3 open"), 10*time.Minute)
	_ = todo.Set(ctx, "owner", []byte("alice"), 0)
	fmt.Println(c.Keys("todo"))
	ttl, _ := c.TTL("todo", "summary")
	fmt.Println(ttl)

	c.Advance(10 * time.Minute)
	_, ok, _ := todo.Get(ctx, "summary")
	fmt.Println(ok, c)
	// Output:
	// [owner summary]
	// 10m0s
	// false cache[todo/owner]
}

// CacheFactory hands a fake to a test backend; CacheFactory(nil), among
// DefaultFactories, makes one per backend.
func ExampleCacheFactory() {
	c := mockservices.Cache()
	f := mockservices.CacheFactory(c) // testbackend.Start(t, plugin, f)
	fmt.Println(f != nil)
	// Output: true
}
