package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/eventspec"
)

// DefaultQueueSize is the number of events a subscriber's queue holds in
// the memory store unless [Options.QueueSize] or backend.events.queueSize
// says otherwise.
const DefaultQueueSize = 1024

// Options configure a [Bus].
type Options struct {
	// Logger logs failed handlers and store errors; nil discards them.
	// Each plugin's service logs with the logger given to [Bus.ForPlugin].
	Logger core.Logger
	// QueueSize is the capacity of each subscriber's queue in the memory
	// store (default [DefaultQueueSize]). When a subscriber's queue is
	// full, Publish waits for room until its context is done.
	QueueSize int
	// Redis, if set, carries the events through Redis Streams, across
	// the instances that share it; nil keeps them in this process.
	Redis *RedisOptions
}

// Bus carries the events of the plugins of one backend. Make one per
// backend with [New] (the [Factory] does, in its root context), give each
// plugin its [Service] with [Bus.ForPlugin], and [Bus.Close] it last.
type Bus struct {
	logger core.Logger
	queue  int
	redis  *redisStore // nil for the memory store

	mu     sync.Mutex
	closed bool
	subs   map[string]*subscriber   // by group name, to refuse a taken ID
	topics map[string][]*subscriber // memory store: the subscribers of each topic
	svcs   []*Service
}

// New returns a bus. With [Options.Redis] it checks that Redis answers.
func New(ctx context.Context, opts Options) (*Bus, error) {
	b := &Bus{logger: opts.Logger, queue: opts.QueueSize, subs: map[string]*subscriber{}, topics: map[string][]*subscriber{}}
	if b.logger == nil {
		b.logger = logger.New(slog.DiscardHandler)
	}
	if b.queue <= 0 {
		b.queue = DefaultQueueSize
	}
	if opts.Redis != nil {
		r, err := newRedisStore(ctx, *opts.Redis)
		if err != nil {
			return nil, err
		}
		b.redis = r
	}
	return b, nil
}

// ForPlugin returns the events service of plugin pluginID, which logs with
// l (nil: the bus's logger). Stop its subscribers with [Service.Shutdown].
func (b *Bus) ForPlugin(pluginID string, l core.Logger) *Service {
	if l == nil {
		l = b.logger.With("plugin", pluginID)
	}
	s := &Service{bus: b, pluginID: pluginID, logger: l}
	b.mu.Lock()
	b.svcs = append(b.svcs, s)
	b.mu.Unlock()
	return s
}

// Close shuts down every plugin's service that is still running (see
// [Service.Shutdown]) and closes the Redis client that the bus opened. It
// waits for handlers in flight until ctx is done.
func (b *Bus) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	svcs := b.svcs
	b.mu.Unlock()
	var errList []error
	for _, s := range svcs {
		errList = append(errList, s.Shutdown(ctx))
	}
	if b.redis != nil {
		errList = append(errList, b.redis.close())
	}
	return errors.Join(errList...)
}

// Service is the core.events service of one plugin.
type Service struct {
	bus      *Bus
	pluginID string
	logger   core.Logger

	mu      sync.Mutex
	stopped bool
	subs    []*subscriber
}

var _ core.Events = (*Service)(nil)

// Publish sends e to every subscriber of e.Topic and returns once it is
// accepted: queued for each subscriber of the backend (memory store) or
// added to the topic's stream (Redis). In the memory store, when a
// subscriber's queue is full Publish waits for room until ctx is done and
// then returns an error wrapping ctx's; the subscribers before it in the
// list already have the event. A Publish made from a handler, with its
// context (or one derived from it), does not wait: it fails at once with
// an error wrapping errs.ServiceUnavailable, since the queue it would
// wait on may be its own. Each subscriber receives a copy of the event.
func (s *Service) Publish(ctx context.Context, e core.Event) error {
	e, err := eventspec.Event(s.pluginID, e)
	if err != nil {
		return err
	}
	if s.isStopped() {
		return eventspec.Stopped(s.pluginID, "Publish")
	}
	if r := s.bus.redis; r != nil {
		if err := r.publish(ctx, e); err != nil {
			return fmt.Errorf("events: plugin '%s': Publish on topic %q: %w", s.pluginID, e.Topic, err)
		}
		return nil
	}
	s.bus.mu.Lock()
	subs := s.bus.topics[e.Topic] // never modified in place: see subscribe and unsubscribe
	s.bus.mu.Unlock()
	inHandler := ctx.Value(handlerKey{}) != nil
	for _, sub := range subs {
		// Each subscriber gets a copy of its own, made from e, which no
		// handler holds: a handler that changes its event changes nobody
		// else's.
		se := eventspec.Copy(e)
		select {
		case sub.queue <- se:
			continue
		default:
		}
		if inHandler {
			// A handler waiting for room could wait on its own queue, or
			// on a subscriber that waits on it: it never waits.
			return fmt.Errorf("events: plugin '%s': Publish on topic %q from an event handler: the queue of subscriber %q (%d events) is full, and a handler's Publish does not wait for room; make its handler faster or raise backend.events.queueSize: %w",
				s.pluginID, e.Topic, sub.group, cap(sub.queue), errs.NewServiceUnavailable("the queue of subscriber %q is full", sub.group))
		}
		select {
		case sub.queue <- se:
		case <-sub.stop:
		case <-ctx.Done():
			return fmt.Errorf("events: plugin '%s': Publish on topic %q: the queue of subscriber %q (%d events) stayed full until the context ended; make its handler faster or raise backend.events.queueSize: %w",
				s.pluginID, e.Topic, sub.group, cap(sub.queue), ctx.Err())
		}
	}
	return nil
}

// handlerKey marks the context of a handler: a Publish made with it (or
// a context derived from it) never waits for room in a full queue.
type handlerKey struct{}

// Subscribe starts delivering the events of sub.Topics published from now
// on to sub.Handler, one at a time, until the plugin shuts down.
func (s *Service) Subscribe(ctx context.Context, sub core.Subscription) error {
	topics, err := eventspec.Subscription(s.pluginID, sub)
	if err != nil {
		return err
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	hctx = context.WithValue(hctx, handlerKey{}, sub.ID)
	su := &subscriber{
		group: eventspec.GroupName(s.pluginID, sub.ID), topics: topics, handler: sub.Handler,
		logger: s.logger.With("subscriber", sub.ID), ctx: hctx, cancel: cancel,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	b := s.bus
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		cancel()
		return eventspec.Stopped(s.pluginID, "Subscribe")
	}
	b.mu.Lock()
	if b.subs[su.group] != nil {
		b.mu.Unlock()
		cancel()
		return eventspec.Conflict(s.pluginID, sub.ID)
	}
	b.subs[su.group] = su
	b.mu.Unlock()

	if b.redis != nil {
		if err := b.redis.createGroups(ctx, su); err != nil {
			b.mu.Lock()
			delete(b.subs, su.group)
			b.mu.Unlock()
			cancel()
			return fmt.Errorf("events: plugin '%s': Subscribe %q: %w", s.pluginID, sub.ID, err)
		}
		go b.redis.run(su)
	} else {
		su.queue = make(chan core.Event, b.queue)
		b.mu.Lock()
		for _, t := range topics {
			// Copy on write: Publish reads the slice without the lock.
			b.topics[t] = append(b.topics[t][:len(b.topics[t]):len(b.topics[t])], su)
		}
		b.mu.Unlock()
		go su.runMemory()
	}
	s.subs = append(s.subs, su)
	return nil
}

// Shutdown stops the plugin's subscribers: it stops delivering (events
// still queued are dropped), cancels the contexts of the handlers in
// flight and waits for them to return until ctx is done. Publish and
// Subscribe then answer errs.ServiceUnavailable. The [Factory] calls it
// in the plugin's shutdown hook.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	subs := s.subs
	s.mu.Unlock()

	b := s.bus
	b.mu.Lock()
	for _, su := range subs {
		for _, t := range su.topics {
			b.topics[t] = without(b.topics[t], su)
			if len(b.topics[t]) == 0 {
				delete(b.topics, t)
			}
		}
		// The group name stays taken: a plugin that shut down does not
		// subscribe again.
	}
	b.mu.Unlock()
	for _, su := range subs {
		close(su.stop)
		su.cancel()
	}
	for _, su := range subs {
		select {
		case <-su.done:
		case <-ctx.Done():
			return fmt.Errorf("events: plugin '%s': shutting down: subscriber %q's handler did not return before the deadline: %w", s.pluginID, su.group, ctx.Err())
		}
	}
	return nil
}

func (s *Service) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// without returns subs without su, in a new slice.
func without(subs []*subscriber, su *subscriber) []*subscriber {
	out := make([]*subscriber, 0, len(subs))
	for _, x := range subs {
		if x != su {
			out = append(out, x)
		}
	}
	return out
}

// subscriber is one Subscribe call.
type subscriber struct {
	group   string // plugin.id
	topics  []string
	handler core.EventHandler
	logger  core.Logger
	ctx     context.Context // the handlers' context, cancelled by Shutdown
	cancel  context.CancelFunc
	queue   chan core.Event // memory store
	stop    chan struct{}   // closed by Shutdown
	done    chan struct{}   // closed when the delivering goroutine returns
}

func (su *subscriber) stopped() bool {
	select {
	case <-su.stop:
		return true
	default:
		return false
	}
}

// runMemory delivers the queued events, one at a time, until stopped.
func (su *subscriber) runMemory() {
	defer close(su.done)
	for {
		select {
		case <-su.stop:
			return
		case e := <-su.queue:
			if su.stopped() {
				return
			}
			su.handle(e)
		}
	}
}

// handle calls the handler, logging its error or recovering its panic.
func (su *subscriber) handle(e core.Event) {
	defer func() {
		if r := recover(); r != nil {
			su.logger.Error("events: the handler panicked; the event is dropped for this subscriber", "topic", e.Topic, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	if err := su.handler(su.ctx, e); err != nil {
		su.logger.Error("events: the handler failed; the event is not delivered again", "topic", e.Topic, "error", err)
	}
}
