package config_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
)

func TestFactoryLayersYAMLAndFiles(t *testing.T) {
	files := writeFiles(t, "backend:\n  listen:\n    port: 8000\n")
	b := backend.New(backend.WithDefaults(config.Factory(
		config.YAML("built-in", "backend:\n  listen:\n    port: 7007\n    host: ${HOST}\n  baseUrl: http://built.in\n"),
		config.Files(files...),
		config.Env([]string{"HOST=127.0.0.1", "GREENROOM_CONFIG_backend_baseUrl=http://from.env"}),
	)))
	cfg, err := backend.Resolve(context.Background(), b, core.RootConfigRef, "")
	require.NoError(t, err)
	port, err := cfg.Int("backend.listen.port")
	require.NoError(t, err)
	assert.Equal(t, 8000, port, "a file after the built-in document overrides it")
	host, err := cfg.String("backend.listen.host")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host, "${VAR} is substituted in inline documents too")
	base, err := cfg.String("backend.baseUrl")
	require.NoError(t, err)
	assert.Equal(t, "http://from.env", base, "environment overrides win over every document")
}

func TestFactoryYAMLErrorsNameTheDocument(t *testing.T) {
	b := backend.New(backend.WithDefaults(config.Factory(config.YAML("built-in", "a: [unclosed"), config.Env(nil))))
	_, err := backend.Resolve(context.Background(), b, core.RootConfigRef, "")
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), `"built-in"`), "error %q should name the document", err)
}
