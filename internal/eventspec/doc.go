// Package eventspec is the one definition of what an event and a
// subscription may be, shared by the production events service
// (defaults/events) and its fake (mockservices), so that an event the fake
// accepts is one production accepts, with the same errors.
package eventspec
