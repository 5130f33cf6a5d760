package mockservices_test

import (
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/greenroom-dev/greenroom/mockservices"
)

func TestLoggerContains(t *testing.T) {
	log := mockservices.Logger(t)
	log.With("plugin", "todo").Info("todo created", "id", 42, slog.String("title", "write tests"))
	tests := []struct {
		name string
		msg  string
		args []any
		want bool
	}{
		{"message only", "todo created", nil, true},
		{"int matches int64", "todo created", []any{"id", 42}, true},
		{"With attribute", "todo created", []any{"plugin", "todo"}, true},
		{"slog.Attr", "todo created", []any{slog.String("title", "write tests")}, true},
		{"all attributes", "todo created", []any{"plugin", "todo", "id", 42, "title", "write tests"}, true},
		{"wrong value", "todo created", []any{"id", 43}, false},
		{"wrong type", "todo created", []any{"id", "42"}, false},
		{"missing attribute", "todo created", []any{"user", "alice"}, false},
		{"other message", "todo deleted", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := log.Contains(tt.msg, tt.args...); got != tt.want {
				t.Errorf("Contains(%q, %v) = %v, want %v; records %v", tt.msg, tt.args, got, tt.want, log.Records())
			}
		})
	}
}

func TestLoggerRecords(t *testing.T) {
	log := mockservices.Logger(t)
	child := log.With("plugin", "todo")
	child.Debug("d")
	log.Warn("w", slog.Group("req", "method", "GET", slog.Group("empty")), "err", errors.New("boom"))
	slog.New(child.Handler()).WithGroup("g").Error("e", "k", "v")
	child.(*mockservices.LoggerService).Info("child records are shared")

	var got []string
	for _, r := range log.Records() {
		got = append(got, r.String())
	}
	want := []string{
		"DEBUG d plugin=todo",
		"WARN w err=boom req.method=GET",
		"ERROR e g.k=v plugin=todo",
		"INFO child records are shared plugin=todo",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Records() = %q, want %q", got, want)
	}
	warns := log.Filter(func(r mockservices.LogRecord) bool { return r.Level >= slog.LevelWarn })
	if len(warns) != 2 {
		t.Errorf("Filter(level >= warn) = %v, want 2 records", warns)
	}
	if r := log.Records()[0]; r.Time.IsZero() {
		t.Errorf("record time is zero")
	}
}

func TestLogRecordString(t *testing.T) {
	r := mockservices.LogRecord{Level: slog.LevelInfo, Message: "m", Attrs: map[string]any{"b": "two words", "a": 1, "c": "", "d": `q"`}}
	if got, want := r.String(), `INFO m a=1 b="two words" c="" d="q\""`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

func TestLoggerPrintsOnlyWhenTheTestFails(t *testing.T) {
	for _, failed := range []bool{false, true} {
		tb := newFakeTB(t)
		log := mockservices.Logger(tb)
		log.With("plugin", "todo").Info("started")
		tb.failed = failed
		tb.finish()
		var want []string
		if failed {
			want = []string{"mockservices.Logger: 1 records captured during the failed test:", "INFO started plugin=todo"}
		}
		if !slices.Equal(tb.logs, want) {
			t.Errorf("test failed=%v: logged %q, want %q", failed, tb.logs, want)
		}
	}
}

func TestLoggerConcurrentUse(t *testing.T) {
	log := mockservices.Logger(t)
	done := make(chan struct{})
	for i := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			l := log.With("worker", i)
			for range 50 {
				l.Info("tick")
				_ = log.Records()
			}
		}()
	}
	for range 4 {
		<-done
	}
	if n := len(log.Filter(func(r mockservices.LogRecord) bool { return r.Message == "tick" })); n != 200 {
		t.Errorf("captured %d records, want 200", n)
	}
}

// counterValuer is a slog.LogValuer whose value changes after it is logged.
type counterValuer struct{ n *int }

func (c counterValuer) LogValue() slog.Value { return slog.IntValue(*c.n) }

// TestLoggerResolvesValuesWhenLogged checks that records, which the fake
// converts only when they are read, keep the values of slog.LogValuers
// (also inside groups) as they were when logged, and their order.
func TestLoggerResolvesValuesWhenLogged(t *testing.T) {
	log := mockservices.Logger(t)
	n := 1
	log.Info("before")
	log.Info("valuer", "n", counterValuer{&n})
	log.Info("grouped", slog.Group("g", "n", counterValuer{&n}))
	log.Info("after")
	n = 2
	var got []string
	for _, r := range log.Records() {
		got = append(got, r.String())
	}
	want := []string{"INFO before", "INFO valuer n=1", "INFO grouped g.n=1", "INFO after"}
	if !slices.Equal(got, want) {
		t.Errorf("Records() = %q, want %q", got, want)
	}
}
