package cache

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Store holds the entries of the caches of one backend, under the
// namespaced keys the per-plugin views give it. [NewMemoryStore] and
// [NewRedisStore] make the two production stores; a Store of your own can
// be given to [Factory] with [WithStore].
//
// A ttl of 0 means no expiry; the views never pass a negative one. Get of a
// missing or expired key returns false and no error.
type Store interface {
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
	// Close releases the store's resources (connections); the backend
	// calls it when it stops, after every plugin, for the stores it made.
	Close() error
}

// DefaultMaxEntries is the default bound of a memory store
// (config backend.cache.memory.maxEntries).
const DefaultMaxEntries = 10000

// MemoryOptions configures [NewMemoryStore].
type MemoryOptions struct {
	// MaxEntries bounds the number of entries; when a Set would exceed
	// it, the least recently used entry is evicted. 0 means
	// DefaultMaxEntries.
	MaxEntries int
	// Now is the store's clock, for tests that expire entries without
	// sleeping; nil means time.Now.
	Now func() time.Time
}

// MemoryStore is a [Store] in the process's memory: bounded, least
// recently used entries evicted first, entries expiring at their TTL.
// Expired entries are dropped when read, when evicted, and by a small
// random sample checked at every Set (as Redis does), so that they do not
// linger in a store that is written to. It is safe for concurrent use.
type MemoryStore struct {
	mu      sync.Mutex
	max     int
	now     func() time.Time
	entries map[string]*list.Element // of *memEntry
	lru     list.List                // front: most recently used
}

type memEntry struct {
	key     string
	value   []byte
	expires time.Time // zero: never
}

// sweepSample is how many entries every Set checks for expiry.
const sweepSample = 4

// NewMemoryStore returns an empty memory store.
func NewMemoryStore(opts MemoryOptions) *MemoryStore {
	s := &MemoryStore{max: opts.MaxEntries, now: opts.Now, entries: map[string]*list.Element{}}
	if s.max <= 0 {
		s.max = DefaultMaxEntries
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

func (s *MemoryStore) expired(e *memEntry, now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

func (s *MemoryStore) remove(el *list.Element) {
	s.lru.Remove(el)
	delete(s.entries, el.Value.(*memEntry).key)
}

// Get implements [Store]. It returns a copy of the value.
func (s *MemoryStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.entries[key]
	if !ok {
		return nil, false, nil
	}
	e := el.Value.(*memEntry)
	if s.expired(e, s.now()) {
		s.remove(el)
		return nil, false, nil
	}
	s.lru.MoveToFront(el)
	return append([]byte(nil), e.value...), true, nil
}

// Set implements [Store]. It stores a copy of value.
func (s *MemoryStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	e := &memEntry{key: key, value: append([]byte(nil), value...)}
	if ttl > 0 {
		e.expires = now.Add(ttl)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if el, ok := s.entries[key]; ok {
		el.Value = e
		s.lru.MoveToFront(el)
		return nil
	}
	for len(s.entries) >= s.max {
		s.remove(s.lru.Back())
	}
	s.entries[key] = s.lru.PushFront(e)
	return nil
}

// sweep drops the expired entries among a few picked at random (Go's map
// iteration order).
func (s *MemoryStore) sweep(now time.Time) {
	n := 0
	for _, el := range s.entries {
		if s.expired(el.Value.(*memEntry), now) {
			s.remove(el)
		}
		if n++; n == sweepSample {
			return
		}
	}
}

// Delete implements [Store].
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.entries[key]; ok {
		s.remove(el)
	}
	return nil
}

// Len returns the number of entries held, expired ones not yet dropped
// included.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Close implements [Store]; a memory store holds nothing to release.
func (s *MemoryStore) Close() error { return nil }
