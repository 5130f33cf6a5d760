package defaults

import (
	"io"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/defaults/auditor"
	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/defaults/cache"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
	"github.com/greenroom-dev/greenroom/defaults/discovery"
	"github.com/greenroom-dev/greenroom/defaults/events"
	"github.com/greenroom-dev/greenroom/defaults/health"
	"github.com/greenroom-dev/greenroom/defaults/httprouter"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/defaults/permissions"
	"github.com/greenroom-dev/greenroom/defaults/scheduler"
	"github.com/greenroom-dev/greenroom/defaults/urlreader"
)

// Option configures the default services.
type Option func(*options)

type options struct {
	config []config.Option
	logger []logger.Option
}

// ConfigFiles loads the YAML files, in order, into the root config; later
// files override earlier ones.
func ConfigFiles(paths ...string) Option {
	return func(o *options) { o.config = append(o.config, config.Files(paths...)) }
}

// ConfigYAML loads a YAML document into the root config, in order with the
// files given by ConfigFiles; name identifies it in error messages. Use it
// for configuration built into a binary, before the files that override it.
func ConfigYAML(name, doc string) Option {
	return func(o *options) { o.config = append(o.config, config.YAML(name, doc)) }
}

// Env sets the environment ("NAME=value" entries) used for ${NAME}
// substitution and GREENROOM_CONFIG_* overrides, instead of os.Environ.
func Env(env []string) Option {
	return func(o *options) { o.config = append(o.config, config.Env(env)) }
}

// LogOutput sends the root logger's output to w instead of os.Stderr.
func LogOutput(w io.Writer) Option {
	return func(o *options) { o.logger = append(o.logger, logger.Writer(w)) }
}

// Factories returns the production factory of every replaceable core
// service.
func Factories(opts ...Option) []*backend.ServiceFactory {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return []*backend.ServiceFactory{
		config.Factory(o.config...),
		logger.RootFactory(o.logger...),
		logger.Factory(),
		health.Factory(),
		httprouter.RootFactory(),
		httprouter.Factory(),
		auth.AuthFactory(),
		auth.HTTPAuthFactory(),
		auth.UserInfoFactory(),
		discovery.Factory(),
		database.Factory(),
		scheduler.Factory(),
		cache.Factory(),
		events.Factory(),
		permissions.PolicyFactory(),
		permissions.Factory(),
		auditor.Factory(),
		urlreader.Factory(),
	}
}

// New returns a backend whose core services are the production defaults.
// Add plugins with Backend.Add and start it with Backend.Start.
func New(opts ...Option) *backend.Backend {
	return backend.New(backend.WithDefaults(Factories(opts...)...))
}
