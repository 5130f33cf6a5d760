package discovery_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/discovery"
)

func newConfig(t *testing.T, doc string) core.Config {
	t.Helper()
	c, err := config.FromYAML(doc)
	require.NoError(t, err)
	return c
}

// router is a root HTTP router that reports a bound address once set.
type router struct {
	addr atomic.Pointer[net.Addr]
}

func (r *router) Use(string, http.Handler) error { return nil }
func (r *router) Handler() http.Handler          { return http.NotFoundHandler() }
func (r *router) Addr() net.Addr {
	if a := r.addr.Load(); a != nil {
		return *a
	}
	return nil
}
func (r *router) bind(a net.Addr) { r.addr.Store(&a) }

// plainRouter has no Addr method.
type plainRouter struct{}

func (plainRouter) Use(string, http.Handler) error { return nil }
func (plainRouter) Handler() http.Handler          { return http.NotFoundHandler() }

type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }

func TestDefaults(t *testing.T) {
	tests := []struct {
		name         string
		doc          string
		bound        net.Addr
		wantInternal string
		wantExternal string
	}{
		{"nothing configured", "", nil, "http://localhost:7007/api/todo", "http://localhost:7007/api/todo"},
		{"empty host", "backend:\n  listen:\n    host: ''\n    port: 8080\n", nil, "http://localhost:8080/api/todo", "http://localhost:8080/api/todo"},
		{"all IPv6 interfaces", "backend:\n  listen:\n    host: '::'\n", nil, "http://localhost:7007/api/todo", "http://localhost:7007/api/todo"},
		{"all IPv4 interfaces", "backend:\n  listen:\n    host: 0.0.0.0\n", nil, "http://127.0.0.1:7007/api/todo", "http://localhost:7007/api/todo"},
		{"IPv6 address is bracketed", "backend:\n  listen:\n    host: '::1'\n", nil, "http://[::1]:7007/api/todo", "http://localhost:7007/api/todo"},
		{"bracketed IPv6 stays", "backend:\n  listen:\n    host: '[fe80::1]'\n", nil, "http://[fe80::1]:7007/api/todo", "http://localhost:7007/api/todo"},
		{"host name", "backend:\n  listen:\n    host: backend.internal\n", nil, "http://backend.internal:7007/api/todo", "http://localhost:7007/api/todo"},
		{"baseUrl", "backend:\n  baseUrl: https://greenroom.example.com/\n", nil, "http://localhost:7007/api/todo", "https://greenroom.example.com/api/todo"},
		{"baseUrl with a path", "backend:\n  baseUrl: https://example.com/greenroom\n", nil, "http://localhost:7007/api/todo", "https://example.com/greenroom/api/todo"},
		{"bound port wins", "backend:\n  listen:\n    port: 0\n", &net.TCPAddr{IP: net.IPv6zero, Port: 43210}, "http://localhost:43210/api/todo", "http://localhost:43210/api/todo"},
		{"bound port over a fixed port", "backend:\n  listen:\n    port: 7007\n    host: 0.0.0.0\n", &net.TCPAddr{IP: net.IPv4zero, Port: 7008}, "http://127.0.0.1:7008/api/todo", "http://localhost:7008/api/todo"},
		{"non-TCP address with a port", "", stringAddr("[::]:5555"), "http://localhost:5555/api/todo", "http://localhost:5555/api/todo"},
		{"port as a string", "backend:\n  listen:\n    port: '9000'\n", nil, "http://localhost:9000/api/todo", "http://localhost:9000/api/todo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &router{}
			if tt.bound != nil {
				r.bind(tt.bound)
			}
			d, err := discovery.New(newConfig(t, tt.doc), r)
			require.NoError(t, err)
			got, err := d.BaseURL(context.Background(), "todo")
			require.NoError(t, err)
			assert.Equal(t, tt.wantInternal, got)
			got, err = d.ExternalBaseURL(context.Background(), "todo")
			require.NoError(t, err)
			assert.Equal(t, tt.wantExternal, got)
		})
	}
}

func TestPortZeroBeforeAndAfterBinding(t *testing.T) {
	ctx := context.Background()
	r := &router{}
	d, err := discovery.New(newConfig(t, "backend:\n  listen:\n    port: 0\n"), r)
	require.NoError(t, err)
	_, err = d.BaseURL(ctx, "todo")
	assert.EqualError(t, err, `discovery: config key "backend.listen.port" is 0 (any free port) and the root HTTP router has not reported the port it bound yet; ask for URLs once the backend has started, or set a fixed port`)
	_, err = d.ExternalBaseURL(ctx, "todo")
	assert.Error(t, err)

	// With a fixed external URL, the external URL needs no port.
	d2, err := discovery.New(newConfig(t, "backend:\n  baseUrl: http://x\n  listen:\n    port: 0\n"), plainRouter{})
	require.NoError(t, err)
	ext, err := d2.ExternalBaseURL(ctx, "todo")
	require.NoError(t, err)
	assert.Equal(t, "http://x/api/todo", ext)
	_, err = d2.BaseURL(ctx, "todo")
	assert.Error(t, err, "a router without Addr cannot tell the bound port")

	r.bind(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40001})
	got, err := d.BaseURL(ctx, "todo")
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:40001/api/todo", got)
}

func TestNilRouter(t *testing.T) {
	d, err := discovery.New(newConfig(t, "backend:\n  listen:\n    port: 7100\n"), nil)
	require.NoError(t, err)
	got, err := d.BaseURL(context.Background(), "todo")
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:7100/api/todo", got)
}

func TestEndpoints(t *testing.T) {
	doc := `
backend:
  baseUrl: https://greenroom.example.com
discovery:
  endpoints:
    - target: http://catalog.internal:7007/api/{{pluginId}}/
      plugins: [catalog, search]
    - target:
        internal: http://scaffolder.internal/api/{{ pluginId }}
        external: https://public.example.com/{{pluginId}}
      plugins: [scaffolder]
    - target:
        internal: http://only-internal/{{pluginId}}
      plugins: [internal-only]
    - target:
        external: http://only-external/{{pluginId}}
      plugins: [external-only]
    - target: http://second-match/{{pluginId}}
      plugins: [catalog]
`
	tests := []struct {
		plugin, internal, external string
	}{
		{"catalog", "http://catalog.internal:7007/api/catalog", "http://catalog.internal:7007/api/catalog"},
		{"search", "http://catalog.internal:7007/api/search", "http://catalog.internal:7007/api/search"},
		{"scaffolder", "http://scaffolder.internal/api/scaffolder", "https://public.example.com/scaffolder"},
		{"internal-only", "http://only-internal/internal-only", "https://greenroom.example.com/api/internal-only"},
		{"external-only", "http://localhost:7007/api/external-only", "http://only-external/external-only"},
		{"todo", "http://localhost:7007/api/todo", "https://greenroom.example.com/api/todo"},
	}
	d, err := discovery.New(newConfig(t, doc), nil)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.plugin, func(t *testing.T) {
			got, err := d.BaseURL(context.Background(), tt.plugin)
			require.NoError(t, err)
			assert.Equal(t, tt.internal, got)
			got, err = d.ExternalBaseURL(context.Background(), tt.plugin)
			require.NoError(t, err)
			assert.Equal(t, tt.external, got)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"port type", "backend:\n  listen:\n    port: abc\n", `config key "backend.listen.port": expected a number, got string "abc"`},
		{"port range", "backend:\n  listen:\n    port: 70000\n", `config key "backend.listen.port": port 70000 is out of range; use 0 to 65535`},
		{"host type", "backend:\n  listen:\n    host: 1\n", `config key "backend.listen.host": expected a string, got number 1`},
		{"baseUrl not absolute", "backend:\n  baseUrl: greenroom.example.com\n", `config key "backend.baseUrl": "greenroom.example.com" is not an absolute http or https URL, such as "https://greenroom.example.com"`},
		{"baseUrl unparsable", "backend:\n  baseUrl: 'http://[::1'\n", `config key "backend.baseUrl": parse "http://[::1": missing ']' in host`},
		{"baseUrl type", "backend:\n  baseUrl: [a]\n", `config key "backend.baseUrl": expected a string, got list`},
		{"endpoints type", "discovery:\n  endpoints: x\n", `config key "discovery.endpoints": expected a list of objects, got string "x"`},
		{"endpoint without target", "discovery:\n  endpoints:\n    - plugins: [a]\n", `config key "discovery.endpoints[0].target" is missing`},
		{"target of the wrong type", "discovery:\n  endpoints:\n    - target: 1\n      plugins: [a]\n", `config key "discovery.endpoints[0].target": expected a URL string or an object with internal and external URLs`},
		{"empty target object", "discovery:\n  endpoints:\n    - target: {}\n      plugins: [a]\n", `config key "discovery.endpoints[0].target": give internal, external or both`},
		{"internal of the wrong type", "discovery:\n  endpoints:\n    - target: {internal: 1}\n      plugins: [a]\n", `config key "discovery.endpoints[0].target.internal": expected a string, got number 1`},
		{"external of the wrong type", "discovery:\n  endpoints:\n    - target: {external: 1}\n      plugins: [a]\n", `config key "discovery.endpoints[0].target.external": expected a string, got number 1`},
		{"relative target", "discovery:\n  endpoints:\n    - target: /api/{{pluginId}}\n      plugins: [a]\n", `config key "discovery.endpoints[0].target": "/api/plugin" is not an absolute http or https URL`},
		{"relative external", "discovery:\n  endpoints:\n    - target: {internal: 'http://a', external: 'b'}\n      plugins: [a]\n", `config key "discovery.endpoints[0].target.external": "b" is not an absolute http or https URL`},
		{"no plugins", "discovery:\n  endpoints:\n    - target: http://a\n      plugins: []\n", `config key "discovery.endpoints[0].plugins": list the ids of the plugins this target serves`},
		{"plugins missing", "discovery:\n  endpoints:\n    - target: http://a\n", `config key "discovery.endpoints[0].plugins" is missing`},
		{"plugins of the wrong type", "discovery:\n  endpoints:\n    - target: http://a\n      plugins: [1]\n", `config key "discovery.endpoints[0].plugins[0]": expected a string, got number 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := discovery.New(newConfig(t, tt.doc), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestInvalidPluginID(t *testing.T) {
	d, err := discovery.New(newConfig(t, ""), nil)
	require.NoError(t, err)
	for _, id := range []string{"", "Todo", "todo/../x", "1todo", "todo-"} {
		_, err := d.BaseURL(context.Background(), id)
		assert.ErrorContains(t, err, "discovery: invalid plugin id", "id %q", id)
		_, err = d.ExternalBaseURL(context.Background(), id)
		assert.ErrorContains(t, err, "discovery: invalid plugin id", "id %q", id)
	}
}

func TestFactory(t *testing.T) {
	assert.Equal(t, "core.discovery", discovery.Factory().Ref().ID())
}

func TestHasEndpoint(t *testing.T) {
	t.Parallel()
	d, err := discovery.New(newConfig(t, `discovery:
  endpoints:
    - target: http://catalog.internal/api/{{pluginId}}
      plugins: [catalog]
    - target:
        external: https://greenroom.example.com/api/{{pluginId}}
      plugins: [docs]
`), nil)
	require.NoError(t, err)
	ctx := context.Background()
	assert.True(t, d.HasEndpoint(ctx, "catalog"))
	assert.False(t, d.HasEndpoint(ctx, "docs"), "an external target only keeps the default internal URL")
	assert.False(t, d.HasEndpoint(ctx, "todo"))
	assert.False(t, d.HasEndpoint(ctx, "Not An Id"))
}
