package logger

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Option configures [RootFactory] and [NewFromConfig].
type Option func(*options)

type options struct {
	w io.Writer
}

// Writer sends logs to w instead of os.Stderr.
func Writer(w io.Writer) Option { return func(o *options) { o.w = w } }

// NewFromConfig returns the root logger described by cfg: the level at
// backend.logging.level (debug, info, warn or error; default info) and the
// format at backend.logging.format (text or json; default text). An unknown
// value is an error naming the key.
func NewFromConfig(cfg core.Config, opts ...Option) (core.RootLogger, error) {
	o := options{w: os.Stderr}
	for _, opt := range opts {
		opt(&o)
	}
	levelName, ok, err := cfg.OptionalString("backend.logging.level")
	if err != nil {
		return nil, err
	}
	level := slog.LevelInfo
	if ok {
		switch strings.ToLower(levelName) {
		case "debug":
			level = slog.LevelDebug
		case "info":
			level = slog.LevelInfo
		case "warn":
			level = slog.LevelWarn
		case "error":
			level = slog.LevelError
		default:
			return nil, fmt.Errorf("config key %q: unknown log level %q; use debug, info, warn or error", "backend.logging.level", levelName)
		}
	}
	format, _, err := cfg.OptionalString("backend.logging.format")
	if err != nil {
		return nil, err
	}
	ho := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(format) {
	case "", "text":
		return New(slog.NewTextHandler(o.w, ho)), nil
	case "json":
		return New(slog.NewJSONHandler(o.w, ho)), nil
	default:
		return nil, fmt.Errorf("config key %q: unknown log format %q; use text or json", "backend.logging.format", format)
	}
}

// RootFactory returns the factory of the core.rootLogger service, built
// with [NewFromConfig] from the root config.
func RootFactory(opts ...Option) *backend.ServiceFactory {
	return backend.NewRootServiceFactory(core.RootLoggerRef, func(ctx context.Context, deps struct {
		Config core.RootConfig
	}) (core.RootLogger, error) {
		return NewFromConfig(deps.Config, opts...)
	})
}

// Factory returns the factory of the core.logger service: the root logger
// with the attribute plugin=<pluginId>.
func Factory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(core.LoggerRef, func(ctx context.Context, deps struct {
		Root   core.RootLogger
		Plugin core.PluginMetadata
	}) (core.Logger, error) {
		return ForPlugin(deps.Root, deps.Plugin.ID()), nil
	})
}

// ForPlugin returns the logger of the plugin pluginID: root with the
// attribute plugin=<pluginId>.
func ForPlugin(root core.Logger, pluginID string) core.Logger {
	return root.With("plugin", pluginID)
}
