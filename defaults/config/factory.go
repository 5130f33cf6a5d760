package config

import (
	"context"
	"os"
	"slices"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Option configures [Factory].
type Option func(*options)

type options struct {
	sources []source
	env     []string
	// envSet distinguishes Env() (no variables) from no Env option.
	envSet bool
}

// Files sets the YAML files to load, in order; later files override
// earlier ones. The example backend passes the values of its --config
// flags. Files may be given more than once; the lists are appended.
func Files(paths ...string) Option {
	return func(o *options) {
		for _, p := range paths {
			o.sources = append(o.sources, source{path: p})
		}
	}
}

// YAML adds a YAML document to load, in order with the files given by
// [Files]; name identifies it in error messages. A program uses it for a
// configuration built into its binary, loaded before the files that
// override it.
func YAML(name, doc string) Option {
	return func(o *options) { o.sources = append(o.sources, source{name: name, data: []byte(doc)}) }
}

// Env sets the environment ("NAME=value" entries) used for ${NAME}
// substitution and GREENROOM_CONFIG_* overrides, instead of os.Environ.
func Env(env []string) Option {
	return func(o *options) { o.env, o.envSet = slices.Clone(env), true }
}

// Factory returns the factory of the core.rootConfig service. It loads the
// files given with [Files] and, unless [Env] is given, reads os.Environ when
// the service is created; see [Load].
func Factory(opts ...Option) *backend.ServiceFactory {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return backend.NewRootServiceFactory(core.RootConfigRef, func(ctx context.Context, _ struct{}) (core.RootConfig, error) {
		env := o.env
		if !o.envSet {
			env = os.Environ()
		}
		return load(o.sources, env)
	})
}
