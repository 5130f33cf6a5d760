package logger

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"github.com/greenroom-dev/greenroom/core"
)

// New returns a root logger that writes records to h. Records carry the
// source position of the call to Debug, Info, Warn or Error, for handlers
// that report it (slog.HandlerOptions.AddSource).
func New(h slog.Handler) core.RootLogger {
	return &logger{h: h}
}

type logger struct {
	h slog.Handler
}

var _ core.RootLogger = (*logger)(nil)

func (l *logger) Debug(msg string, args ...any) { l.log(slog.LevelDebug, msg, args) }
func (l *logger) Info(msg string, args ...any)  { l.log(slog.LevelInfo, msg, args) }
func (l *logger) Warn(msg string, args ...any)  { l.log(slog.LevelWarn, msg, args) }
func (l *logger) Error(msg string, args ...any) { l.log(slog.LevelError, msg, args) }

// With returns a logger that adds args, slog key-value pairs or slog.Attr
// values, to every record.
func (l *logger) With(args ...any) core.Logger {
	if len(args) == 0 {
		return l
	}
	return &logger{h: slog.New(l.h).With(args...).Handler()}
}

// Handler returns the slog handler, for slog.New.
func (l *logger) Handler() slog.Handler { return l.h }

// log builds the record itself, rather than calling a *slog.Logger, so that
// the source position is the caller's and not this file's: the pattern the
// log/slog documentation gives for wrapping output methods.
func (l *logger) log(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if !l.h.Enabled(ctx, level) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:]) // skip runtime.Callers, log and the exported method
	r := slog.NewRecord(time.Now(), level, msg, pcs[0])
	r.Add(args...)
	_ = l.h.Handle(ctx, r)
}
