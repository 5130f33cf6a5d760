// Package cachekey checks the keys and TTLs of core.Cache and namespaces
// keys by plugin, for the production cache (defaults/cache) and its fake
// (mockservices), so that both refuse the same input with the same errors.
package cachekey

import (
	"strconv"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// Check returns an errs.Input error naming the plugin if key is not a
// valid cache key: empty, or longer than core.MaxCacheKeyLen bytes.
func Check(pluginID, key string) error {
	switch {
	case key == "":
		return errs.NewInput("cache of plugin '%s': the key is empty; use a non-empty key of at most %d bytes", pluginID, core.MaxCacheKeyLen)
	case len(key) > core.MaxCacheKeyLen:
		return errs.NewInput("cache of plugin '%s': the key %.40q... is %d bytes long; use at most %d bytes (hash long keys)", pluginID, key, len(key), core.MaxCacheKeyLen)
	}
	return nil
}

// CheckTTL returns an errs.Input error naming the plugin and the key if
// ttl is negative.
func CheckTTL(pluginID, key string, ttl time.Duration) error {
	if ttl < 0 {
		return errs.NewInput("cache of plugin '%s': the TTL %v for key %q is negative; use 0 for the default TTL or a positive duration", pluginID, ttl, key)
	}
	return nil
}

// Namespaced returns the store key of the plugin's key:
// "<len(pluginID)>:<pluginID>:<key>". The length prefix makes it
// unambiguous whatever the plugin ID and key contain: plugin "a" with key
// "b:c" is "1:a:b:c", plugin "a:b" with key "c" is "3:a:b:c".
func Namespaced(pluginID, key string) string {
	return strconv.Itoa(len(pluginID)) + ":" + pluginID + ":" + key
}
