package mockservices

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
)

// LogRecord is one captured log record.
type LogRecord struct {
	Time    time.Time
	Level   slog.Level
	Message string
	// Attrs are the record's attributes and those added by With, such as
	// "plugin", keyed by name; attributes inside groups are keyed by the
	// dotted path ("req.method"). Values are as slog resolves them, so
	// integers are int64 and floats float64.
	Attrs map[string]any
}

// String formats the record as "LEVEL message key=value ...", keys sorted.
func (r LogRecord) String() string {
	var b strings.Builder
	b.WriteString(r.Level.String())
	b.WriteByte(' ')
	b.WriteString(r.Message)
	keys := make([]string, 0, len(r.Attrs))
	for k := range r.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := fmt.Sprint(r.Attrs[k])
		if v == "" || strings.ContainsAny(v, " =\"\n") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String()
}

// LoggerService is a fake [core.RootLogger] that captures every record, at
// every level, for assertions. It prints nothing while the test passes; if
// the test fails, it prints the records with t.Log when the test ends.
// Loggers derived with With share the records of the logger they came from.
type LoggerService struct {
	h     slog.Handler // a *captureHandler, with the attributes of With
	store *logStore
}

var _ core.RootLogger = (*LoggerService)(nil)

// logStore keeps the records of a logger and of those derived from it.
// Capturing a record is cheap, since tests log much more than they read:
// the handler keeps the slog.Record and converts it into a LogRecord (a
// map of its attributes) only when the records are read.
type logStore struct {
	mu      sync.Mutex
	records []LogRecord // converted, in order
	pending []captured  // captured after records, in order
}

// captured is a record as its handler received it.
type captured struct {
	h       *captureHandler
	time    time.Time
	level   slog.Level
	message string
	attrs   []slog.Attr
}

// Logger returns a capturing root logger for the test t.
func Logger(t testing.TB) *LoggerService {
	// No t.Helper: Logger never fails the test, and the call walks the
	// stack of every test backend's start.
	s := &logStore{}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		recs := s.snapshot()
		t.Logf("mockservices.Logger: %d records captured during the failed test:", len(recs))
		for _, r := range recs {
			t.Log(r.String())
		}
	})
	return &LoggerService{h: &captureHandler{store: s}, store: s}
}

// snapshot converts the pending records and returns a copy of them all.
func (s *logStore) snapshot() []LogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.convertPending()
	return slices.Clone(s.records)
}

// convertPending converts the pending records, in order. s.mu is held.
func (s *logStore) convertPending() {
	for _, c := range s.pending {
		s.records = append(s.records, c.h.convert(c.time, c.level, c.message, c.attrs))
	}
	clear(s.pending) // drop the references to the records
	s.pending = s.pending[:0]
}

// Debug implements [core.Logger].
func (l *LoggerService) Debug(msg string, args ...any) { l.log(slog.LevelDebug, msg, args) }

// Info implements [core.Logger].
func (l *LoggerService) Info(msg string, args ...any) { l.log(slog.LevelInfo, msg, args) }

// Warn implements [core.Logger].
func (l *LoggerService) Warn(msg string, args ...any) { l.log(slog.LevelWarn, msg, args) }

// Error implements [core.Logger].
func (l *LoggerService) Error(msg string, args ...any) { l.log(slog.LevelError, msg, args) }

// log builds the record as the production logger (defaults/logger.New)
// does, except for the source position, which a LogRecord does not keep:
// runtime.Callers cost more than the rest of the capture.
func (l *LoggerService) log(level slog.Level, msg string, args []any) {
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.Add(args...)
	_ = l.h.Handle(context.Background(), r)
}

// With implements [core.Logger]; the child shares the records. As in
// production, the attributes go through slog.Logger.With, which turns
// key-value pairs into attributes for the handler.
func (l *LoggerService) With(args ...any) core.Logger {
	if len(args) == 0 {
		return l
	}
	return &LoggerService{h: slog.New(l.h).With(args...).Handler(), store: l.store}
}

// Handler implements [core.Logger]; records logged through it are captured.
func (l *LoggerService) Handler() slog.Handler { return l.h }

// Records returns every record captured so far, by this logger and every
// logger sharing its records, in order.
func (l *LoggerService) Records() []LogRecord { return l.store.snapshot() }

// Filter returns the captured records for which keep returns true.
func (l *LoggerService) Filter(keep func(LogRecord) bool) []LogRecord {
	return slices.DeleteFunc(l.Records(), func(r LogRecord) bool { return !keep(r) })
}

// Contains reports whether a record with message msg was captured that has
// every attribute given by args, as slog key-value pairs or slog.Attr
// values (compared like slog.Value.Equal, so 42 matches int64(42)):
//
//	log.Contains("todo created", "plugin", "todo", "id", 42)
func (l *LoggerService) Contains(msg string, args ...any) bool {
	var want slog.Record
	want.Add(args...)
	for _, r := range l.Records() {
		if r.Message != msg {
			continue
		}
		ok := true
		want.Attrs(func(a slog.Attr) bool {
			got, found := r.Attrs[a.Key]
			ok = found && slog.AnyValue(got).Equal(a.Value.Resolve())
			return ok
		})
		if ok {
			return true
		}
	}
	return false
}

// captureHandler is a slog.Handler that stores records with their values
// kept as Go values. log/slog has handlers that write text or JSON, and
// testing/slogtest checks handlers, but none keeps records for assertions;
// it is a few lines.
type captureHandler struct {
	store  *logStore
	attrs  map[string]any // attributes from WithAttrs, keys with group prefix
	prefix string         // open groups from WithGroup, "a.b."
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

// Handle keeps r, to be converted when the records are read. A record
// with a slog.LogValuer is converted now: its value is the one at the time
// of logging, as with any handler.
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	now := false
	var attrs []slog.Attr // a copy: the record's may be reused by the caller
	if n := r.NumAttrs(); n > 0 {
		attrs = make([]slog.Attr, 0, n)
		r.Attrs(func(a slog.Attr) bool {
			now = now || needsResolving(a.Value)
			attrs = append(attrs, a)
			return true
		})
	}
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if now {
		s.convertPending()
		s.records = append(s.records, h.convert(r.Time, r.Level, r.Message, attrs))
		return nil
	}
	if s.pending == nil {
		s.pending = make([]captured, 0, 8) // a test backend's start and stop log about six
	}
	s.pending = append(s.pending, captured{h: h, time: r.Time, level: r.Level, message: r.Message, attrs: attrs})
	return nil
}

// needsResolving reports whether v is, or is a group holding, a
// slog.LogValuer.
func needsResolving(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindLogValuer:
		return true
	case slog.KindGroup:
		return slices.ContainsFunc(v.Group(), func(a slog.Attr) bool { return needsResolving(a.Value) })
	}
	return false
}

// convert turns a record this handler received into a LogRecord.
func (h *captureHandler) convert(t time.Time, level slog.Level, msg string, attrs []slog.Attr) LogRecord {
	rec := LogRecord{Time: t, Level: level, Message: msg, Attrs: make(map[string]any, len(h.attrs)+len(attrs))}
	for k, v := range h.attrs {
		rec.Attrs[k] = v
	}
	for _, a := range attrs {
		addAttr(rec.Attrs, h.prefix, a)
	}
	return rec
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = make(map[string]any, len(h.attrs)+len(as))
	for k, v := range h.attrs {
		h2.attrs[k] = v
	}
	for _, a := range as {
		addAttr(h2.attrs, h.prefix, a)
	}
	return &h2
}

func (h *captureHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

// addAttr adds a to m under prefix, following slog's handler rules: values
// are resolved, empty attributes are dropped, groups are flattened and a
// group with an empty key is inlined.
func addAttr(m map[string]any, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			addAttr(m, p, g)
		}
		return
	}
	m[prefix+a.Key] = a.Value.Any()
}
