package cache

import (
	"context"
	"fmt"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Option configures [Factory].
type Option func(*factoryOptions)

type factoryOptions struct {
	store Store
}

// WithStore makes every plugin's cache use store instead of the one
// configured by backend.cache.store. The caller owns store: the backend
// does not close it.
func WithStore(store Store) Option {
	return func(o *factoryOptions) { o.store = store }
}

// settings are the cache's configuration.
type settings struct {
	store      string
	maxEntries int
	redis      RedisOptions
	defaultTTL time.Duration
}

// readSettings reads the backend.cache keys.
func readSettings(cfg core.Config) (settings, error) {
	s := settings{store: "memory", maxEntries: DefaultMaxEntries}
	fail := func(key, format string, args ...any) error {
		return fmt.Errorf("config key %q: %s", key, fmt.Sprintf(format, args...))
	}
	if v, ok, err := cfg.OptionalString("backend.cache.store"); err != nil {
		return s, err
	} else if ok {
		if v != "memory" && v != "redis" {
			return s, fail("backend.cache.store", "%q is not a cache store; use memory (the default) or redis", v)
		}
		s.store = v
	}
	if v, ok, err := cfg.OptionalInt("backend.cache.memory.maxEntries"); err != nil {
		return s, err
	} else if ok {
		if v <= 0 {
			return s, fail("backend.cache.memory.maxEntries", "%d is not positive; use a positive number of entries (default %d)", v, DefaultMaxEntries)
		}
		s.maxEntries = v
	}
	if v, ok, err := cfg.OptionalDuration("backend.cache.defaultTtl"); err != nil {
		return s, err
	} else if ok {
		if v < 0 {
			return s, fail("backend.cache.defaultTtl", "the TTL %v is negative; use a positive duration, or 0 for no expiry", v)
		}
		s.defaultTTL = v
	}
	if v, ok, err := cfg.OptionalString("backend.cache.redis.connection"); err != nil {
		return s, err
	} else if ok {
		s.redis.URL = v
	} else if s.store == "redis" {
		return s, fail("backend.cache.redis.connection", "missing; with backend.cache.store: redis, set it to a URL such as redis://127.0.0.1:6379/0")
	}
	if v, ok, err := cfg.OptionalString("backend.cache.redis.keyPrefix"); err != nil {
		return s, err
	} else if ok {
		s.redis.KeyPrefix = v
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"dialTimeout", &s.redis.DialTimeout}, {"readTimeout", &s.redis.ReadTimeout},
		{"writeTimeout", &s.redis.WriteTimeout}, {"poolTimeout", &s.redis.PoolTimeout},
	} {
		key := "backend.cache.redis." + d.name
		v, ok, err := cfg.OptionalDuration(key)
		if err != nil {
			return s, err
		}
		if ok && v <= 0 {
			return s, fail(key, "the timeout %v is not positive; use a positive duration such as 1s", v)
		}
		*d.dst = v
	}
	if v, ok, err := cfg.OptionalInt("backend.cache.redis.maxRetries"); err != nil {
		return s, err
	} else if ok {
		if v < 0 {
			return s, fail("backend.cache.redis.maxRetries", "%d is negative; use 0 for no retry or a small number", v)
		}
		s.redis.MaxRetries = v
		if v == 0 {
			s.redis.MaxRetries = -1
		}
	}
	return s, nil
}

// root is the factory's per-backend state: the store of the backend and
// the default TTL.
type root struct {
	store      Store
	defaultTTL time.Duration
}

// Factory returns the factory of the core.cache service. Each backend gets
// one store, made when a plugin first depends on the cache and shared by
// its plugins, each of which sees its own keys (see [New]). It reads:
//
//	backend:
//	  cache:
//	    store: memory              # or redis
//	    defaultTtl: 10m            # optional; default: no expiry
//	    memory:
//	      maxEntries: 10000
//	    redis:
//	      connection: redis://127.0.0.1:6379/0
//	      keyPrefix: "greenroom:"
//	      dialTimeout: 1s          # and readTimeout 500ms, writeTimeout 500ms,
//	      poolTimeout: 1s          # maxRetries 1
//
// A Redis that does not answer at startup does not stop the backend (a
// cache is not a source of truth): a warning is logged and the cache
// operations fail until Redis is back. The Redis client is closed when the
// backend stops, after every plugin.
func Factory(opts ...Option) *backend.ServiceFactory {
	var o factoryOptions
	for _, opt := range opts {
		opt(&o)
	}
	return backend.NewPluginServiceFactoryWithContext(core.CacheRef,
		func(ctx context.Context, d struct {
			Config    core.RootConfig
			Logger    core.RootLogger
			Lifecycle core.RootLifecycle
		}) (*root, error) {
			s, err := readSettings(d.Config)
			if err != nil {
				return nil, fmt.Errorf("cache: %w", err)
			}
			r := &root{store: o.store, defaultTTL: s.defaultTTL}
			if r.store != nil {
				return r, nil
			}
			if s.store == "memory" {
				r.store = NewMemoryStore(MemoryOptions{MaxEntries: s.maxEntries})
				return r, nil
			}
			rs, err := NewRedisStore(s.redis)
			if err != nil {
				return nil, fmt.Errorf("cache: config key %q: %w", "backend.cache.redis.connection", err)
			}
			if err := d.Lifecycle.AddShutdownHook(func(context.Context) error { return rs.Close() }); err != nil {
				rs.Close()
				return nil, fmt.Errorf("cache: %w", err)
			}
			pingCtx, cancel := context.WithTimeout(ctx, s.redis.DialTimeout+DefaultDialTimeout)
			defer cancel()
			if err := rs.Ping(pingCtx); err != nil {
				d.Logger.Warn("cache: Redis does not answer; the cache fails until it is back (check backend.cache.redis.connection)", "error", err)
			}
			r.store = rs
			return r, nil
		},
		func(ctx context.Context, r *root, d struct{ Plugin core.PluginMetadata }) (core.Cache, error) {
			return New(r.store, d.Plugin.ID(), r.defaultTTL), nil
		})
}
