package mockservices_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
)

func mustEvent(t *testing.T, topic string, v any) core.Event {
	t.Helper()
	e, err := core.NewEvent(topic, v)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEventsDeliversWithinPublishAndRecords(t *testing.T) {
	t.Parallel()
	ev := mockservices.Events()
	ctx := context.Background()
	var got []string
	err := ev.ForPlugin("search").Subscribe(ctx, core.Subscription{ID: "index", Topics: []string{"todo.created"}, Handler: func(_ context.Context, e core.Event) error {
		var s string
		_ = e.Decode(&s)
		got = append(got, s)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.ForPlugin("todo").Publish(ctx, mustEvent(t, "todo.created", "milk")); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "milk" {
		t.Fatalf("after Publish returned, the handler got %v, want [milk]", got)
	}
	if err := ev.Publish(ctx, mustEvent(t, "todo.deleted", "tea")); err != nil {
		t.Fatal(err)
	}
	if n := len(ev.Published()); n != 2 {
		t.Errorf("Published() = %d events, want 2", n)
	}
	if on := ev.PublishedOn("todo.deleted"); len(on) != 1 || string(on[0].Payload) != `"tea"` {
		t.Errorf("PublishedOn(todo.deleted) = %+v", on)
	}
}

func TestEventsTestPublishReturnsHandlerErrors(t *testing.T) {
	t.Parallel()
	ev := mockservices.Events()
	ctx := context.Background()
	failing := errors.New("index unavailable")
	_ = ev.ForPlugin("a").Subscribe(ctx, core.Subscription{ID: "x", Topics: []string{"t"}, Handler: func(context.Context, core.Event) error { return failing }})
	_ = ev.ForPlugin("b").Subscribe(ctx, core.Subscription{ID: "y", Topics: []string{"t"}, Handler: func(context.Context, core.Event) error { panic("kaboom") }})
	err := ev.Publish(ctx, mustEvent(t, "t", 1))
	if !errors.Is(err, failing) || !strings.Contains(err.Error(), "kaboom") || !strings.Contains(err.Error(), "b.y") {
		t.Errorf("Publish = %v, want the handler's error and the panic, naming the subscribers", err)
	}
	if err := ev.ForPlugin("c").Publish(ctx, mustEvent(t, "t", 2)); err != nil {
		t.Errorf("a plugin's Publish = %v, want nil: handlers' errors are not the publisher's", err)
	}
}

// counter is a plugin that counts the events on topic "tick".
func counter(n *int) *backend.Plugin {
	return backend.NewPlugin("counter", backend.Init(func(ctx context.Context, d struct{ Events core.Events }) error {
		return d.Events.Subscribe(ctx, core.Subscription{ID: "c", Topics: []string{"tick"}, Handler: func(context.Context, core.Event) error {
			*n++
			return nil
		}})
	}))
}

func ticker() *backend.Plugin {
	return backend.NewPlugin("ticker", backend.Init(func(context.Context, struct{ Events core.Events }) error { return nil }))
}

// TestEventsFactoryNilIsPerBackend: the default factory gives each backend
// its own bus, so the plugins of two test backends do not hear each other.
func TestEventsFactoryNilIsPerBackend(t *testing.T) {
	t.Parallel()
	var a, b int
	tbA := testbackend.Start(t, counter(&a), ticker())
	testbackend.Start(t, counter(&b), ticker())
	if err := testbackend.Service(t, tbA, core.EventsRef, "ticker").Publish(context.Background(), mustEvent(t, "tick", 1)); err != nil {
		t.Fatal(err)
	}
	if a != 1 || b != 0 {
		t.Errorf("counts after one tick on backend A: A %d, B %d; want 1 and 0", a, b)
	}
}

func TestEventsFactoryStopsPluginsAtShutdown(t *testing.T) {
	t.Parallel()
	ev := mockservices.Events()
	var n int
	tb := testbackend.Start(t, counter(&n), ticker(), mockservices.EventsFactory(ev))
	pub := testbackend.Service(t, tb, core.EventsRef, "ticker")
	tb.Stop(t)
	err := pub.Publish(context.Background(), mustEvent(t, "tick", 1))
	if !errs.Is(err, errs.ServiceUnavailable) {
		t.Errorf("Publish after shutdown = %v, want errs.ServiceUnavailable", err)
	}
	if err := ev.Publish(context.Background(), mustEvent(t, "tick", 2)); err != nil || n != 0 {
		t.Errorf("the test's Publish after shutdown = %v and %d deliveries, want nil and none", err, n)
	}
}

// TestEventsHandlerPublishingOnItsOwnTopic is a regression test: the fake
// once held a subscriber's lock across its handler, so a handler that
// published on its own topic waited for itself forever.
func TestEventsHandlerPublishingOnItsOwnTopic(t *testing.T) {
	t.Parallel()
	ev := mockservices.Events()
	ctx := context.Background()
	var got []int
	svc := ev.ForPlugin("countdown")
	err := svc.Subscribe(ctx, core.Subscription{ID: "c", Topics: []string{"n"}, Handler: func(ctx context.Context, e core.Event) error {
		var n int
		_ = e.Decode(&n)
		got = append(got, n)
		if n > 0 {
			return svc.Publish(ctx, mustEvent(t, "n", n-1))
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Publish(ctx, mustEvent(t, "n", 3)); err != nil {
		t.Fatal(err)
	}
	if want := []int{3, 2, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("handled %v, want %v by the time Publish returned", got, want)
	}
}
