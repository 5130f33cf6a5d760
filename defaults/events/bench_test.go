package events_test

import (
	"context"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/events"
	"github.com/greenroom-dev/greenroom/internal/redistest"
)

// BenchmarkEventsPublishDeliver measures an event from Publish to its
// handler, for one publisher and one subscriber: the benchmark publishes
// b.N events and waits until the handler has received the last, so the
// figure is the cost per event of a stream of them (delivery overlaps
// publishing).
func BenchmarkEventsPublishDeliver(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchPublishDeliver(b, events.Options{}) })
	b.Run("redis", func(b *testing.B) {
		url := redistest.URL(b)
		benchPublishDeliver(b, events.Options{Redis: &events.RedisOptions{URL: url, KeyPrefix: redistest.Prefix(b, url)}})
	})
}

func benchPublishDeliver(b *testing.B, opts events.Options) {
	ctx := context.Background()
	if opts.Redis != nil {
		// Keep every event of the run: a subscriber behind by more than
		// MaxLen would lose the last one and the benchmark would wait.
		opts.Redis.MaxLen = int64(b.N) + events.DefaultMaxLen
	}
	bus, err := events.New(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close(ctx)
	n, done := 0, make(chan struct{}, 1)
	target := 0
	err = bus.ForPlugin("sub", nil).Subscribe(ctx, core.Subscription{ID: "h", Topics: []string{"bench"}, Handler: func(context.Context, core.Event) error {
		n++
		if n == target {
			done <- struct{}{}
		}
		return nil
	}})
	if err != nil {
		b.Fatal(err)
	}
	pub := bus.ForPlugin("pub", nil)
	e := event(b, "bench", map[string]int{"n": 1})
	target = b.N // read by the handler only after the first Publish below
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := pub.Publish(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}
