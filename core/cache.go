package core

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// CacheRef is the reference of the cache service (plugin scope).
var CacheRef = NewServiceRef[Cache]("core.cache")

// MaxCacheKeyLen is the longest key, in bytes, a [Cache] accepts.
const MaxCacheKeyLen = 250

// Cache is a plugin's key-value cache (service "core.cache"). Keys are the
// plugin's own: two plugins using the same key see different entries. The
// production cache is in memory, or in Redis when several instances of a
// backend must share it (config backend.cache.store).
//
// A cache is not a source of truth: an entry may vanish at any time, and a
// store that is down makes Get, Set and Delete return errors (promptly,
// never hanging past the context's deadline or the store's timeouts). Code
// that reads through a cache should treat an error as a miss, log it, and
// go on with the source.
//
// Keys are non-empty strings of at most [MaxCacheKeyLen] bytes; an invalid
// key is an errs.Input error. Values are bytes; use [GetJSON] and [SetJSON]
// for typed values.
type Cache interface {
	// Get returns the value at key and true, or nil and false when there
	// is no live entry.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Set stores value at key for ttl. A ttl of 0 means the cache's
	// default TTL (see WithDefaultTTL; production: config
	// backend.cache.defaultTtl), and no expiry if there is none; a
	// negative ttl is an errs.Input error.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes the entry at key; deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
	// WithDefaultTTL returns a view of the same entries whose Set uses ttl
	// when given 0.
	WithDefaultTTL(ttl time.Duration) Cache
}

// GetJSON reads the JSON value at key into a T. It returns false, and no
// error, when there is no entry. A value that does not decode as a T is
// an error naming the key.
func GetJSON[T any](ctx context.Context, c Cache, key string) (T, bool, error) {
	var v T
	b, ok, err := c.Get(ctx, key)
	if err != nil || !ok {
		return v, false, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("cache: the value at key %q is not a %T: %w", key, v, err)
	}
	return v, true, nil
}

// SetJSON stores v as JSON at key for ttl (see [Cache.Set]).
func SetJSON[T any](ctx context.Context, c Cache, key string, v T, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cache: encoding the value for key %q: %w", key, err)
	}
	return c.Set(ctx, key, b, ttl)
}
