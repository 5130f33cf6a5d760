package servicetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// eventsWait is how long the events suite waits for a delivery: generous,
// since a delivery is only waited for, never timed.
const eventsWait = 30 * time.Second

// EventsEnv is one events bus under test, shared by plugins.
type EventsEnv struct {
	// ForPlugin returns the events service of plugin pluginID. The
	// services of one EventsEnv share a bus: an event that one publishes
	// reaches the subscribers of the others.
	ForPlugin func(pluginID string) core.Events
}

// TestEvents checks an implementation of [core.Events]: invalid events and
// subscriptions are errs.Input errors naming the plugin, a subscriber ID
// taken in the plugin is an errs.Conflict (and free in another plugin), an
// event reaches the subscribers of its topic in every plugin and no other,
// each subscriber receives the events of one publisher in publish order,
// payload and metadata arrive unchanged, each subscriber receives a copy
// of its own (one handler's changes never reach another), and a handler
// that fails or panics still receives the next event.
//
// newEnv returns a fresh bus, shut down by its own t.Cleanup. Delivery may
// be synchronous or asynchronous: the suite waits for each event it
// expects on a channel, and proves that an event did not arrive by a later
// one that did, since delivery is in order.
func TestEvents(t *testing.T, newEnv func(t *testing.T) EventsEnv) {
	t.Helper()
	ctx := context.Background()
	noop := func(context.Context, core.Event) error { return nil }

	t.Run("invalid events and subscriptions are input errors naming the plugin", func(t *testing.T) {
		ev := newEnv(t).ForPlugin("inventory")
		bad := []struct {
			name string
			e    core.Event
		}{
			{"an empty topic", core.Event{Payload: []byte(`{}`)}},
			{"a topic longer than 255 bytes", core.Event{Topic: strings.Repeat("t", 256), Payload: []byte(`{}`)}},
			{"a payload that is not JSON", core.Event{Topic: "inventory.changed", Payload: []byte(`{not json`)}},
		}
		for _, c := range bad {
			err := ev.Publish(ctx, c.e)
			checkErr(t, "Publish with "+c.name, err, errs.Input, "")
			if e, ok := errs.As(err); ok && !strings.Contains(e.Message, "inventory") {
				t.Errorf("Publish with %s: message %q does not name the plugin", c.name, e.Message)
			}
		}
		subs := []struct {
			name string
			sub  core.Subscription
		}{
			{"an empty ID", core.Subscription{Topics: []string{"a"}, Handler: noop}},
			{"an ID longer than 255 bytes", core.Subscription{ID: strings.Repeat("x", 256), Topics: []string{"a"}, Handler: noop}},
			{"no topics", core.Subscription{ID: "no-topics", Handler: noop}},
			{"an empty topic", core.Subscription{ID: "empty-topic", Topics: []string{"a", ""}, Handler: noop}},
			{"no handler", core.Subscription{ID: "no-handler", Topics: []string{"a"}}},
		}
		for _, c := range subs {
			err := ev.Subscribe(ctx, c.sub)
			checkErr(t, "Subscribe with "+c.name, err, errs.Input, "")
			if e, ok := errs.As(err); ok && !strings.Contains(e.Message, "inventory") {
				t.Errorf("Subscribe with %s: message %q does not name the plugin", c.name, e.Message)
			}
		}
		// None of them took its ID.
		for _, id := range []string{"no-topics", "empty-topic", "no-handler"} {
			if err := ev.Subscribe(ctx, core.Subscription{ID: id, Topics: []string{"a"}, Handler: noop}); err != nil {
				t.Errorf("Subscribe(%q) after an invalid subscription with that ID = %v, want nil", id, err)
			}
		}
	})

	t.Run("a taken subscriber ID is a conflict within its plugin only", func(t *testing.T) {
		env := newEnv(t)
		a := env.ForPlugin("alpha")
		sub := core.Subscription{ID: "twice", Topics: []string{"t1"}, Handler: noop}
		if err := a.Subscribe(ctx, sub); err != nil {
			t.Fatalf("first Subscribe = %v", err)
		}
		sub.Topics = []string{"t2"}
		err := a.Subscribe(ctx, sub)
		checkErr(t, "second Subscribe with the same ID", err, errs.Conflict, "")
		if e, ok := errs.As(err); ok && (!strings.Contains(e.Message, "twice") || !strings.Contains(e.Message, "alpha")) {
			t.Errorf("conflict message %q does not name the subscriber and the plugin", e.Message)
		}
		if err := env.ForPlugin("beta").Subscribe(ctx, sub); err != nil {
			t.Errorf("Subscribe with the same ID in another plugin = %v, want nil", err)
		}
	})

	t.Run("an event reaches the subscribers of its topic only", func(t *testing.T) {
		env := newEnv(t)
		pub := env.ForPlugin("publisher")
		orders, other := subscribe(t, env.ForPlugin("orders"), "watch", "order.created"), subscribe(t, env.ForPlugin("other"), "watch", "order.deleted")
		publish(t, pub, "order.created", 1)
		publish(t, pub, "order.deleted", 2)
		publish(t, pub, "order.created", 3)
		expectEvents(t, "subscriber orders.watch of order.created", orders, "order.created", 1, 3)
		expectEvents(t, "subscriber other.watch of order.deleted", other, "order.deleted", 2)
	})

	t.Run("every plugin's subscriber receives the event", func(t *testing.T) {
		env := newEnv(t)
		var chans []chan core.Event
		for _, p := range []string{"search", "audit", "notify"} {
			chans = append(chans, subscribe(t, env.ForPlugin(p), "index", "doc.saved", "doc.removed"))
		}
		publish(t, env.ForPlugin("docs"), "doc.saved", 7)
		publish(t, env.ForPlugin("search"), "doc.removed", 8)
		for i, ch := range chans {
			expectEvents(t, fmt.Sprintf("subscriber %d of doc.saved", i), ch, "doc.saved", 7)
			expectEvents(t, fmt.Sprintf("subscriber %d of doc.removed", i), ch, "doc.removed", 8)
		}
	})

	t.Run("a subscriber receives the events of a publisher in order", func(t *testing.T) {
		env := newEnv(t)
		a, b := subscribe(t, env.ForPlugin("a"), "seq", "tick"), subscribe(t, env.ForPlugin("b"), "seq", "tick")
		pub := env.ForPlugin("clock")
		const n = 50
		want := make([]int, n)
		for i := range n {
			publish(t, pub, "tick", i)
			want[i] = i
		}
		expectEvents(t, "subscriber a.seq", a, "tick", want...)
		expectEvents(t, "subscriber b.seq", b, "tick", want...)
	})

	t.Run("payload and metadata arrive unchanged", func(t *testing.T) {
		env := newEnv(t)
		ch := subscribe(t, env.ForPlugin("consumer"), "all", "order.shipped")
		type order struct {
			ID    string   `json:"id"`
			Items []string `json:"items"`
			Total float64  `json:"total"`
		}
		sent := order{ID: "o-1", Items: []string{"tea", "milk"}, Total: 12.5}
		e, err := core.NewEvent("order.shipped", sent)
		if err != nil {
			t.Fatal(err)
		}
		e.Metadata = map[string]string{"source": "shop", "trace": "abc-123"}
		if err := env.ForPlugin("shop").Publish(ctx, e); err != nil {
			t.Fatalf("Publish = %v", err)
		}
		got := receive(t, "subscriber consumer.all", ch)
		var o order
		if err := got.Decode(&o); err != nil {
			t.Fatalf("Decode = %v", err)
		}
		if got.Topic != "order.shipped" {
			t.Errorf("topic = %q, want order.shipped", got.Topic)
		}
		if d := cmp.Diff(sent, o); d != "" {
			t.Errorf("payload (-sent +received):\n%s", d)
		}
		if d := cmp.Diff(e.Metadata, got.Metadata); d != "" {
			t.Errorf("metadata (-sent +received):\n%s", d)
		}
	})

	t.Run("each subscriber receives its own copy of payload and metadata", func(t *testing.T) {
		env := newEnv(t)
		// The first subscriber changes its event; the second looks at its
		// own once the first is done, so that a shared copy shows.
		changed := make(chan struct{})
		err := env.ForPlugin("vandal").Subscribe(ctx, core.Subscription{ID: "mutate", Topics: []string{"doc.saved"}, Handler: func(_ context.Context, e core.Event) error {
			defer close(changed)
			e.Metadata["source"] = "changed"
			e.Metadata["added"] = "by vandal"
			for i := range e.Payload {
				e.Payload[i] = ' '
			}
			return nil
		}})
		if err != nil {
			t.Fatalf("Subscribe = %v", err)
		}
		seen := make(chan core.Event, 1)
		err = env.ForPlugin("reader").Subscribe(ctx, core.Subscription{ID: "read", Topics: []string{"doc.saved"}, Handler: func(_ context.Context, e core.Event) error {
			select {
			case <-changed:
			case <-time.After(eventsWait):
			}
			seen <- core.Event{Topic: e.Topic, Payload: slices.Clone(e.Payload), Metadata: maps.Clone(e.Metadata)}
			return nil
		}})
		if err != nil {
			t.Fatalf("Subscribe = %v", err)
		}
		e := mustEvent(t, "doc.saved", 7)
		e.Metadata = map[string]string{"source": "editor"}
		if err := env.ForPlugin("editor").Publish(ctx, e); err != nil {
			t.Fatalf("Publish = %v", err)
		}
		got := receive(t, "subscriber reader.read", seen)
		if string(got.Payload) != "7" {
			t.Errorf("payload = %q, want 7: another subscriber's change reached it", got.Payload)
		}
		if d := cmp.Diff(map[string]string{"source": "editor"}, got.Metadata); d != "" {
			t.Errorf("metadata (-sent +received); another subscriber's change reached it:\n%s", d)
		}
	})

	t.Run("a handler that fails or panics receives the next event", func(t *testing.T) {
		env := newEnv(t)
		ch := make(chan core.Event, 10)
		n := 0
		err := env.ForPlugin("fragile").Subscribe(ctx, core.Subscription{ID: "h", Topics: []string{"job"}, Handler: func(_ context.Context, e core.Event) error {
			n++ // one event at a time
			ch <- e
			switch n {
			case 1:
				return fmt.Errorf("failing on purpose")
			case 2:
				panic("panicking on purpose")
			}
			return nil
		}})
		if err != nil {
			t.Fatalf("Subscribe = %v", err)
		}
		pub := env.ForPlugin("jobs")
		for i := 1; i <= 3; i++ {
			if err := pub.Publish(ctx, mustEvent(t, "job", i)); err != nil {
				t.Fatalf("Publish %d = %v, want nil: a handler's error is not the publisher's", i, err)
			}
		}
		expectEvents(t, "subscriber fragile.h", ch, "job", 1, 2, 3)
	})
}

func mustEvent(t *testing.T, topic string, n int) core.Event {
	t.Helper()
	e, err := core.NewEvent(topic, n)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func publish(t *testing.T, ev core.Events, topic string, n int) {
	t.Helper()
	if err := ev.Publish(context.Background(), mustEvent(t, topic, n)); err != nil {
		t.Fatalf("Publish(%s, %d) = %v", topic, n, err)
	}
}

// subscribe subscribes id to topics and returns the channel its handler
// sends the events to.
func subscribe(t *testing.T, ev core.Events, id string, topics ...string) chan core.Event {
	t.Helper()
	ch := make(chan core.Event, 100)
	err := ev.Subscribe(context.Background(), core.Subscription{ID: id, Topics: topics, Handler: func(_ context.Context, e core.Event) error {
		ch <- e
		return nil
	}})
	if err != nil {
		t.Fatalf("Subscribe(%s, %v) = %v", id, topics, err)
	}
	return ch
}

func receive(t *testing.T, who string, ch chan core.Event) core.Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(eventsWait):
		t.Fatalf("%s: no event after %v", who, eventsWait)
		return core.Event{}
	}
}

// expectEvents receives len(want) events from ch and checks that they
// are on topic with the payloads want, in order.
func expectEvents(t *testing.T, who string, ch chan core.Event, topic string, want ...int) {
	t.Helper()
	for i, w := range want {
		e := receive(t, who, ch)
		var n int
		if err := e.Decode(&n); err != nil {
			t.Fatalf("%s: event %d: %v", who, i, err)
		}
		if e.Topic != topic || n != w {
			t.Fatalf("%s: event %d is %d on %q, want %d on %q", who, i, n, e.Topic, w, topic)
		}
	}
}
