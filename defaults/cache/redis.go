package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultKeyPrefix is the default prefix of the keys a Redis store writes
// (config backend.cache.redis.keyPrefix).
const DefaultKeyPrefix = "greenroom:"

// The default timeouts of a Redis store: small, so that a Redis that went
// away makes cache operations fail in about a second instead of hanging.
const (
	DefaultDialTimeout  = time.Second
	DefaultReadTimeout  = 500 * time.Millisecond
	DefaultWriteTimeout = 500 * time.Millisecond
	DefaultPoolTimeout  = time.Second
)

// RedisOptions configures [NewRedisStore]. Zero durations mean the
// defaults above.
type RedisOptions struct {
	// URL is the connection string, redis://[user:password@]host:port/db
	// (or rediss:// for TLS).
	URL string
	// KeyPrefix is put before every key; "" means DefaultKeyPrefix.
	KeyPrefix                                           string
	DialTimeout, ReadTimeout, WriteTimeout, PoolTimeout time.Duration
	// MaxRetries is how many times a failed command is retried; 0 means
	// once, a negative number never.
	MaxRetries int
}

// RedisStore is a [Store] in Redis, shared by the instances of a backend
// that use the same URL and prefix. Entries expire in Redis (SET PX).
type RedisStore struct {
	client *redis.Client
	prefix string
	owned  bool // Close closes the client
}

// NewRedisStore returns a store on the Redis at opts.URL. It does not
// connect: see [RedisStore.Ping]. An invalid URL is an error.
func NewRedisStore(opts RedisOptions) (*RedisStore, error) {
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("the Redis URL is invalid (want redis://host:port/db): %w", err)
	}
	orDefault := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	ro.DialTimeout = orDefault(opts.DialTimeout, DefaultDialTimeout)
	ro.ReadTimeout = orDefault(opts.ReadTimeout, DefaultReadTimeout)
	ro.WriteTimeout = orDefault(opts.WriteTimeout, DefaultWriteTimeout)
	ro.PoolTimeout = orDefault(opts.PoolTimeout, DefaultPoolTimeout)
	ro.ContextTimeoutEnabled = true
	ro.DialerRetries = 1 // go-redis's default, 5 with 100ms pauses, delays every failure
	switch {
	case opts.MaxRetries == 0:
		ro.MaxRetries = 1
	case opts.MaxRetries < 0:
		ro.MaxRetries = -1
	default:
		ro.MaxRetries = opts.MaxRetries
	}
	s := NewRedisStoreFromClient(redis.NewClient(ro), opts.KeyPrefix)
	s.owned = true
	return s, nil
}

// NewRedisStoreFromClient returns a store that writes through client,
// under keyPrefix ("" means DefaultKeyPrefix). Its Close does not close
// client: several stores, with different prefixes, may share one.
func NewRedisStoreFromClient(client *redis.Client, keyPrefix string) *RedisStore {
	if keyPrefix == "" {
		keyPrefix = DefaultKeyPrefix
	}
	return &RedisStore{client: client, prefix: keyPrefix}
}

// Prefix returns the prefix of the store's keys.
func (s *RedisStore) Prefix() string { return s.prefix }

// Ping checks that Redis answers.
func (s *RedisStore) Ping(ctx context.Context) error {
	return s.client.Ping(ctx).Err()
}

// Get implements [Store].
func (s *RedisStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := s.client.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// Set implements [Store].
func (s *RedisStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl > 0 && ttl < time.Millisecond {
		ttl = time.Millisecond // the finest Redis keeps; 0 would mean no expiry
	}
	return s.client.Set(ctx, s.prefix+key, value, ttl).Err()
}

// Delete implements [Store].
func (s *RedisStore) Delete(ctx context.Context, key string) error {
	return s.client.Del(ctx, s.prefix+key).Err()
}

// Close implements [Store]: it closes the client that NewRedisStore made.
func (s *RedisStore) Close() error {
	if !s.owned {
		return nil
	}
	return s.client.Close()
}
