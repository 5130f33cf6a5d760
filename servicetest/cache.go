package servicetest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// CacheEnv is what [TestCache] needs of one fresh cache store.
type CacheEnv struct {
	// ForPlugin returns the cache of the plugin pluginID, with no default
	// TTL; the caches of one env share a store, and a second call with
	// the same ID sees the same entries.
	ForPlugin func(pluginID string) core.Cache
	// Advance lets d pass for the store's entries: a fake clock moves,
	// a real store sleeps. The suite never advances by more than 50ms.
	Advance func(d time.Duration)
}

// cacheTTL is the short TTL the suite expires; cacheWait, how long it
// lets pass to expire it.
const (
	cacheTTL  = 10 * time.Millisecond
	cacheWait = 30 * time.Millisecond
)

// TestCache checks an implementation of [core.Cache]: Get returns what
// Set stored and nothing after Delete, entries expire at their TTL and
// WithDefaultTTL applies to a ttl of 0 only, invalid keys and negative
// TTLs are errs.Input errors naming the plugin, the JSON helpers round-trip,
// and two plugins never see each other's keys, however they are spelled.
//
// newEnv returns a fresh store; its caches must be empty.
func TestCache(t *testing.T, newEnv func(t *testing.T) CacheEnv) {
	t.Helper()
	ctx := context.Background()

	get := func(t *testing.T, c core.Cache, key string) ([]byte, bool) {
		t.Helper()
		v, ok, err := c.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get(%q) = %v", key, err)
		}
		return v, ok
	}
	set := func(t *testing.T, c core.Cache, key, value string, ttl time.Duration) {
		t.Helper()
		if err := c.Set(ctx, key, []byte(value), ttl); err != nil {
			t.Fatalf("Set(%q, %v) = %v", key, ttl, err)
		}
	}

	t.Run("Get returns what Set stored", func(t *testing.T) {
		c := newEnv(t).ForPlugin("servicetest")
		if v, ok := get(t, c, "missing"); ok || v != nil {
			t.Errorf("Get of a missing key = %q, %v; want nil, false", v, ok)
		}
		set(t, c, "k", "v1", 0)
		set(t, c, "k", "v2", time.Hour)
		set(t, c, "empty", "", 0)
		if v, ok := get(t, c, "k"); !ok || string(v) != "v2" {
			t.Errorf("Get after two Sets = %q, %v; want \"v2\", true", v, ok)
		}
		if v, ok := get(t, c, "empty"); !ok || len(v) != 0 {
			t.Errorf("Get of an empty value = %q, %v; want \"\", true", v, ok)
		}
		long := strings.Repeat("k", core.MaxCacheKeyLen)
		set(t, c, long, "max", 0)
		if v, ok := get(t, c, long); !ok || string(v) != "max" {
			t.Errorf("Get of a key of MaxCacheKeyLen bytes = %q, %v; want \"max\", true", v, ok)
		}
	})

	t.Run("values are copies", func(t *testing.T) {
		c := newEnv(t).ForPlugin("servicetest")
		b := []byte("abc")
		if err := c.Set(ctx, "k", b, 0); err != nil {
			t.Fatal(err)
		}
		b[0] = 'x'
		v, _ := get(t, c, "k")
		if !bytes.Equal(v, []byte("abc")) {
			t.Fatalf("Get after changing the slice given to Set = %q, want \"abc\"", v)
		}
		v[0] = 'y'
		if v, _ := get(t, c, "k"); !bytes.Equal(v, []byte("abc")) {
			t.Errorf("Get after changing the slice Get returned = %q, want \"abc\"", v)
		}
	})

	t.Run("Delete removes the entry", func(t *testing.T) {
		c := newEnv(t).ForPlugin("servicetest")
		set(t, c, "k", "v", 0)
		if err := c.Delete(ctx, "k"); err != nil {
			t.Fatalf("Delete = %v", err)
		}
		if v, ok := get(t, c, "k"); ok {
			t.Errorf("Get after Delete = %q, true; want no entry", v)
		}
		if err := c.Delete(ctx, "never-set"); err != nil {
			t.Errorf("Delete of a missing key = %v, want nil", err)
		}
	})

	t.Run("entries expire at their TTL", func(t *testing.T) {
		env := newEnv(t)
		c := env.ForPlugin("servicetest")
		set(t, c, "short", "v", cacheTTL)
		set(t, c, "long", "v", time.Hour)
		set(t, c, "forever", "v", 0)
		env.Advance(cacheWait)
		if _, ok := get(t, c, "short"); ok {
			t.Errorf("an entry with a TTL of %v is still there after %v", cacheTTL, cacheWait)
		}
		for _, k := range []string{"long", "forever"} {
			if _, ok := get(t, c, k); !ok {
				t.Errorf("the entry %q is gone after %v", k, cacheWait)
			}
		}
	})

	t.Run("WithDefaultTTL applies to a ttl of 0", func(t *testing.T) {
		env := newEnv(t)
		base := env.ForPlugin("servicetest")
		c := base.WithDefaultTTL(cacheTTL)
		set(t, c, "default", "v", 0)
		set(t, c, "explicit", "v", time.Hour)
		set(t, base, "base", "v", 0)
		if _, ok := get(t, base, "default"); !ok {
			t.Fatalf("the view of WithDefaultTTL does not share the entries of its cache")
		}
		env.Advance(cacheWait)
		if _, ok := get(t, c, "default"); ok {
			t.Errorf("Set with ttl 0 on WithDefaultTTL(%v): the entry is still there after %v", cacheTTL, cacheWait)
		}
		if _, ok := get(t, c, "explicit"); !ok {
			t.Errorf("Set with ttl 1h on WithDefaultTTL(%v): the entry is gone after %v", cacheTTL, cacheWait)
		}
		if _, ok := get(t, base, "base"); !ok {
			t.Errorf("WithDefaultTTL changed the default TTL of the cache it was made from")
		}
	})

	t.Run("invalid keys and TTLs are input errors naming the plugin", func(t *testing.T) {
		c := newEnv(t).ForPlugin("servicetest")
		for _, key := range []string{"", strings.Repeat("k", core.MaxCacheKeyLen+1)} {
			_, _, err := c.Get(ctx, key)
			checkCacheErr(t, "Get", key, err)
			checkCacheErr(t, "Set", key, c.Set(ctx, key, []byte("v"), 0))
			checkCacheErr(t, "Delete", key, c.Delete(ctx, key))
		}
		checkCacheErr(t, "Set with a negative TTL", "k", c.Set(ctx, "k", []byte("v"), -time.Second))
		if _, ok := get(t, c, "k"); ok {
			t.Errorf("Set with a negative TTL stored the entry")
		}
	})

	t.Run("GetJSON and SetJSON round-trip", func(t *testing.T) {
		c := newEnv(t).ForPlugin("servicetest")
		type item struct {
			Title string   `json:"title"`
			Tags  []string `json:"tags"`
		}
		in := item{Title: "write tests", Tags: []string{"a", "b"}}
		if err := core.SetJSON(ctx, c, "item", in, 0); err != nil {
			t.Fatalf("SetJSON = %v", err)
		}
		out, ok, err := core.GetJSON[item](ctx, c, "item")
		if err != nil || !ok || out.Title != in.Title || strings.Join(out.Tags, ",") != "a,b" {
			t.Errorf("GetJSON = %+v, %v, %v; want %+v, true, nil", out, ok, err, in)
		}
		if _, ok, err := core.GetJSON[item](ctx, c, "missing"); ok || err != nil {
			t.Errorf("GetJSON of a missing key = %v, %v; want false, nil", ok, err)
		}
		set(t, c, "not-json", "{", 0)
		if _, _, err := core.GetJSON[item](ctx, c, "not-json"); err == nil || !strings.Contains(err.Error(), "not-json") {
			t.Errorf("GetJSON of a value that is not JSON = %v, want an error naming the key", err)
		}
	})

	t.Run("two plugins never see each other's keys", func(t *testing.T) {
		env := newEnv(t)
		a, b := env.ForPlugin("a"), env.ForPlugin("b")
		set(t, a, "k", "of a", 0)
		set(t, b, "k", "of b", 0)
		if v, _ := get(t, a, "k"); string(v) != "of a" {
			t.Errorf("plugin a's key k = %q, want \"of a\"", v)
		}
		if v, _ := get(t, b, "k"); string(v) != "of b" {
			t.Errorf("plugin b's key k = %q, want \"of b\"", v)
		}
		if err := a.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if _, ok := get(t, b, "k"); !ok {
			t.Errorf("Delete by plugin a removed plugin b's entry")
		}
		// Separators in IDs and keys do not make two entries one.
		ab, bc := env.ForPlugin("a:b"), env.ForPlugin("a")
		set(t, ab, "c", "of a:b", 0)
		set(t, bc, "b:c", "of a", 0)
		if v, _ := get(t, ab, "c"); string(v) != "of a:b" {
			t.Errorf("plugin \"a:b\" key \"c\" = %q, want \"of a:b\" (it collides with plugin \"a\" key \"b:c\")", v)
		}
		if _, ok := get(t, env.ForPlugin("a/b"), "c"); ok {
			t.Errorf("plugin \"a/b\" sees the key \"c\" of another plugin")
		}
		if v, _ := get(t, env.ForPlugin("a"), "b:c"); string(v) != "of a" {
			t.Errorf("a second view of plugin a does not see its entries: key \"b:c\" = %q", v)
		}
	})
}

// checkCacheErr checks that err is an errs.Input error naming the plugin
// "servicetest".
func checkCacheErr(t *testing.T, op, key string, err error) {
	t.Helper()
	if len(key) > 20 {
		key = key[:20] + "..."
	}
	e, ok := errs.As(err)
	switch {
	case err == nil:
		t.Errorf("%s of key %q: got no error, want an errs Input", op, key)
	case !ok || e.Name != errs.Input:
		t.Errorf("%s of key %q: got %v, want an errs Input", op, key, err)
	case !strings.Contains(e.Message, "servicetest"):
		t.Errorf("%s of key %q: message %q does not name the plugin", op, key, e.Message)
	}
}
