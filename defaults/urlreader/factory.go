package urlreader

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Factory returns the factory of the core.urlReader service. One [Reader]
// per backend, made in the factory's root context from
// backend.reading.allow, backend.reading.maxBytes and
// backend.reading.timeout and the readers of core.URLReaderProvidersRef,
// serves every plugin; the errors a plugin sees name it. Its idle
// connections are closed when the backend shuts down.
func Factory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.URLReaderRef,
		func(ctx context.Context, d struct {
			Config    core.RootConfig
			Lifecycle core.RootLifecycle
			Providers []core.URLReaderProvider
		}) (*Reader, error) {
			opts, err := ReadConfig(d.Config)
			if err != nil {
				return nil, fmt.Errorf("urlReader: %w", err)
			}
			opts.Providers = d.Providers
			r, err := New(opts)
			if err != nil {
				return nil, fmt.Errorf("urlReader: %w", err)
			}
			if err := d.Lifecycle.AddShutdownHook(func(context.Context) error { r.CloseIdleConnections(); return nil }); err != nil {
				return nil, fmt.Errorf("urlReader: %w", err)
			}
			return r, nil
		},
		func(ctx context.Context, r *Reader, d struct{ Plugin core.PluginMetadata }) (core.URLReader, error) {
			return pluginReader{r: r, pluginID: d.Plugin.ID()}, nil
		})
}

// pluginReader is the reader a plugin sees: its errors name the plugin.
type pluginReader struct {
	r        *Reader
	pluginID string
}

func (p pluginReader) ReadURL(ctx context.Context, url string, opts core.ReadURLOptions) (core.ReadURLResponse, error) {
	res, err := p.r.ReadURL(ctx, url, opts)
	if err != nil {
		return res, fmt.Errorf("urlReader of plugin '%s': %w", p.pluginID, err)
	}
	return res, nil
}

func (p pluginReader) ReadTree(ctx context.Context, url string, opts core.ReadTreeOptions) (core.ReadTreeResponse, error) {
	res, err := p.r.ReadTree(ctx, url, opts)
	if err != nil {
		return res, fmt.Errorf("urlReader of plugin '%s': %w", p.pluginID, err)
	}
	return res, nil
}

// ReadConfig reads the options of a [Reader] from backend.reading (see
// the package documentation); the providers are left empty.
func ReadConfig(cfg core.Config) (Options, error) {
	var o Options
	entries, err := cfg.SubList(allowKey)
	if err != nil {
		return o, err
	}
	for i, e := range entries {
		host, err := e.String("host")
		if err != nil {
			return o, fmt.Errorf("config key %q: entry #%d: %w", allowKey, i+1, err)
		}
		entry := AllowEntry{Host: host}
		if e.Has("paths") {
			if entry.Paths, err = e.Strings("paths"); err != nil {
				return o, fmt.Errorf("config key %q: entry #%d: %w", allowKey, i+1, err)
			}
		}
		if entry.AllowInternal, _, err = e.OptionalBool("allowInternal"); err != nil {
			return o, fmt.Errorf("config key %q: entry #%d: %w", allowKey, i+1, err)
		}
		o.Allow = append(o.Allow, entry)
	}
	n, ok, err := cfg.OptionalInt("backend.reading.maxBytes")
	if err != nil {
		return o, err
	}
	if ok && n <= 0 {
		return o, fmt.Errorf("config key %q: %d is not positive; use a size in bytes (default %d)", "backend.reading.maxBytes", n, DefaultMaxBytes)
	}
	o.MaxBytes = int64(n)
	d, ok, err := cfg.OptionalDuration("backend.reading.timeout")
	if err != nil {
		return o, err
	}
	if ok && d <= 0 {
		return o, fmt.Errorf("config key %q: %v is not positive; use a duration such as 30s (default %v)", "backend.reading.timeout", d, DefaultTimeout)
	}
	o.Timeout = d
	return o, nil
}
