package core

import (
	"context"
	"encoding/json"
	"fmt"
)

// EventsRef is the reference of the events service (plugin scope).
var EventsRef = NewServiceRef[Events]("core.events")

// Event is a message published on a topic.
type Event struct {
	// Topic is a non-empty name such as "todo.completed".
	Topic string `json:"topic"`
	// Payload is the event's JSON value.
	Payload json.RawMessage `json:"payload"`
	// Metadata holds optional string attributes.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// NewEvent returns an event on topic whose payload is v encoded as JSON.
func NewEvent(topic string, v any) (Event, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Event{}, fmt.Errorf("events: encoding the payload of an event on topic %q: %w", topic, err)
	}
	return Event{Topic: topic, Payload: b}, nil
}

// Decode decodes the event's payload into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Payload, v); err != nil {
		return fmt.Errorf("events: decoding the payload of an event on topic %q into %T: %w", e.Topic, v, err)
	}
	return nil
}

// EventHandler handles one event. Its context is cancelled when the
// backend shuts down. An error is logged; the event is not delivered to
// that subscriber again.
type EventHandler func(ctx context.Context, e Event) error

// Subscription subscribes a handler to topics.
type Subscription struct {
	// ID names the subscriber within its plugin: a non-empty string of at
	// most 255 bytes. Within one backend a plugin cannot subscribe twice
	// with the same ID. Across the instances of a backend that share an
	// events store, the subscribers with the same plugin and ID form one
	// group: each event reaches one of them, once.
	ID string
	// Topics are the topics to receive; at least one.
	Topics []string
	// Handler is called for each event, one at a time per subscriber.
	Handler EventHandler
}

// Events publishes events to subscribers by topic (service "core.events"),
// across the plugins of a backend and, with a shared store (production:
// config backend.events.store), across its instances.
//
// An invalid event or subscription is an errs.Input error and a taken
// subscriber ID an errs.Conflict; messages name the plugin.
type Events interface {
	// Publish sends e to every subscriber of e.Topic. It returns once the
	// event is accepted for delivery, not once it is handled.
	Publish(ctx context.Context, e Event) error
	// Subscribe starts delivering the events of sub.Topics published from
	// now on to sub.Handler, until the backend shuts down.
	Subscribe(ctx context.Context, sub Subscription) error
}
