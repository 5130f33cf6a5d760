package cache

import (
	"context"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/cachekey"
)

// New returns the cache of the plugin pluginID on store: its keys are
// namespaced by the plugin ID, so that two plugins never see each other's
// entries, and Set with a ttl of 0 uses defaultTTL (0: no expiry).
//
// A store error is an errs.ServiceUnavailable error naming the plugin and
// the key: the caller treats it as a miss.
func New(store Store, pluginID string, defaultTTL time.Duration) core.Cache {
	return &pluginCache{store: store, plugin: pluginID, ttl: defaultTTL}
}

type pluginCache struct {
	store  Store
	plugin string
	ttl    time.Duration
}

func (c *pluginCache) unavailable(op, key string, err error) error {
	return errs.Wrap(errs.ServiceUnavailable, err,
		"cache of plugin '%s': %s of key %q failed: %v; the cache is not a source of truth: treat this as a miss, and check the store (config backend.cache.store, backend.cache.redis.connection)",
		c.plugin, op, key, err)
}

func (c *pluginCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := cachekey.Check(c.plugin, key); err != nil {
		return nil, false, err
	}
	v, ok, err := c.store.Get(ctx, cachekey.Namespaced(c.plugin, key))
	if err != nil {
		return nil, false, c.unavailable("get", key, err)
	}
	return v, ok, nil
}

func (c *pluginCache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := cachekey.Check(c.plugin, key); err != nil {
		return err
	}
	if err := cachekey.CheckTTL(c.plugin, key, ttl); err != nil {
		return err
	}
	if ttl == 0 {
		ttl = c.ttl
	}
	if err := c.store.Set(ctx, cachekey.Namespaced(c.plugin, key), value, ttl); err != nil {
		return c.unavailable("set", key, err)
	}
	return nil
}

func (c *pluginCache) Delete(ctx context.Context, key string) error {
	if err := cachekey.Check(c.plugin, key); err != nil {
		return err
	}
	if err := c.store.Delete(ctx, cachekey.Namespaced(c.plugin, key)); err != nil {
		return c.unavailable("delete", key, err)
	}
	return nil
}

func (c *pluginCache) WithDefaultTTL(ttl time.Duration) core.Cache {
	d := *c
	d.ttl = max(ttl, 0)
	return &d
}
