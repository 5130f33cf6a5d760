package events_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/events"
	"github.com/greenroom-dev/greenroom/testbackend"
)

func TestFactoryPluginsOfABackendTalk(t *testing.T) {
	t.Parallel()
	got := make(chan core.Event, 10)
	tb := testbackend.Start(t, events.Factory(), listener("search", "index", got, "todo.created"), announcer("todo"))
	pub := testbackend.Service(t, tb, core.EventsRef, "todo")
	if err := pub.Publish(context.Background(), event(t, "todo.created", "milk")); err != nil {
		t.Fatal(err)
	}
	if p := payload(t, receive(t, "search.index", got)); p != "milk" {
		t.Errorf("search.index received %q, want milk", p)
	}
}

// TestFactoryBusPerBackend is a regression test against a bus shared by
// the backends of a process: Publish queues an event for every subscriber
// before it returns, so with a shared bus backend B's subscriber would
// receive A's event before B's.
func TestFactoryBusPerBackend(t *testing.T) {
	t.Parallel()
	f := events.Factory()
	gotA, gotB := make(chan core.Event, 10), make(chan core.Event, 10)
	a := testbackend.Start(t, f, listener("search", "index", gotA, "todo.created"), announcer("todo"))
	b := testbackend.Start(t, f, listener("search", "index", gotB, "todo.created"), announcer("todo"))
	if err := testbackend.Service(t, a, core.EventsRef, "todo").Publish(context.Background(), event(t, "todo.created", "from A")); err != nil {
		t.Fatal(err)
	}
	if p := payload(t, receive(t, "backend A", gotA)); p != "from A" {
		t.Fatalf("backend A received %q", p)
	}
	if err := testbackend.Service(t, b, core.EventsRef, "todo").Publish(context.Background(), event(t, "todo.created", "from B")); err != nil {
		t.Fatal(err)
	}
	if p := payload(t, receive(t, "backend B", gotB)); p != "from B" {
		t.Errorf("backend B's subscriber received %q first, want its own event: the backends share a bus", p)
	}
}

func TestFactoryShutdownCancelsHandlersAndWaits(t *testing.T) {
	t.Parallel()
	started, returned := make(chan struct{}), make(chan error, 1)
	slow := backend.NewPlugin("slow", backend.Init(func(ctx context.Context, d struct{ Events core.Events }) error {
		return d.Events.Subscribe(ctx, core.Subscription{ID: "h", Topics: []string{"job"}, Handler: func(ctx context.Context, e core.Event) error {
			close(started)
			<-ctx.Done()
			returned <- ctx.Err()
			return ctx.Err()
		}})
	}))
	tb := testbackend.Start(t, events.Factory(), slow, announcer("jobs"))
	pub := testbackend.Service(t, tb, core.EventsRef, "jobs")
	if err := pub.Publish(context.Background(), event(t, "job", "1")); err != nil {
		t.Fatal(err)
	}
	<-started
	tb.Stop(t)
	select {
	case err := <-returned:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the handler's context ended with %v, want context.Canceled", err)
		}
	default:
		t.Fatal("Stop returned before the handler in flight did")
	}
	err := pub.Publish(context.Background(), event(t, "job", "2"))
	if err == nil || !strings.Contains(err.Error(), "jobs") {
		t.Errorf("Publish after shutdown = %v, want an error naming the plugin", err)
	}
}

func TestFactoryConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, want string
		events     map[string]any
	}{
		{"an unknown store", `config key "backend.events.store": Only "memory" or "redis" are allowed, but got: kafka`, map[string]any{"store": "kafka"}},
		{"redis without a connection", "backend.events.redis.connection", map[string]any{"store": "redis"}},
		{"a bad URL", "backend.events.redis.connection", map[string]any{"store": "redis", "redis": map[string]any{"connection": "http://x"}}},
		{"a Redis that does not answer", "does not answer", map[string]any{"store": "redis", "redis": map[string]any{"connection": "redis://127.0.0.1:1/0"}}},
		{"a zero queue", `config key "backend.events.queueSize"`, map[string]any{"queueSize": 0}},
		{"a negative maxLen", `config key "backend.events.redis.maxLen"`, map[string]any{"store": "redis", "redis": map[string]any{"connection": "redis://x", "maxLen": -1}}},
		{"a zero claimIdle", `config key "backend.events.redis.claimIdle"`, map[string]any{"store": "redis", "redis": map[string]any{"connection": "redis://x", "claimIdle": "0s"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := testbackend.New(testbackend.WithConfig(map[string]any{"backend": map[string]any{"events": c.events}})).
				TryStart(t, events.Factory(), announcer("todo"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("start = %v, want an error containing %q", err, c.want)
			}
		})
	}
}
