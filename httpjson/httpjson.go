package httpjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strings"

	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/reqctx"
)

// FieldError is one invalid field of a request body. Decode's InputError
// carries a []FieldError as its Details, which the JSON error body shows as
// error.details:
//
//	[{"field":"title","message":"is required"}]
type FieldError struct {
	// Field is the JSON path of the field: names of the JSON object keys
	// and indexes of arrays joined by dots, such as "items.0.title".
	Field string `json:"field"`
	// Message says what is wrong, to be read after the field name.
	Message string `json:"message"`
}

func (e FieldError) String() string { return e.Field + " " + e.Message }

// Decode reads the JSON body of r into v, a non-nil pointer, then checks
// v's `validate` struct tags. It is strict, so that a client's mistake is
// reported rather than silently ignored:
//
//   - a body must be present, and be exactly one JSON value;
//   - its Content-Type must be application/json (or another +json type);
//   - fields that v does not have are rejected;
//   - if r.Body was limited with http.MaxBytesReader, as the plugin router
//     does (config backend.http.maxRequestBodyBytes), a larger body is a
//     PayloadTooLargeError (413);
//   - no JSON string, object keys included, may hold the NUL character
//     U+0000 (\u0000), which PostgreSQL cannot store in text: the field is
//     named in the error. A handler that wants NUL passes [AllowNUL];
//   - every string must be valid UTF-8. encoding/json would replace invalid
//     bytes with U+FFFD, silently storing something the client did not
//     send; Decode reports the field instead, as it does for an escaped
//     lone surrogate such as \ud800 (valid JSON syntax, but no character).
//
// Problems with the request are returned as an *errs.Error InputError
// (400) whose message names every problem and whose Details is a
// []FieldError. Return it from a [Handler] function or write it with
// errs.WriteJSON. A v that is not a non-nil pointer is a programming error
// returned as a plain error (500).
//
// Only a struct (or pointer to struct) v is validated; for a slice of
// structs, decode into a struct with a field `validate:"dive"`. Bad strings
// are reported before validation, at most ten of them.
func Decode(r *http.Request, v any, opts ...DecodeOption) error {
	var o decodeOptions
	for _, opt := range opts {
		opt(&o)
	}
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("httpjson: Decode needs a non-nil pointer to decode into, got %T", v)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return errs.NewInput("Request body is missing; send a JSON value with Content-Type: application/json")
	}
	body := bufio.NewReader(r.Body)
	if _, err := body.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return errs.NewInput("Request body is missing; send a JSON value with Content-Type: application/json")
		}
		return decodeError(err)
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		if ct == "" {
			return errs.NewInput("Request body has no Content-Type; send it with Content-Type: application/json")
		}
		return errs.NewInput("Request body has Content-Type %q; send JSON with Content-Type: application/json", ct)
	}
	// raw keeps what the decoder read, for checkStrings. encoding/json
	// buffers the whole value before decoding it anyway, and the router
	// limits the body, so this at most doubles a bounded buffer.
	var raw bytes.Buffer
	dec := json.NewDecoder(io.TeeReader(body, &raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return decodeError(err)
		}
		return errs.NewInput("Request body is not valid JSON: it must hold exactly one JSON value, but more follows the first")
	}
	if fields := checkStrings(raw.Bytes(), o.allowNUL); len(fields) > 0 {
		return invalid(fields)
	}
	return validateValue(v)
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// decodeError turns an error of encoding/json (or of reading the body)
// into the error Decode returns.
func decodeError(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		invalidUn *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &errs.Error{
			Name:    errs.PayloadTooLarge,
			Message: fmt.Sprintf("Request body is larger than the limit of %d bytes; send less, or raise the limit with the config key backend.http.maxRequestBodyBytes", tooLarge.Limit),
			Cause:   err,
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The server's read deadline: the text of the network error
		// (addresses, "i/o timeout") would not tell the client why.
		return errs.Wrap(errs.Input, err, "Request body did not arrive within the server's read timeout; send it faster, or raise the config key backend.server.readTimeout")
	case errors.As(err, &invalidUn):
		return fmt.Errorf("httpjson: %w", err)
	case errors.Is(err, io.EOF):
		return errs.NewInput("Request body is missing; send a JSON value with Content-Type: application/json")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.Wrap(errs.Input, err, "Request body is not valid JSON: it ends before the value is complete")
	case errors.As(err, &syntax):
		return errs.Wrap(errs.Input, err, "Request body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)
	case errors.As(err, &typeErr):
		fe := FieldError{Field: typeErr.Field, Message: "must be " + describeType(typeErr.Type)}
		if fe.Field == "" {
			fe.Field = "(body)"
		}
		return invalid([]FieldError{fe})
	}
	// encoding/json reports unknown fields only in the text of its error.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return invalid([]FieldError{{Field: strings.Trim(name, `"`), Message: "is not a known field"}})
	}
	return errs.Wrap(errs.Input, err, "Request body is not valid: %v", err)
}

// invalid returns the InputError for field errors. It has no cause: the
// fields say everything the decoder or validator did.
func invalid(fields []FieldError) *errs.Error {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.String()
	}
	return &errs.Error{
		Name:    errs.Input,
		Message: "Invalid request body: " + strings.Join(parts, "; "),
		Details: fields,
	}
}

// describeType names the JSON kind a Go type is decoded from.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a valid " + t.String()
}

// Write writes v as JSON with the given status and a Content-Type of
// application/json. A 204 or 304 status is written without a body.
//
// v is encoded before anything is written: if it cannot be encoded, Write
// writes nothing and returns the error, which a [Handler] function returns
// to answer 500. An error writing the body (the client went away) is
// returned too; the response has then begun.
func Write(w http.ResponseWriter, status int, v any) error {
	if status == http.StatusNoContent || status == http.StatusNotModified {
		w.WriteHeader(status)
		return nil
	}
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("httpjson: encode the %d response of type %T as JSON: %w", status, v, err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err = w.Write(append(body, '\n'))
	return err
}

// Handler adapts a handler that returns its error. A returned error is
// written with errs.WriteJSON: an *errs.Error answers with its status and
// message, any other error with 500 and a generic message. Errors with a
// 5xx status are logged with their cause, by the plugin's logger when the
// request came through the plugin's router (else by slog.Default()), so
// that operators see what callers may not.
//
// If fn had already begun the response when it returned an error, the
// error is logged and the response is left as it is.
func Handler(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return handlerFunc(fn)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &trackingWriter{ResponseWriter: w}
	err := f(tw, r)
	if err == nil {
		return
	}
	status := errs.StatusCode(err)
	if tw.started {
		logger(r).Error("handler returned an error after it began the response; the response is left as it is",
			"method", r.Method, "path", r.URL.Path, "status", status, "error", err)
		return
	}
	if status >= 500 {
		logger(r).Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	}
	errs.WriteJSON(w, r, err)
}

type errorLogger interface {
	Error(msg string, args ...any)
}

func logger(r *http.Request) errorLogger {
	if s := reqctx.From(r.Context()); s != nil && s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// trackingWriter records whether the response has begun. It keeps the
// optional interfaces that handlers commonly assert (http.Flusher,
// http.Hijacker) and unwraps for http.ResponseController.
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

func (w *trackingWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.started = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

func (w *trackingWriter) Flush() {
	w.started = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
