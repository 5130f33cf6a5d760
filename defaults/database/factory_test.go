package database_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
	"github.com/greenroom-dev/greenroom/defaults/logger"
)

func TestFactory(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			settings := e.setup(t)
			cfg, err := config.FromMap(map[string]any{"backend": map[string]any{
				"database": settings,
				"logging":  map[string]any{"format": "json"},
			}})
			require.NoError(t, err)
			var logs bytes.Buffer
			b := backend.New(backend.WithDefaults(
				backend.NewRootServiceFactory(core.RootConfigRef, func(context.Context, struct{}) (core.RootConfig, error) { return cfg, nil }),
				logger.RootFactory(logger.Writer(&logs)),
				database.Factory(),
			))
			todo, err := backend.Resolve(ctx, b, core.DatabaseRef, "todo")
			require.NoError(t, err)
			assert.Equal(t, e.dialect, todo.Dialect())
			again, err := backend.Resolve(ctx, b, core.DatabaseRef, "todo")
			require.NoError(t, err)
			assert.Same(t, todo, again)
			other, err := backend.Resolve(ctx, b, core.DatabaseRef, "other")
			require.NoError(t, err)
			assert.NotSame(t, todo, other)

			db, err := todo.DB(ctx)
			require.NoError(t, err)
			require.NoError(t, db.PingContext(ctx))
			if e.server != nil {
				assert.Contains(t, logs.String(), `"msg":"created database","plugin":"todo","database":"`+settings["prefix"].(string)+`todo"`)
			}

			require.NoError(t, b.Stop(ctx))
			assert.Error(t, db.PingContext(ctx), "the pool is closed by the root shutdown hook")
			_, err = todo.DB(ctx)
			assert.EqualError(t, err, "database for plugin 'todo' is closed; the backend is shutting down")
		})
	}
}

func TestFactoryConfigError(t *testing.T) {
	cfg, err := config.FromMap(map[string]any{"backend": map[string]any{"database": map[string]any{"client": "oracle"}}})
	require.NoError(t, err)
	b := backend.New(backend.WithDefaults(
		backend.NewRootServiceFactory(core.RootConfigRef, func(context.Context, struct{}) (core.RootConfig, error) { return cfg, nil }),
		logger.RootFactory(),
		database.Factory(),
	))
	_, err = backend.Resolve(context.Background(), b, core.DatabaseRef, "todo")
	assert.ErrorContains(t, err, `config key "backend.database.client": unsupported database client type 'oracle'`)
}
