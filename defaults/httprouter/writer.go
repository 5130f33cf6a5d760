package httprouter

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// responseWriter records the status of a response and whether it has
// begun. It keeps the optional interfaces handlers commonly assert
// (http.Flusher, http.Hijacker) and unwraps for http.ResponseController.
// When the response begins while the request body (see trackBody) is not
// read whole, it asks net/http to close the connection afterwards.
type responseWriter struct {
	http.ResponseWriter
	body    *trackedBody // nil for a request without a body
	status  int
	started bool
}

// start records the beginning of the response with its status.
func (w *responseWriter) start(code int) {
	w.started = true
	w.status = code
	if w.body != nil && w.body.unread() {
		w.ResponseWriter.Header().Set("Connection", "close")
	}
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.started && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.start(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.started {
		w.start(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *responseWriter) Flush() {
	if !w.started {
		w.start(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// trackedBody counts what the handlers read of a request body.
//
// net/http reads, and throws away, up to 256 kB of a body that a handler
// left unread before it sends the response's header, unless the response
// closes the connection: a client that declares a body and sends it slowly,
// or never, would hold back every answer given without reading it (the
// auth barrier's 401, a 404, a plugin handler's 403) until the read
// timeout. net/http does not tell how much of a body is unread, hence the
// count, which lets [responseWriter] close such connections instead. The
// counters are atomic: a handler may read the body on another goroutine
// while it writes the response.
type trackedBody struct {
	io.ReadCloser
	length int64 // the request's ContentLength: -1 when unknown (chunked)
	read   atomic.Int64
	eof    atomic.Bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read.Add(int64(n))
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

// unread reports whether some of the body may not have been read.
func (b *trackedBody) unread() bool {
	return !b.eof.Load() && (b.length < 0 || b.read.Load() < b.length)
}

// trackBody returns r with its body counted by a trackedBody, and that
// trackedBody: r itself if it has no body or its body is counted already
// (by the root router, for a plugin router behind it).
func trackBody(r *http.Request) (*http.Request, *trackedBody) {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return r, nil
	}
	if b, ok := r.Body.(*trackedBody); ok {
		return r, b
	}
	b := &trackedBody{ReadCloser: r.Body, length: r.ContentLength}
	r2 := new(http.Request)
	*r2 = *r
	r2.Body = b
	return r2, b
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
