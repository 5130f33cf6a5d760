package logger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/logger"
)

func newConfig(t *testing.T, logging map[string]any) core.Config {
	t.Helper()
	data := map[string]any{}
	if logging != nil {
		data["backend"] = map[string]any{"logging": logging}
	}
	c, err := config.FromMap(data)
	require.NoError(t, err)
	return c
}

// records parses JSON lines.
func records(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m), "line %q", line)
		out = append(out, m)
	}
	return out
}

func TestNewFromConfigLevels(t *testing.T) {
	tests := []struct {
		level string
		want  []string // messages that get through
	}{
		{"", []string{"info", "warn", "error"}},
		{"debug", []string{"debug", "info", "warn", "error"}},
		{"info", []string{"info", "warn", "error"}},
		{"warn", []string{"warn", "error"}},
		{"error", []string{"error"}},
		{"WARN", []string{"warn", "error"}},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			logging := map[string]any{"format": "json"}
			if tt.level != "" {
				logging["level"] = tt.level
			}
			var buf bytes.Buffer
			l, err := logger.NewFromConfig(newConfig(t, logging), logger.Writer(&buf))
			require.NoError(t, err)
			l.Debug("debug")
			l.Info("info")
			l.Warn("warn")
			l.Error("error")
			var got []string
			for _, r := range records(t, buf.Bytes()) {
				got = append(got, r["msg"].(string))
				assert.Equal(t, strings.ToUpper(r["msg"].(string)), r["level"])
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNewFromConfigFormats(t *testing.T) {
	tests := []struct {
		name    string
		logging map[string]any
		check   func(t *testing.T, out string)
	}{
		{"default is text", nil, func(t *testing.T, out string) {
			assert.Contains(t, out, `level=INFO msg=hello plugin=todo n=1`)
		}},
		{"text", map[string]any{"format": "text"}, func(t *testing.T, out string) {
			assert.Contains(t, out, `level=INFO msg=hello plugin=todo n=1`)
		}},
		{"json", map[string]any{"format": "JSON"}, func(t *testing.T, out string) {
			rs := records(t, []byte(out))
			require.Len(t, rs, 1)
			assert.Equal(t, "hello", rs[0]["msg"])
			assert.Equal(t, "todo", rs[0]["plugin"])
			assert.Equal(t, float64(1), rs[0]["n"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			root, err := logger.NewFromConfig(newConfig(t, tt.logging), logger.Writer(&buf))
			require.NoError(t, err)
			logger.ForPlugin(root, "todo").Info("hello", "n", 1)
			tt.check(t, buf.String())
		})
	}
}

func TestNewFromConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		logging map[string]any
		wantErr string
	}{
		{"unknown level", map[string]any{"level": "verbose"}, `config key "backend.logging.level": unknown log level "verbose"; use debug, info, warn or error`},
		{"level of the wrong type", map[string]any{"level": 3}, `config key "backend.logging.level": expected a string, got number 3`},
		{"unknown format", map[string]any{"format": "xml"}, `config key "backend.logging.format": unknown log format "xml"; use text or json`},
		{"format of the wrong type", map[string]any{"format": true}, `config key "backend.logging.format": expected a string, got boolean true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := logger.NewFromConfig(newConfig(t, tt.logging))
			assert.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestWith(t *testing.T) {
	var buf bytes.Buffer
	root := logger.New(slog.NewJSONHandler(&buf, nil))
	assert.Same(t, root, root.With(), "With() without arguments returns the logger itself")
	l := root.With("a", 1).With(slog.String("b", "x"))
	l.Info("m", "c", true)
	root.Info("plain")
	rs := records(t, buf.Bytes())
	require.Len(t, rs, 2)
	assert.Equal(t, float64(1), rs[0]["a"])
	assert.Equal(t, "x", rs[0]["b"])
	assert.Equal(t, true, rs[0]["c"])
	assert.NotContains(t, rs[1], "a", "With does not change the parent")
}

func TestHandler(t *testing.T) {
	h := slog.NewTextHandler(&bytes.Buffer{}, nil)
	assert.Same(t, h, logger.New(h).Handler().(*slog.TextHandler))
	// The handler of a derived logger is usable with slog.New.
	var buf bytes.Buffer
	l := logger.New(slog.NewJSONHandler(&buf, nil)).With("plugin", "todo")
	slog.New(l.Handler()).Info("via slog")
	rs := records(t, buf.Bytes())
	require.Len(t, rs, 1)
	assert.Equal(t, "todo", rs[0]["plugin"])
}

func TestSourceIsTheCaller(t *testing.T) {
	var buf bytes.Buffer
	l := logger.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{AddSource: true}))
	_, file, line, _ := runtime.Caller(0)
	l.Warn("here") // line+1
	rs := records(t, buf.Bytes())
	require.Len(t, rs, 1)
	src := rs[0]["source"].(map[string]any)
	assert.Equal(t, filepath.Base(file), filepath.Base(src["file"].(string)))
	assert.Equal(t, float64(line+1), src["line"])
}

// captureHandler records what reaches it.
type captureHandler struct {
	records *[]slog.Record
	attrs   []slog.Attr
}

func (h captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h captureHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	*h.records = append(*h.records, r)
	return nil
}
func (h captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return captureHandler{records: h.records, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}
func (h captureHandler) WithGroup(string) slog.Handler { return h }

func TestForPlugin(t *testing.T) {
	var got []slog.Record
	root := logger.New(captureHandler{records: &got})
	logger.ForPlugin(root, "catalog").Error("boom", "err", errors.New("bad"))
	require.Len(t, got, 1)
	attrs := map[string]string{}
	got[0].Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
	assert.Equal(t, map[string]string{"plugin": "catalog", "err": "bad"}, attrs)
	assert.Equal(t, slog.LevelError, got[0].Level)
}

func TestFactories(t *testing.T) {
	assert.Equal(t, "core.rootLogger", logger.RootFactory().Ref().ID())
	assert.Equal(t, "core.logger", logger.Factory().Ref().ID())
}
