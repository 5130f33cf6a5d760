package testcaches_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/testcaches"
)

// BenchmarkCacheGet measures one Get of a live entry through a plugin's
// production cache, on each engine.
func BenchmarkCacheGet(b *testing.B) {
	set := testcaches.New(b)
	for _, id := range set.IDs() {
		b.Run(string(id), func(b *testing.B) {
			c := set.Init(b, id).ForPlugin("bench")
			if err := c.Set(ctx, "k", make([]byte, 256), time.Hour); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, ok, err := c.Get(ctx, "k"); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// BenchmarkCacheSet measures one Set of a 256-byte value with a TTL, over
// 1000 keys, on each engine.
func BenchmarkCacheSet(b *testing.B) {
	set := testcaches.New(b)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	v := make([]byte, 256)
	for _, id := range set.IDs() {
		b.Run(string(id), func(b *testing.B) {
			c := set.Init(b, id).ForPlugin("bench")
			i := 0
			for b.Loop() {
				if err := c.Set(ctx, keys[i%len(keys)], v, time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkTestCachesInit measures what an isolated store costs a test:
// Init, ten Sets, and the cleanup (on Redis, SCAN and UNLINK of the test's
// prefix), run at the end of each iteration as at the end of a test.
func BenchmarkTestCachesInit(b *testing.B) {
	set := testcaches.New(b)
	for _, id := range set.IDs() {
		b.Run(string(id), func(b *testing.B) {
			for b.Loop() {
				t := &benchT{b: b}
				c := set.Init(t, id).ForPlugin("bench")
				for i := range 10 {
					if err := c.Set(ctx, fmt.Sprint("k", i), []byte("v"), time.Hour); err != nil {
						b.Fatal(err)
					}
				}
				t.finish()
			}
		})
	}
}

// benchT is one iteration's "test": its cleanups run at finish.
type benchT struct {
	testing.TB // the methods below are the ones Init calls
	b          *testing.B
	cleanups   []func()
}

func (t *benchT) Helper()                           {}
func (t *benchT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *benchT) Errorf(format string, args ...any) { t.b.Fatalf(format, args...) }
func (t *benchT) Fatalf(format string, args ...any) { t.b.Fatalf(format, args...) }
func (t *benchT) Skip(args ...any)                  { t.b.Skip(args...) }

func (t *benchT) finish() {
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
}
