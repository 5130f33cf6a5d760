package httprouter

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// responseWriter records the status of a response and whether it has
// begun. It keeps the optional interfaces handlers commonly assert
// (http.Flusher, http.Hijacker) and unwraps for http.ResponseController.
type responseWriter struct {
	http.ResponseWriter
	status  int
	started bool
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.started && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.started = true
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.started {
		w.started = true
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *responseWriter) Flush() {
	if !w.started {
		w.started = true
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.started = true
		w.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveRecovering serves r with next, turning a panic into a 500 JSON
// error that reveals nothing of the panic. The panic is logged with its
// stack, as a panic serving a request in the plugin pluginID ("" for the
// root router). A panic after
// the response has begun cannot be answered with an error: the handler is
// then aborted with http.ErrAbortHandler, so that net/http closes the
// connection instead of sending a truncated response that looks whole.
// http.ErrAbortHandler itself passes through, unlogged.
func serveRecovering(logger core.Logger, pluginID string, w *responseWriter, r *http.Request, next http.Handler) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		where := "request"
		if pluginID != "" {
			where = "request in plugin '" + pluginID + "'"
		}
		logger.Error("panic serving "+where, "method", r.Method, "path", r.URL.Path,
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if w.started {
			panic(http.ErrAbortHandler)
		}
		errs.WriteJSON(w, r, errs.New(errs.Internal, "Internal server error"))
	}()
	next.ServeHTTP(w, r)
}

// captureWriter records what the ServeMux's own handlers (not found, method
// not allowed, redirect) would answer, so the router can answer in its own
// shape instead.
type captureWriter struct {
	header http.Header
	code   int
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return len(b), nil
}

func (c *captureWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

// slogLogger adapts a *slog.Logger to core.Logger, for routers built
// without a logger.
type slogLogger struct{ *slog.Logger }

func (l slogLogger) With(args ...any) core.Logger { return slogLogger{l.Logger.With(args...)} }
func (l slogLogger) Handler() slog.Handler        { return l.Logger.Handler() }

// Debug and the other level methods come from *slog.Logger; the context
// variants are not part of core.Logger.
var _ core.Logger = slogLogger{}

func discardLogger() core.Logger { return slogLogger{slog.New(slog.DiscardHandler)} }
