package discovery_test

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/discovery"
)

func TestFactoryThroughTheBackend(t *testing.T) {
	ctx := context.Background()
	r := &router{}
	b := backend.New(backend.WithDefaults(
		config.Factory(config.YAML("test", "backend:\n  listen:\n    port: 0\n  baseUrl: https://gr.example.com\n"), config.Env(nil)),
		backend.NewRootServiceFactory(core.RootHTTPRouterRef, func(context.Context, struct{}) (core.RootHTTPRouter, error) { return r, nil }),
		discovery.Factory(),
	))
	t.Cleanup(func() { b.Stop(ctx) })
	todo, err := backend.Resolve(ctx, b, core.DiscoveryRef, "todo")
	require.NoError(t, err)
	catalog, err := backend.Resolve(ctx, b, core.DiscoveryRef, "catalog")
	require.NoError(t, err)
	assert.Same(t, todo.(*discovery.Discovery), catalog.(*discovery.Discovery), "one Discovery serves every plugin")

	r.bind(&net.TCPAddr{IP: net.IPv4zero, Port: 41234})
	u, err := todo.BaseURL(ctx, "catalog")
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:41234/api/catalog", u)
	u, err = todo.ExternalBaseURL(ctx, "catalog")
	require.NoError(t, err)
	assert.Equal(t, "https://gr.example.com/api/catalog", u)
}

func TestFactoryConfigError(t *testing.T) {
	ctx := context.Background()
	b := backend.New(backend.WithDefaults(
		config.Factory(config.YAML("test", "discovery:\n  endpoints:\n    - target: 1\n      plugins: [a]\n"), config.Env(nil)),
		backend.NewRootServiceFactory(core.RootHTTPRouterRef, func(context.Context, struct{}) (core.RootHTTPRouter, error) { return plainRouter{}, nil }),
		discovery.Factory(),
	))
	t.Cleanup(func() { b.Stop(ctx) })
	_, err := backend.Resolve(ctx, b, core.DiscoveryRef, "todo")
	assert.ErrorContains(t, err, `config key "discovery.endpoints[0].target": expected a URL string or an object with internal and external URLs`)
}
