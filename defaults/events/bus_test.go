package events_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/events"
	"github.com/greenroom-dev/greenroom/internal/redistest"
	"github.com/greenroom-dev/greenroom/mockservices"
)

func newBus(t *testing.T, opts events.Options) *events.Bus {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = mockservices.Logger(t)
	}
	b, err := events.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return b
}

func TestPublishWaitsForRoomUntilTheContextEnds(t *testing.T) {
	t.Parallel()
	b := newBus(t, events.Options{QueueSize: 1})
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	err := b.ForPlugin("slow", nil).Subscribe(context.Background(), core.Subscription{ID: "h", Topics: []string{"job"}, Handler: func(context.Context, core.Event) error {
		once.Do(func() { close(started) })
		<-release
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer close(release)
	pub := b.ForPlugin("jobs", nil)
	ctx := context.Background()
	if err := pub.Publish(ctx, event(t, "job", 1)); err != nil {
		t.Fatal(err)
	}
	<-started // the handler holds event 1; the queue is empty
	if err := pub.Publish(ctx, event(t, "job", 2)); err != nil {
		t.Fatalf("Publish into the empty queue = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = pub.Publish(cancelled, event(t, "job", 3))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "backend.events.queueSize") || !strings.Contains(err.Error(), "slow.h") {
		t.Errorf("Publish into a full queue = %v, want context.Canceled, naming the subscriber and the config key", err)
	}
}

func TestHandlerPanicIsRecoveredAndLogged(t *testing.T) {
	t.Parallel()
	log := mockservices.Logger(t)
	b := newBus(t, events.Options{Logger: log})
	got := make(chan core.Event, 2)
	err := b.ForPlugin("fragile", nil).Subscribe(context.Background(), core.Subscription{ID: "h", Topics: []string{"job"}, Handler: func(_ context.Context, e core.Event) error {
		if payload(t, e) == "boom" {
			panic("boom")
		}
		got <- e
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	pub := b.ForPlugin("jobs", nil)
	for _, p := range []string{"boom", "next"} {
		if err := pub.Publish(context.Background(), event(t, "job", p)); err != nil {
			t.Fatal(err)
		}
	}
	if p := payload(t, receive(t, "fragile.h", got)); p != "next" {
		t.Fatalf("received %q, want next", p)
	}
	recs := log.Filter(func(r mockservices.LogRecord) bool { return strings.Contains(r.Message, "panicked") })
	if len(recs) != 1 || recs[0].Attrs["plugin"] != "fragile" || recs[0].Attrs["panic"] != "boom" {
		t.Errorf("panic records = %+v, want one naming plugin fragile and the panic", recs)
	}
}

// TestRedisClaimsWhatADeadConsumerLeft: an instance that read an event and
// died without acknowledging it leaves it pending in the group; another
// instance claims it after ClaimIdle.
func TestRedisClaimsWhatADeadConsumerLeft(t *testing.T) {
	t.Parallel()
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	opt, _ := redis.ParseURL(url)
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	stream, group := prefix+"job", "worker.h"
	if err := c.XGroupCreateMkStream(ctx, stream, group, "$").Err(); err != nil {
		t.Fatal(err)
	}
	pub := newBus(t, events.Options{Redis: &events.RedisOptions{URL: url, KeyPrefix: prefix}}).ForPlugin("jobs", nil)
	if err := pub.Publish(ctx, event(t, "job", "left behind")); err != nil {
		t.Fatal(err)
	}
	// The dead instance reads it and never acknowledges it.
	if res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "dead", Streams: []string{stream, ">"}, Count: 1}).Result(); err != nil || len(res[0].Messages) != 1 {
		t.Fatalf("the dead consumer's read = %v, %v", res, err)
	}
	got := make(chan core.Event, 1)
	b := newBus(t, events.Options{Redis: &events.RedisOptions{URL: url, KeyPrefix: prefix, ClaimIdle: 50 * time.Millisecond, Block: 20 * time.Millisecond}})
	err := b.ForPlugin("worker", nil).Subscribe(ctx, core.Subscription{ID: "h", Topics: []string{"job"}, Handler: func(_ context.Context, e core.Event) error {
		got <- e
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if p := payload(t, receive(t, "worker.h", got)); p != "left behind" {
		t.Fatalf("claimed %q", p)
	}
}

// proxy forwards TCP connections to addr until it is closed, which cuts
// them: a Redis that goes away.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, addr string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", addr)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestRedisGoneAway: once Redis is unreachable, Publish returns an error
// (it does not hang), the subscriber logs and retries, and Close returns.
func TestRedisGoneAway(t *testing.T) {
	t.Parallel()
	url := redistest.URL(t)
	opt, _ := redis.ParseURL(url)
	p := newProxy(t, opt.Addr)
	opt.Addr = p.ln.Addr().String()
	log := mockservices.Logger(t)
	b, err := events.New(context.Background(), events.Options{Logger: log, Redis: &events.RedisOptions{
		URL: fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB), KeyPrefix: redistest.Prefix(t, url), Block: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	svc := b.ForPlugin("todo", log.With("plugin", "todo"))
	if err := svc.Subscribe(context.Background(), core.Subscription{ID: "h", Topics: []string{"t"}, Handler: func(context.Context, core.Event) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	p.close()
	err = svc.Publish(context.Background(), event(t, "t", 1))
	if err == nil || !strings.Contains(err.Error(), "plugin 'todo'") {
		t.Errorf("Publish with Redis gone = %v, want an error naming the plugin", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Errorf("Close with Redis gone = %v, want nil: the subscriber must stop", err)
	}
}

// TestRedisConsumerLeavesAtShutdown: an instance that shuts down with
// nothing pending removes its consumer from the groups.
func TestRedisConsumerLeavesAtShutdown(t *testing.T) {
	t.Parallel()
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	ctx := context.Background()
	b, err := events.New(ctx, events.Options{Logger: mockservices.Logger(t), Redis: &events.RedisOptions{URL: url, KeyPrefix: prefix, Consumer: "leaving", Block: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan core.Event, 1)
	svc := b.ForPlugin("todo", nil)
	if err := svc.Subscribe(ctx, core.Subscription{ID: "h", Topics: []string{"t"}, Handler: func(_ context.Context, e core.Event) error { got <- e; return nil }}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Publish(ctx, event(t, "t", 1)); err != nil {
		t.Fatal(err)
	}
	receive(t, "todo.h", got) // the consumer exists once it has read
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	opt, _ := redis.ParseURL(url)
	c := redis.NewClient(opt)
	defer c.Close()
	consumers, err := c.XInfoConsumers(ctx, prefix+"t", "todo.h").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(consumers) != 0 {
		t.Errorf("consumers of todo.h after shutdown = %+v, want none", consumers)
	}
}
