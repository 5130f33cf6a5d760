package mockservices

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/eventspec"
)

// EventsService is a fake [core.Events] that delivers each event
// synchronously, within Publish, to the matching subscribers in the order
// they subscribed, so that a test needs no waiting: once Publish returns,
// every handler has run. It records every event published, by the plugins
// and by the test ([EventsService.Published], [EventsService.PublishedOn]).
//
// One fake serves every plugin of a backend (unlike Backstage's mock, the
// plugins of one test backend talk to each other through it); the plugins
// see views bound to their id, through [EventsFactory] or
// [EventsService.ForPlugin].
//
// The errors follow the [core.Events] contract: an invalid event or
// subscription is an errs.Input error naming the plugin, a taken subscriber
// ID an errs.Conflict; after its plugin shut down a view answers
// errs.ServiceUnavailable and its handlers receive no more events.
//
// A plugin's Publish returns nil whatever its handlers do, as in production
// (their errors and panics are logged with the subscriber's plugin logger,
// under a backend); [EventsService.Publish] returns them to the test. A
// handler runs one event at a time: an event that reaches a subscriber
// while it handles one (a handler publishing on its own topic, say) is
// handled right after, before the outer Publish returns.
type EventsService struct {
	mu        sync.Mutex
	subs      []*fakeSub
	published []core.Event
	plugins   map[string]*eventsPlugin
}

type eventsPlugin struct {
	stopped bool
	ctx     context.Context // the handlers' context, cancelled at shutdown
	cancel  context.CancelFunc
	logger  core.Logger // nil without a factory
}

type fakeSub struct {
	// mu guards busy and pending: one event at a time. An event published
	// while the subscriber handles one (by its own handler, say) waits in
	// pending and is handled by the delivery in progress, right after.
	mu      sync.Mutex
	busy    bool
	pending []pendingEvent
	plugin  string
	group   string
	topics  []string
	handler core.EventHandler
}

// Events returns an empty events fake.
func Events() *EventsService {
	return &EventsService{plugins: map[string]*eventsPlugin{}}
}

// EventsFactory returns a factory of the core.events service that gives
// each plugin a view of e bound to its id, whose handlers' context is
// cancelled in the plugin's shutdown hook.
//
// With a nil e, each backend gets a fake of its own, made when a plugin
// first depends on the events service: that is the factory of
// [DefaultFactories]. A test that publishes or reads what was published
// passes its own.
func EventsFactory(e *EventsService) *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.EventsRef,
		func(context.Context, struct{}) (*EventsService, error) {
			if e == nil {
				return Events(), nil
			}
			return e, nil
		},
		func(ctx context.Context, e *EventsService, d struct {
			Plugin    core.PluginMetadata
			Lifecycle core.Lifecycle
			Logger    core.Logger
		}) (core.Events, error) {
			id := d.Plugin.ID()
			e.mu.Lock()
			e.plugin(id).logger = d.Logger
			e.mu.Unlock()
			if err := d.Lifecycle.AddShutdownHook(func(context.Context) error { e.stopPlugin(id); return nil }); err != nil {
				return nil, fmt.Errorf("mockservices: events of plugin '%s': %w", id, err)
			}
			return pluginEvents{e: e, pluginID: id}, nil
		})
}

// ForPlugin returns the events service that plugin pluginID sees, for a
// unit test of code that takes a core.Events.
func (e *EventsService) ForPlugin(pluginID string) core.Events {
	return pluginEvents{e: e, pluginID: pluginID}
}

// Publish publishes ev as if a plugin had, delivers it to the subscribers
// of its topic and returns their errors joined (a recovered panic is an
// error too), so that the test sees them.
func (e *EventsService) Publish(ctx context.Context, ev core.Event) error {
	return e.publish(ctx, "test", ev, true)
}

// Published returns every event published so far, in order.
func (e *EventsService) Published() []core.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.published)
}

// PublishedOn returns the events published so far on topic, in order.
func (e *EventsService) PublishedOn(topic string) []core.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []core.Event
	for _, ev := range e.published {
		if ev.Topic == topic {
			out = append(out, ev)
		}
	}
	return out
}

// plugin returns the state of plugin id, made on first use; e.mu is held.
func (e *EventsService) plugin(id string) *eventsPlugin {
	p := e.plugins[id]
	if p == nil {
		ctx, cancel := context.WithCancel(context.Background())
		p = &eventsPlugin{ctx: ctx, cancel: cancel}
		e.plugins[id] = p
	}
	return p
}

func (e *EventsService) stopPlugin(id string) {
	e.mu.Lock()
	p := e.plugin(id)
	p.stopped = true
	e.subs = slices.DeleteFunc(e.subs, func(s *fakeSub) bool { return s.plugin == id })
	e.mu.Unlock()
	p.cancel()
}

func (e *EventsService) publish(ctx context.Context, pluginID string, ev core.Event, byTest bool) error {
	ev, err := eventspec.Event(pluginID, ev)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if !byTest && e.plugin(pluginID).stopped {
		e.mu.Unlock()
		return eventspec.Stopped(pluginID, "Publish")
	}
	e.published = append(e.published, ev)
	var targets []*fakeSub
	for _, s := range e.subs {
		if slices.Contains(s.topics, ev.Topic) {
			targets = append(targets, s)
		}
	}
	e.mu.Unlock()
	var errList []error
	for _, s := range targets {
		e.mu.Lock()
		p := e.plugin(s.plugin)
		hctx, l := p.ctx, p.logger
		e.mu.Unlock()
		// A copy per subscriber: a handler that changes its event changes
		// neither another subscriber's nor the record of Published.
		if err := s.deliver(hctx, eventspec.Copy(ev)); err != nil {
			err = fmt.Errorf("mockservices: events: subscriber %q on topic %q: %w", s.group, ev.Topic, err)
			if l != nil {
				l.Error("events: the handler failed", "subscriber", s.group, "topic", ev.Topic, "error", err)
			}
			errList = append(errList, err)
		}
	}
	if byTest {
		return errors.Join(errList...)
	}
	return nil
}

type pendingEvent struct {
	ctx context.Context
	ev  core.Event
}

// deliver hands ev to the handler, or queues it if the subscriber is
// handling an event, and returns the errors of the events it handled.
func (s *fakeSub) deliver(ctx context.Context, ev core.Event) error {
	s.mu.Lock()
	s.pending = append(s.pending, pendingEvent{ctx, ev})
	if s.busy {
		s.mu.Unlock()
		return nil
	}
	s.busy = true
	var errList []error
	for len(s.pending) > 0 {
		p := s.pending[0]
		s.pending = s.pending[1:]
		s.mu.Unlock()
		errList = append(errList, s.call(p.ctx, p.ev))
		s.mu.Lock()
	}
	s.busy = false
	s.mu.Unlock()
	return errors.Join(errList...)
}

func (s *fakeSub) call(ctx context.Context, ev core.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the handler panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return s.handler(ctx, ev)
}

// pluginEvents is the view of one plugin.
type pluginEvents struct {
	e        *EventsService
	pluginID string
}

func (p pluginEvents) Publish(ctx context.Context, ev core.Event) error {
	return p.e.publish(ctx, p.pluginID, ev, false)
}

func (p pluginEvents) Subscribe(ctx context.Context, sub core.Subscription) error {
	topics, err := eventspec.Subscription(p.pluginID, sub)
	if err != nil {
		return err
	}
	e := p.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.plugin(p.pluginID).stopped {
		return eventspec.Stopped(p.pluginID, "Subscribe")
	}
	group := eventspec.GroupName(p.pluginID, sub.ID)
	for _, s := range e.subs {
		if s.group == group {
			return eventspec.Conflict(p.pluginID, sub.ID)
		}
	}
	e.subs = append(e.subs, &fakeSub{plugin: p.pluginID, group: group, topics: topics, handler: sub.Handler})
	return nil
}
