package testcaches_test

import (
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
