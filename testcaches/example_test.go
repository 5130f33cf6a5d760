package testcaches_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/testcaches"
)

// One test on every engine; run one with go test -run 'TestCatalog/redis7'.
func ExampleSet_Each() {
	_ = func(t *testing.T) { // func TestCatalog(t *testing.T)
		testcaches.New(t).Each(t, func(t *testing.T, c *testcaches.Cache) {
			t.Parallel()
			// testbackend.Start(t, catalog.Plugin, c.Factory())
			if err := c.ForPlugin("catalog").Set(t.Context(), "k", []byte("v"), time.Minute); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Select engines explicitly; an ID is an Option.
func ExampleNew() {
	_ = func(t *testing.T) {
		caches := testcaches.New(t, testcaches.Redis7)
		_ = caches
	}
}

// Init gives one test an isolated store of one engine.
func ExampleSet_Init() {
	_ = func(t *testing.T) {
		c := testcaches.New(t).Init(t, testcaches.Memory)
		_ = c.Factory() // for testbackend.Start
	}
}

// Each engine but Memory names the variable its connection string comes
// from.
func ExampleID_EnvVar() {
	fmt.Printf("%q %q\n", testcaches.Memory.EnvVar(), testcaches.Redis7.EnvVar())
	// Output: "" "GREENROOM_TEST_CACHE_REDIS7_CONNECTION_STRING"
}

// The container a provider starts for Redis 7.
func ExampleSpecFor() {
	spec, _ := testcaches.SpecFor(testcaches.Redis7)
	fmt.Println(spec.Image, spec.Port)
	// Output: redis:7-alpine 6379/tcp
}

// A container provider serves an engine whose variable is not set.
func ExampleWithContainerProvider() {
	_ = func(t *testing.T, provider testcaches.ContainerProvider) {
		caches := testcaches.New(t, testcaches.WithContainerProvider(provider))
		_ = caches
	}
}

// A test hands its store to a test backend, or uses a plugin's cache
// directly.
func ExampleCache_Factory() {
	_ = func(t *testing.T) {
		c := testcaches.New(t).Init(t, testcaches.Memory)
		_ = c.Factory() // testbackend.Start(t, catalog.Plugin, c.Factory())
		todo := c.ForPlugin("todo")
		_ = todo.Set(t.Context(), "k", []byte("v"), time.Minute)
	}
}
