package events_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/events"
	"github.com/greenroom-dev/greenroom/internal/redistest"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// counting is a plugin whose subscriber id counts the events of topic
// "order.placed" it receives, on whichever instance, by event id.
func counting(pluginID, id string, got chan<- string) *backend.Plugin {
	return backend.NewPlugin(pluginID, backend.Init(func(ctx context.Context, d struct{ Events core.Events }) error {
		return d.Events.Subscribe(ctx, core.Subscription{ID: id, Topics: []string{"order.placed"}, Handler: func(_ context.Context, e core.Event) error {
			got <- e.Metadata["id"]
			return nil
		}})
	}))
}

// TestEventsAcrossInstances runs three instances of a backend with the
// production events service on one Redis: events published on any
// instance reach each subscriber ID exactly once across the instances (one
// consumer group per subscriber ID), and every subscriber ID receives them
// all.
func TestEventsAcrossInstances(t *testing.T) {
	t.Parallel()
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	const n = 60
	billing, audit := make(chan string, 3*n), make(chan string, 3*n)
	tbs := testbackend.New(testbackend.WithConfig(map[string]any{"backend": map[string]any{"events": map[string]any{
		"store": "redis", "redis": map[string]any{"connection": url, "keyPrefix": prefix},
	}}})).StartInstances(t, 3, events.Factory(), counting("billing", "invoice", billing), counting("audit", "log", audit), announcer("shop"))

	for i := range n {
		e := event(t, "order.placed", i)
		e.Metadata = map[string]string{"id": fmt.Sprint(i)}
		if err := testbackend.Service(t, tbs[i%len(tbs)], core.EventsRef, "shop").Publish(context.Background(), e); err != nil {
			t.Fatalf("Publish %d on instance %d = %v", i, i%len(tbs), err)
		}
	}
	collect := func(who string, ch chan string) map[string]int {
		seen := map[string]int{}
		for len(seen) < n {
			seen[receiveID(t, who, ch)]++
		}
		return seen
	}
	seenBilling, seenAudit := collect("billing.invoice", billing), collect("audit.log", audit)
	// Stopping the instances waits for the handlers in flight: anything
	// delivered twice is in the channels then.
	for _, tb := range tbs {
		tb.Stop(t)
	}
	for who, c := range map[string]struct {
		seen map[string]int
		ch   chan string
	}{"billing.invoice": {seenBilling, billing}, "audit.log": {seenAudit, audit}} {
		close(c.ch)
		for id := range c.ch {
			c.seen[id]++
		}
		for id, k := range c.seen {
			if k != 1 {
				t.Errorf("%s received event %s %d times across the instances, want once", who, id, k)
			}
		}
		if len(c.seen) != n {
			t.Errorf("%s received %d distinct events, want %d", who, len(c.seen), n)
		}
	}
}

func receiveID(t *testing.T, who string, ch <-chan string) string {
	t.Helper()
	select {
	case id := <-ch:
		return id
	case <-timeout():
		t.Fatalf("%s: no event after %v", who, wait)
		return ""
	}
}
