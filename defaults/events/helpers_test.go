package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// wait is how long a test waits for something it expects: generous, since
// it is only waited for, never timed.
const wait = 30 * time.Second

// listener is a plugin that subscribes id to topics and sends what it
// receives to got.
func listener(pluginID, id string, got chan<- core.Event, topics ...string) *backend.Plugin {
	return backend.NewPlugin(pluginID, backend.Init(func(ctx context.Context, d struct{ Events core.Events }) error {
		return d.Events.Subscribe(ctx, core.Subscription{ID: id, Topics: topics, Handler: func(_ context.Context, e core.Event) error {
			got <- e
			return nil
		}})
	}))
}

// announcer is a plugin that depends on the events service and does
// nothing: a test publishes with its service.
func announcer(pluginID string) *backend.Plugin {
	return backend.NewPlugin(pluginID, backend.Init(func(context.Context, struct{ Events core.Events }) error { return nil }))
}

func receive(t *testing.T, who string, ch <-chan core.Event) core.Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(wait):
		t.Fatalf("%s: no event after %v", who, wait)
		return core.Event{}
	}
}

func event(t testing.TB, topic string, v any) core.Event {
	t.Helper()
	e, err := core.NewEvent(topic, v)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func payload(t *testing.T, e core.Event) string {
	t.Helper()
	var s string
	if err := e.Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func timeout() <-chan time.Time { return time.After(wait) }
