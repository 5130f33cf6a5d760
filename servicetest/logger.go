package servicetest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
)

// TestLogger checks an implementation of [core.Logger]. newLogger returns
// a logger that emits every level, debug included, and a function that
// returns the records emitted so far, in order, each as a map in the form
// testing/slogtest uses: the level's name ("INFO") under slog.LevelKey, the
// message under slog.MessageKey, each attribute under its key and each group
// as a nested map. Other keys (time, source) are ignored. Values are
// compared as their JSON encodings, so a logger whose records are parsed
// back from JSON output passes.
func TestLogger(t *testing.T, newLogger func(t *testing.T) (core.Logger, func() []map[string]any)) {
	t.Helper()
	type want struct {
		level, msg string
		attrs      map[string]any
	}
	tests := []struct {
		name string
		log  func(l core.Logger)
		want []want
	}{
		{
			name: "each level method emits a record of its level",
			log: func(l core.Logger) {
				l.Debug("d")
				l.Info("i")
				l.Warn("w")
				l.Error("e")
			},
			want: []want{{"DEBUG", "d", nil}, {"INFO", "i", nil}, {"WARN", "w", nil}, {"ERROR", "e", nil}},
		},
		{
			name: "key-value pairs and slog.Attr values become attributes",
			log: func(l core.Logger) {
				l.Info("created", "id", 42, slog.String("title", "write tests"), "done", false)
			},
			want: []want{{"INFO", "created", map[string]any{"id": 42, "title": "write tests", "done": false}}},
		},
		{
			name: "a group becomes a nested object",
			log: func(l core.Logger) {
				l.Info("request", slog.Group("req", "method", "GET", "path", "/todos"))
			},
			want: []want{{"INFO", "request", map[string]any{"req": map[string]any{"method": "GET", "path": "/todos"}}}},
		},
		{
			name: "With adds its attributes to every record of the child",
			log: func(l core.Logger) {
				child := l.With("plugin", "todo")
				child.Info("one")
				child.With("request", "r1").Warn("two", "n", 2)
			},
			want: []want{
				{"INFO", "one", map[string]any{"plugin": "todo"}},
				{"WARN", "two", map[string]any{"plugin": "todo", "request": "r1", "n": 2}},
			},
		},
		{
			name: "With does not change the parent",
			log: func(l core.Logger) {
				_ = l.With("plugin", "todo")
				l.Info("parent")
			},
			want: []want{{"INFO", "parent", nil}},
		},
		{
			name: "Handler carries the With attributes to slog.New",
			log: func(l core.Logger) {
				slog.New(l.With("plugin", "todo").Handler()).Info("via slog", "k", "v")
			},
			want: []want{{"INFO", "via slog", map[string]any{"plugin": "todo", "k": "v"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, records := newLogger(t)
			tt.log(l)
			var got, exp []map[string]any
			for _, r := range records() {
				got = append(got, normalizeRecord(r))
			}
			for _, w := range tt.want {
				m := map[string]any{slog.LevelKey: w.level, slog.MessageKey: w.msg}
				for k, v := range w.attrs {
					m[k] = v
				}
				exp = append(exp, normalizeRecord(m))
			}
			if diff := cmp.Diff(exp, got); diff != "" {
				t.Errorf("core.Logger contract broken: %s; records (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// normalizeRecord drops the keys the suite ignores and normalizes values
// through JSON, so that int 42, int64 42 and float64 42 compare equal.
func normalizeRecord(r map[string]any) map[string]any {
	m := make(map[string]any, len(r))
	for k, v := range r {
		if k == slog.TimeKey || k == slog.SourceKey {
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		return map[string]any{"unencodable record": fmt.Sprint(r)}
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return map[string]any{"unencodable record": fmt.Sprint(r)}
	}
	return out
}
