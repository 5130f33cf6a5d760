// Package redistest gives tests a Redis: the one of
// GREENROOM_TEST_CACHE_REDIS7_CONNECTION_STRING, with a key prefix of
// their own whose keys are deleted when the test ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvVar names the variable that holds the test Redis's URL.
const EnvVar = "GREENROOM_TEST_CACHE_REDIS7_CONNECTION_STRING"

// URL returns the test Redis's URL after checking that it answers. Without
// it, it skips t with a message naming the variable, or fails t when the
// variable CI is set, as on CI a skipped store is a hole in the tests.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvVar)
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; under CI the Redis tests must run: set it to a redis:// URL of a Redis 7", EnvVar)
		}
		t.Skipf("set %s to a redis:// URL of a Redis 7 to run this test", EnvVar)
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the Redis of %s does not answer: %v", EnvVar, err)
		}
		t.Skipf("the Redis of %s does not answer: %v", EnvVar, err)
	}
	return url
}

// Prefix returns a key prefix unique to this call, and deletes the keys
// under it when t ends.
func Prefix(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "greenroom-test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return
		}
		c := redis.NewClient(opt)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("listing the test's Redis keys %s*: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("deleting the test's Redis keys: %v", err)
			}
		}
	})
	return prefix
}
