// Package cache is the production core.cache service: a key-value cache
// per plugin, over one store per backend, in memory or in Redis.
//
// [Factory] is the service's factory (one of defaults.Factories); it reads
// the backend.cache config keys (see docs/cache.md) and makes the store of
// each backend in the factory's root context, so that backends built in
// one process never share entries. [New] gives the cache of one plugin on
// a [Store]: keys are namespaced by plugin ID, unambiguously, and checked
// (empty or longer than core.MaxCacheKeyLen: errs.Input).
//
// [NewMemoryStore] is bounded and evicts the least recently used entry;
// [NewRedisStore] writes to Redis with small timeouts, so that a Redis
// that went away makes operations fail quickly (errs.ServiceUnavailable)
// instead of hanging. A cache is not a source of truth: code that reads
// through it treats an error as a miss.
//
// Tests use the fake of package mockservices (mockservices.Cache), or the
// production stores on each engine with package testcaches.
package cache
