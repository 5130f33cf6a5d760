package testcaches_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/cache"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testcaches"
)

var ctx = context.Background()

func TestEachNamesSubtestsAfterEngines(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	testcaches.New(t).Each(t, func(t *testing.T, c *testcaches.Cache) {
		mu.Lock()
		got = append(got, t.Name())
		mu.Unlock()
		if want := "TestEachNamesSubtestsAfterEngines/" + string(c.ID); t.Name() != want {
			t.Errorf("subtest %q, want %q", t.Name(), want)
		}
	})
	want := 2
	if os.Getenv(testcaches.Redis7.EnvVar()) == "" {
		want = 1 // redis7 skipped
	}
	if len(got) != want {
		t.Errorf("subtests that ran: %v, want %d", got, want)
	}
}

// Parallel tests on one engine write the same key of the same plugin and
// never see each other's value.
func TestParallelTestsAreIsolated(t *testing.T) {
	t.Parallel()
	set := testcaches.New(t)
	for _, id := range set.IDs() {
		for i := range 8 {
			t.Run(fmt.Sprintf("%s/%d", id, i), func(t *testing.T) {
				t.Parallel()
				c := set.Init(t, id).ForPlugin("todo")
				want := fmt.Sprint(i)
				if v, ok, err := c.Get(ctx, "k"); err != nil || ok {
					t.Fatalf("a fresh cache has k = %q, %v, %v", v, ok, err)
				}
				if err := c.Set(ctx, "k", []byte(want), time.Hour); err != nil {
					t.Fatal(err)
				}
				for range 20 {
					v, _, err := c.Get(ctx, "k")
					if err != nil || string(v) != want {
						t.Fatalf("k = %q, %v; want %q: another test's value leaked in", v, err, want)
					}
				}
			})
		}
	}
}

// A Redis keyspace is deleted when its test ends.
func TestRedisKeysAreDeletedAfterTheTest(t *testing.T) {
	t.Parallel()
	set := testcaches.New(t, testcaches.Redis7)
	var c *testcaches.Cache
	t.Run("writer", func(t *testing.T) {
		c = set.Init(t, testcaches.Redis7)
		for i := range 50 {
			if err := c.ForPlugin(fmt.Sprint("p", i%3)).Set(ctx, fmt.Sprint("k", i), []byte("v"), 0); err != nil {
				t.Fatal(err)
			}
		}
	})
	if c == nil {
		t.Skip("redis7 skipped")
	}
	opts, err := redis.ParseURL(c.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	defer client.Close()
	keys, _, err := client.Scan(ctx, 0, c.KeyPrefix+"*", 10000).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("%d keys under %s remain after the test: %v", len(keys), c.KeyPrefix, keys)
	}
}

// proxy forwards TCP connections to target until Close, which also cuts
// the connections in progress: a Redis that goes away.
type proxy struct {
	l      net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func newProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l}
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			if !p.track(in, out) {
				return
			}
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(p.Close)
	return p
}

func (p *proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, conns...)
	return true
}

func (p *proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.l.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// catalogPlugin serves GET /item from its source, through the cache: a
// cache error is a miss, as core.Cache says.
func catalogPlugin(source func() string, cacheErrs *[]error, mu *sync.Mutex) backend.Feature {
	return backend.NewPlugin("catalog", backend.Init(func(ctx context.Context, d struct {
		Cache  core.Cache
		Router core.HTTPRouter
	}) error {
		d.Router.AddAuthPolicy("/", core.AllowUnauthenticated)
		d.Router.HandleFunc("GET /item", func(w http.ResponseWriter, r *http.Request) {
			v, ok, err := d.Cache.Get(r.Context(), "item")
			if err == nil && ok {
				fmt.Fprintf(w, "cached:%s", v)
				return
			}
			v = []byte(source())
			if err == nil {
				err = d.Cache.Set(r.Context(), "item", v, time.Hour)
			}
			if err != nil {
				mu.Lock()
				*cacheErrs = append(*cacheErrs, err)
				mu.Unlock()
			}
			fmt.Fprintf(w, "source:%s", v)
		})
		return nil
	}))
}

// A Redis that goes away mid-test makes cache operations fail promptly,
// and a plugin that reads through the cache keeps serving its route from
// the source.
func TestRedisGoesAway(t *testing.T) {
	t.Parallel()
	c := testcaches.New(t, testcaches.Redis7).Init(t, testcaches.Redis7)
	opts, err := redis.ParseURL(c.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, opts.Addr)
	store, err := cache.NewRedisStore(cache.RedisOptions{URL: "redis://" + p.l.Addr().String() + fmt.Sprintf("/%d", opts.DB), KeyPrefix: c.KeyPrefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var mu sync.Mutex
	var cacheErrs []error
	tb := testbackend.Start(t, catalogPlugin(func() string { return "v1" }, &cacheErrs, &mu), cache.Factory(cache.WithStore(store)))

	get := func() string {
		t.Helper()
		return string(tb.Get("/api/catalog/item").Do(t).ExpectStatus(t, http.StatusOK).Bytes())
	}
	if got := get(); got != "source:v1" {
		t.Fatalf("first GET = %q, want source:v1", got)
	}
	if got := get(); got != "cached:v1" {
		t.Fatalf("second GET = %q, want cached:v1", got)
	}
	p.Close()
	done := make(chan string, 1)
	go func() { done <- get() }()
	select {
	case got := <-done:
		if got != "source:v1" {
			t.Errorf("GET with Redis gone = %q, want source:v1", got)
		}
	case <-time.After(30 * time.Second): // a hang guard, not a timed assertion
		t.Fatal("GET with Redis gone hangs")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(cacheErrs) != 1 {
		t.Fatalf("cache errors = %v, want one", cacheErrs)
	}
	if !strings.Contains(cacheErrs[0].Error(), "plugin 'catalog'") {
		t.Errorf("the cache error %q does not name the plugin", cacheErrs[0])
	}
}
