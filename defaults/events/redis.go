package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/greenroom-dev/greenroom/core"
)

// Defaults of [RedisOptions].
const (
	DefaultKeyPrefix = "greenroom:events:"
	DefaultMaxLen    = 10000
	DefaultClaimIdle = 30 * time.Second
)

// RedisOptions configure the Redis store of a [Bus].
type RedisOptions struct {
	// URL is a redis:// or rediss:// URL, used when Client is nil; the
	// bus then closes its client in [Bus.Close].
	URL string
	// Client is a client the caller owns, instead of URL.
	Client redis.UniversalClient
	// KeyPrefix prefixes the stream of each topic (default
	// [DefaultKeyPrefix]): topic "todo.completed" is the stream
	// "greenroom:events:todo.completed".
	KeyPrefix string
	// MaxLen bounds each stream, approximately (XADD MAXLEN ~), default
	// [DefaultMaxLen]. Events trimmed before a subscriber read them are
	// lost to it.
	MaxLen int64
	// ClaimIdle is how long an event may stay unacknowledged by a consumer
	// (an instance that died while handling it) before another instance of
	// the same subscriber claims it (default [DefaultClaimIdle]).
	ClaimIdle time.Duration
	// Consumer names this instance within each subscriber's consumer
	// group; default "<hostname>-<pid>-<random>".
	Consumer string
	// Block is how long one read waits for events (default 1s): a
	// subscriber notices a shutdown within it.
	Block time.Duration
}

type redisStore struct {
	client    redis.UniversalClient
	owned     bool
	prefix    string
	maxLen    int64
	claimIdle time.Duration
	consumer  string
	block     time.Duration
}

func newRedisStore(ctx context.Context, o RedisOptions) (*redisStore, error) {
	r := &redisStore{client: o.Client, prefix: o.KeyPrefix, maxLen: o.MaxLen, claimIdle: o.ClaimIdle, consumer: o.Consumer, block: o.Block}
	if r.prefix == "" {
		r.prefix = DefaultKeyPrefix
	}
	if r.maxLen <= 0 {
		r.maxLen = DefaultMaxLen
	}
	if r.claimIdle <= 0 {
		r.claimIdle = DefaultClaimIdle
	}
	if r.block <= 0 {
		r.block = time.Second
	}
	if r.consumer == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		r.consumer = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if r.client == nil {
		opt, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("events: config key %q: %w; use a URL such as redis://localhost:6379/0", "backend.events.redis.connection", err)
		}
		// Short timeouts: a Redis that went away fails a Publish within
		// seconds instead of hanging the request that publishes.
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.MaxRetries = 2*time.Second, 2*time.Second, 2*time.Second, 1
		r.client, r.owned = redis.NewClient(opt), true
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.client.Ping(pctx).Err(); err != nil {
		if r.owned {
			_ = r.client.Close()
		}
		return nil, fmt.Errorf("events: the Redis of backend.events.redis.connection does not answer: %w; start it or correct the URL", err)
	}
	return r, nil
}

func (r *redisStore) close() error {
	if !r.owned {
		return nil
	}
	return r.client.Close()
}

func (r *redisStore) key(topic string) string { return r.prefix + topic }

func (r *redisStore) publish(ctx context.Context, e core.Event) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return r.client.XAdd(ctx, &redis.XAddArgs{Stream: r.key(e.Topic), MaxLen: r.maxLen, Approx: true, Values: []any{"event", data}}).Err()
}

// createGroups creates the subscriber's consumer group on the stream of
// each of its topics, at "$": it receives the events published from now
// on. A group that exists (another instance made it) is kept.
func (r *redisStore) createGroups(ctx context.Context, su *subscriber) error {
	for _, t := range su.topics {
		err := r.client.XGroupCreateMkStream(ctx, r.key(t), su.group, "$").Err()
		if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			return fmt.Errorf("creating consumer group %q on stream %q: %w", su.group, r.key(t), err)
		}
	}
	return nil
}

// run reads the subscriber's events until it is stopped: new events with
// XREADGROUP, and, every ClaimIdle, the entries another consumer left
// unacknowledged for longer than ClaimIdle, with XAUTOCLAIM. Each event is
// acknowledged once its handler returned. Errors are logged and retried
// with a backoff of up to 5s.
func (r *redisStore) run(su *subscriber) {
	defer close(su.done)
	defer r.leave(su)
	streams := make([]string, 0, 2*len(su.topics))
	for _, t := range su.topics {
		streams = append(streams, r.key(t))
	}
	for range su.topics {
		streams = append(streams, ">")
	}
	var backoff time.Duration
	fail := func(what string, err error) {
		backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		su.logger.Warn("events: Redis "+what+" failed; retrying", "error", err, "retryIn", backoff)
		if strings.HasPrefix(err.Error(), "NOGROUP") {
			// The stream or group was deleted: make them again.
			if err := r.createGroups(su.ctx, su); err != nil {
				su.logger.Warn("events: recreating the consumer groups failed", "error", err)
			}
		}
		t := time.NewTimer(backoff)
		defer t.Stop()
		select {
		case <-su.stop:
		case <-t.C:
		}
	}
	nextClaim := time.Now().Add(r.claimIdle)
	for !su.stopped() {
		if time.Now().After(nextClaim) {
			if err := r.claim(su); err != nil {
				if su.stopped() {
					return
				}
				fail("XAUTOCLAIM", err)
				continue
			}
			nextClaim = time.Now().Add(r.claimIdle)
		}
		res, err := r.client.XReadGroup(su.ctx, &redis.XReadGroupArgs{Group: su.group, Consumer: r.consumer, Streams: streams, Count: 64, Block: r.block}).Result()
		if errors.Is(err, redis.Nil) {
			backoff = 0
			continue
		}
		if err != nil {
			if su.stopped() {
				return
			}
			fail("XREADGROUP", err)
			continue
		}
		backoff = 0
		for _, s := range res {
			for _, m := range s.Messages {
				if su.stopped() {
					return // left pending: claimed by another instance after ClaimIdle
				}
				r.deliver(su, s.Stream, m)
			}
		}
	}
}

// leave removes this instance's consumer from the subscriber's groups
// where it holds no pending entries, so that the consumers of instances
// that shut down do not pile up. A consumer that holds some stays: its
// entries are claimed by another instance after ClaimIdle (deleting it
// would drop them).
func (r *redisStore) leave(su *subscriber) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, t := range su.topics {
		key := r.key(t)
		pending, err := r.client.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: key, Group: su.group, Start: "-", End: "+", Count: 1, Consumer: r.consumer}).Result()
		if err != nil || len(pending) > 0 {
			continue
		}
		_ = r.client.XGroupDelConsumer(ctx, key, su.group, r.consumer).Err()
	}
}

// claim takes over the entries of the subscriber's group that have been
// pending for ClaimIdle, and handles them.
func (r *redisStore) claim(su *subscriber) error {
	for _, t := range su.topics {
		start := "0-0"
		for !su.stopped() {
			msgs, next, err := r.client.XAutoClaim(su.ctx, &redis.XAutoClaimArgs{Stream: r.key(t), Group: su.group, Consumer: r.consumer, MinIdle: r.claimIdle, Start: start, Count: 64}).Result()
			if err != nil {
				return err
			}
			for _, m := range msgs {
				if su.stopped() {
					return nil
				}
				r.deliver(su, r.key(t), m)
			}
			if next == "0-0" || next == "" {
				break
			}
			start = next
		}
	}
	return nil
}

// deliver handles one entry and acknowledges it.
func (r *redisStore) deliver(su *subscriber, stream string, m redis.XMessage) {
	var e core.Event
	raw, _ := m.Values["event"].(string)
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		su.logger.Error("events: an entry of the stream cannot be decoded; it is acknowledged and skipped", "stream", stream, "entry", m.ID, "error", err)
	} else {
		su.handle(e)
		if su.ctx.Err() != nil {
			// A shutdown cancelled the handler: the event may be half
			// handled. It stays pending, and another instance claims it
			// after ClaimIdle.
			su.logger.Warn("events: the shutdown cancelled the handler; the event is left unacknowledged for another instance to handle after backend.events.redis.claimIdle", "stream", stream, "entry", m.ID)
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.client.XAck(ctx, stream, su.group, m.ID).Err(); err != nil {
		su.logger.Warn("events: acknowledging an event failed; another instance may handle it again after backend.events.redis.claimIdle", "stream", stream, "entry", m.ID, "error", err)
	}
}
