package discovery_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults"
)

// With the production root router and backend.listen.port 0, discovery
// reports the port the router actually bound.
func TestBoundPortOfTheProductionRouter(t *testing.T) {
	ctx := context.Background()
	b := defaults.New(
		defaults.ConfigYAML("test", "backend:\n  listen:\n    host: 127.0.0.1\n    port: 0\n"),
		defaults.Env(nil),
		defaults.LogOutput(io.Discard),
	)
	t.Cleanup(func() { b.Stop(ctx) })
	d, err := backend.Resolve(ctx, b, core.DiscoveryRef, "todo")
	require.NoError(t, err)
	base, err := d.BaseURL(ctx, "todo")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)
	require.NotEqual(t, "http://127.0.0.1:0/api/todo", base)

	root := strings.TrimSuffix(base, "/api/todo")
	resp, err := http.Get(root + "/.greenroom/health/v1/liveness")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the discovered port is the one the backend serves on")
}
