package backend

import (
	"context"
	"errors"

	"github.com/greenroom-dev/greenroom/core"
)

// Backend is a set of plugins, modules and service factories that starts and
// stops together.
type Backend struct {
	defaults []*ServiceFactory
	features []Feature
}

// BackendOption configures a [Backend].
type BackendOption func(*Backend)

// WithDefaults installs factories used for services that no added feature
// provides. Package defaults passes the production factories, package
// testbackend the fakes. A later default for the same singleton service
// replaces an earlier one.
func WithDefaults(factories ...*ServiceFactory) BackendOption {
	return func(b *Backend) { b.defaults = append(b.defaults, factories...) }
}

// New returns a backend with no features.
func New(opts ...BackendOption) *Backend {
	b := &Backend{}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Add adds features. A service factory replaces the default for its
// service; two added factories for one singleton service are an error
// reported by Start. Add after Start is an error.
func (b *Backend) Add(features ...Feature) error {
	b.features = append(b.features, features...)
	return nil
}

// Start validates the wiring, reporting every problem at once, then starts
// every plugin. It fails with an error naming the plugin and its cause when
// an init fails. Start may be called once.
func (b *Backend) Start(ctx context.Context) error {
	return errors.New("not implemented")
}

// Stop stops the backend: before-shutdown hooks (readiness goes down), then
// every plugin's shutdown hooks, then root shutdown hooks. Stop is
// idempotent.
func (b *Backend) Stop(ctx context.Context) error {
	return errors.New("not implemented")
}

// Resolve returns the instance of ref for pluginID (ignored for root
// services), creating it and its dependencies if needed. Tests use it to
// assert on services; it also works before Start, to build one service in
// isolation.
func Resolve[T any](ctx context.Context, b *Backend, ref core.ServiceRef[T], pluginID string) (T, error) {
	var zero T
	return zero, errors.New("not implemented")
}
