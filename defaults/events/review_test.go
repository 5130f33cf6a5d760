package events_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/events"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/redistest"
)

// Regression: a handler that published into its own full queue waited on
// itself forever.
func TestPublishFromAHandlerIntoAFullQueueFailsAtOnce(t *testing.T) {
	t.Parallel()
	b := newBus(t, events.Options{QueueSize: 1})
	svc := b.ForPlugin("loop", nil)
	results := make(chan []error, 1)
	err := svc.Subscribe(context.Background(), core.Subscription{ID: "self", Topics: []string{"tick"}, Handler: func(ctx context.Context, e core.Event) error {
		if payload(t, e) != "first" {
			return nil
		}
		// The queue is empty (this handler holds the first event): the
		// first publish fits, the second finds the queue full.
		var errList []error
		for range 2 {
			errList = append(errList, svc.Publish(ctx, event(t, "tick", "again")))
		}
		results <- errList
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Publish(context.Background(), event(t, "tick", "first")); err != nil {
		t.Fatal(err)
	}
	var errList []error
	select {
	case errList = <-results:
	case <-timeout():
		t.Fatalf("the handler's publishes did not return after %v: the handler waits on its own queue", wait)
	}
	if errList[0] != nil {
		t.Errorf("Publish from the handler into its empty queue = %v, want nil", errList[0])
	}
	err = errList[1]
	if !errs.Is(err, errs.ServiceUnavailable) || !strings.Contains(err.Error(), "loop.self") || !strings.Contains(err.Error(), "backend.events.queueSize") {
		t.Errorf("Publish from the handler into its full queue = %v, want errs.ServiceUnavailable naming loop.self and backend.events.queueSize", err)
	}
}

// Regression: an event whose handler a shutdown cancelled was
// acknowledged, so no instance handled it again.
func TestRedisEventOfACancelledHandlerIsRedelivered(t *testing.T) {
	t.Parallel()
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	ctx := context.Background()
	first, err := events.New(ctx, events.Options{Redis: &events.RedisOptions{URL: url, KeyPrefix: prefix, Consumer: "first", Block: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Close(ctx) })
	started := make(chan struct{})
	err = first.ForPlugin("worker", nil).Subscribe(ctx, core.Subscription{ID: "h", Topics: []string{"job"}, Handler: func(hctx context.Context, e core.Event) error {
		close(started)
		<-hctx.Done() // a long job, cut by the shutdown
		return hctx.Err()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := newBus(t, events.Options{Redis: &events.RedisOptions{URL: url, KeyPrefix: prefix}}).ForPlugin("jobs", nil).Publish(ctx, event(t, "job", "cut short")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-timeout():
		t.Fatalf("the handler did not start after %v", wait)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	opt, _ := redis.ParseURL(url)
	c := redis.NewClient(opt)
	defer c.Close()
	pending, err := c.XPending(ctx, prefix+"job", "worker.h").Result()
	if err != nil {
		t.Fatal(err)
	}
	if pending.Count != 1 {
		t.Fatalf("pending entries of worker.h after the shutdown = %d, want 1: the cancelled event must not be acknowledged", pending.Count)
	}
	// Another instance claims it.
	got := make(chan core.Event, 1)
	second := newBus(t, events.Options{Redis: &events.RedisOptions{URL: url, KeyPrefix: prefix, Consumer: "second", ClaimIdle: 50 * time.Millisecond, Block: 20 * time.Millisecond}})
	if err := second.ForPlugin("worker", nil).Subscribe(ctx, core.Subscription{ID: "h", Topics: []string{"job"}, Handler: func(_ context.Context, e core.Event) error {
		got <- e
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if p := payload(t, receive(t, "worker.h on the second instance", got)); p != "cut short" {
		t.Fatalf("redelivered %q", p)
	}
}
