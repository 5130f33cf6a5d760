// Package events is the default core.events service: plugins publish
// events on topics and subscribe handlers to them.
//
// [Factory] (among defaults.Factories) makes one [Bus] per backend, in the
// factory's root context, from backend.events.* (see [OptionsFromConfig]),
// and gives each plugin its [Service]. [New] makes a bus without a backend.
//
// # Stores
//
// The memory store (the default) delivers the events within the process:
// Publish puts the event in the bounded queue of each subscriber of its
// topic ([Options.QueueSize]) and returns; one goroutine per subscriber
// runs its handler, one event at a time, in publish order. When a
// subscriber's queue is full, Publish waits for room until its context is
// done, then returns an error wrapping the context's.
//
// The Redis store carries the events through Redis Streams, across the
// instances of a backend: Publish adds the event to the topic's stream
// (XADD, trimmed to about [RedisOptions.MaxLen]); each subscriber ID is a
// consumer group "<pluginId>.<id>", created at Subscribe at "$", and each
// instance a consumer in it (XREADGROUP), so that each subscriber ID
// receives every event on one of the instances. An event is acknowledged
// (XACK) once its handler returned. Events a dead instance left
// unacknowledged are claimed by another after [RedisOptions.ClaimIdle]
// (XAUTOCLAIM) and handled again: delivery is at least once. Errors
// reaching Redis are logged and retried with a backoff.
//
// # Handlers and shutdown
//
// A handler's error is logged and the event is not delivered again to that
// subscriber; a panic is recovered and logged. In the plugin's shutdown
// hook ([Service.Shutdown]) the subscribers stop delivering, the handlers'
// contexts are cancelled and the handlers in flight are waited for; a root
// shutdown hook then closes the bus ([Bus.Close]) and its Redis client.
//
// See docs/events.md for the configuration and the fake used in tests.
package events
