package events

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Option configures the [Factory].
type Option func(*Options)

// QueueSize sets the capacity of each subscriber's queue in the memory
// store, instead of backend.events.queueSize.
func QueueSize(n int) Option { return func(o *Options) { o.QueueSize = n } }

// Factory returns the factory of the core.events service. Each backend
// gets one [Bus], made in the factory's root context from the config (see
// [OptionsFromConfig]) when a plugin first depends on the service, and
// closed by a root shutdown hook, after the plugins' own; each plugin gets
// its [Service], whose subscribers stop in the plugin's shutdown hook.
func Factory(opts ...Option) *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.EventsRef,
		func(ctx context.Context, d struct {
			Config    core.RootConfig
			Logger    core.RootLogger
			Lifecycle core.RootLifecycle
		}) (*Bus, error) {
			o, err := OptionsFromConfig(d.Config)
			if err != nil {
				return nil, err
			}
			for _, opt := range opts {
				opt(&o)
			}
			o.Logger = d.Logger
			b, err := New(ctx, o)
			if err != nil {
				return nil, err
			}
			if err := d.Lifecycle.AddShutdownHook(b.Close); err != nil {
				_ = b.Close(ctx)
				return nil, fmt.Errorf("events: %w", err)
			}
			return b, nil
		},
		func(ctx context.Context, b *Bus, d struct {
			Plugin    core.PluginMetadata
			Logger    core.Logger
			Lifecycle core.Lifecycle
		}) (core.Events, error) {
			s := b.ForPlugin(d.Plugin.ID(), d.Logger)
			if err := d.Lifecycle.AddShutdownHook(s.Shutdown); err != nil {
				return nil, fmt.Errorf("events: plugin '%s': %w", d.Plugin.ID(), err)
			}
			return s, nil
		})
}
