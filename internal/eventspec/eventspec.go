package eventspec

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// MaxLength is the longest topic and subscriber ID, in bytes.
const MaxLength = 255

// Event checks e for plugin pluginID and returns a copy the caller may
// keep: its payload and metadata are copied, and an empty payload becomes
// JSON null, as it reads back from a store. An invalid event is an
// errs.Input error naming the plugin.
func Event(pluginID string, e core.Event) (core.Event, error) {
	if err := topic(pluginID, e.Topic, "Publish"); err != nil {
		return core.Event{}, err
	}
	if len(e.Payload) == 0 {
		e.Payload = json.RawMessage("null")
	} else if !json.Valid(e.Payload) {
		return core.Event{}, errs.NewInput("events: plugin '%s': Publish on topic %q: the payload is not valid JSON; build the event with core.NewEvent", pluginID, e.Topic)
	}
	return Copy(e), nil
}

// Copy returns e with its payload and metadata copied: each subscriber
// of an event receives a copy of its own.
func Copy(e core.Event) core.Event {
	e.Payload = slices.Clone(e.Payload)
	e.Metadata = maps.Clone(e.Metadata)
	return e
}

// Subscription checks sub for plugin pluginID and returns its topics
// without duplicates, in the order given. An invalid subscription is an
// errs.Input error naming the plugin and the subscriber.
func Subscription(pluginID string, sub core.Subscription) ([]string, error) {
	switch {
	case sub.ID == "":
		return nil, errs.NewInput("events: plugin '%s': Subscribe: the subscription has no ID; give it a name unique within the plugin, such as \"index-todos\"", pluginID)
	case len(sub.ID) > MaxLength:
		return nil, errs.NewInput("events: plugin '%s': Subscribe: the subscription ID %q is %d bytes long; use at most %d", pluginID, sub.ID, len(sub.ID), MaxLength)
	case len(sub.Topics) == 0:
		return nil, errs.NewInput("events: plugin '%s': subscription %q has no topics; list at least one in Subscription.Topics", pluginID, sub.ID)
	case sub.Handler == nil:
		return nil, errs.NewInput("events: plugin '%s': subscription %q has no handler; set Subscription.Handler", pluginID, sub.ID)
	}
	topics := make([]string, 0, len(sub.Topics))
	for _, t := range sub.Topics {
		if err := topic(pluginID, t, "subscription "+sub.ID); err != nil {
			return nil, err
		}
		if !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	return topics, nil
}

// GroupName is the name of a subscriber across the instances of a backend:
// the plugin ID and the subscription ID, joined by a dot.
func GroupName(pluginID, subID string) string { return pluginID + "." + subID }

// Conflict is the error of a subscriber ID that is taken in the plugin.
func Conflict(pluginID, subID string) error {
	return errs.NewConflict("events: plugin '%s': the subscriber ID %q is taken in this backend; give each Subscribe call of the plugin its own ID", pluginID, subID)
}

// Stopped is the error of a call made after the plugin shut down.
func Stopped(pluginID, call string) error {
	return errs.NewServiceUnavailable("events: plugin '%s': %s after the plugin shut down; publish and subscribe while the backend runs", pluginID, call)
}

func topic(pluginID, t, where string) error {
	switch {
	case t == "":
		return errs.NewInput("events: plugin '%s': %s: empty topic; name the topic, such as \"todo.completed\"", pluginID, where)
	case len(t) > MaxLength:
		return errs.NewInput("events: plugin '%s': %s: the topic %q is %d bytes long; use at most %d", pluginID, where, t, len(t), MaxLength)
	}
	return nil
}
