package logger_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/logger"
)

func newBackend(t *testing.T, yaml string, w *bytes.Buffer) *backend.Backend {
	t.Helper()
	b := backend.New(backend.WithDefaults(
		config.Factory(config.YAML("test", yaml), config.Env(nil)),
		logger.RootFactory(logger.Writer(w)),
		logger.Factory(),
	))
	t.Cleanup(func() { b.Stop(context.Background()) })
	return b
}

func TestFactoriesThroughTheBackend(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	b := newBackend(t, "backend:\n  logging:\n    format: json\n    level: debug\n", &buf)
	todo, err := backend.Resolve(ctx, b, core.LoggerRef, "todo")
	require.NoError(t, err)
	catalog, err := backend.Resolve(ctx, b, core.LoggerRef, "catalog")
	require.NoError(t, err)
	root, err := backend.Resolve(ctx, b, core.RootLoggerRef, "")
	require.NoError(t, err)
	todo.Debug("from todo")
	catalog.Info("from catalog")
	root.Warn("from root")
	rs := records(t, buf.Bytes())
	require.Len(t, rs, 3)
	assert.Equal(t, "todo", rs[0]["plugin"])
	assert.Equal(t, "DEBUG", rs[0]["level"])
	assert.Equal(t, "catalog", rs[1]["plugin"])
	assert.NotContains(t, rs[2], "plugin")
}

func TestRootFactoryConfigError(t *testing.T) {
	var buf bytes.Buffer
	b := newBackend(t, "backend:\n  logging:\n    level: loud\n", &buf)
	_, err := backend.Resolve(context.Background(), b, core.LoggerRef, "todo")
	assert.ErrorContains(t, err, `config key "backend.logging.level": unknown log level "loud"; use debug, info, warn or error`)
}
