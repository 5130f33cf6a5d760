package httpjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/reqctx"
)

type item struct {
	Name string `json:"name" validate:"required"`
}

type createTodo struct {
	Title    string   `json:"title" validate:"required,max=10"`
	Priority int      `json:"priority,omitempty" validate:"gte=0,lte=5"`
	Tags     []string `json:"tags" validate:"max=2"`
	Status   string   `json:"status,omitempty" validate:"omitempty,oneof=open done"`
	Note     *string  `json:"note" validate:"omitnil,min=2"`
	Items    []item   `json:"items" validate:"dive"`
	Owner    string   `validate:"omitempty,email"`
	Internal string   `json:"-"`
}

func request(body, contentType string) *http.Request {
	r := httptest.NewRequest("POST", "/api/todo/todos", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		contentType string
		limit       int64 // http.MaxBytesReader limit; 0 for none
		want        createTodo
		wantName    errs.Name // "" for success
		wantMessage string
		wantDetails []FieldError
	}{
		{
			name: "valid", body: `{"title":"milk","priority":2,"tags":["a"],"items":[{"name":"x"}]}`, contentType: "application/json",
			want: createTodo{Title: "milk", Priority: 2, Tags: []string{"a"}, Items: []item{{Name: "x"}}},
		},
		{name: "json with charset", body: `{"title":"milk"}`, contentType: "application/json; charset=utf-8", want: createTodo{Title: "milk"}},
		{name: "+json type", body: `{"title":"milk"}`, contentType: "application/merge-patch+json", want: createTodo{Title: "milk"}},
		{name: "trailing whitespace", body: "{\"title\":\"milk\"}\n\t ", contentType: "application/json", want: createTodo{Title: "milk"}},
		{
			name: "missing required field", body: `{}`, contentType: "application/json",
			wantName: errs.Input, wantMessage: "Invalid request body: title is required",
			wantDetails: []FieldError{{"title", "is required"}},
		},
		{
			name: "several field errors", body: `{"title":"much too long a title","priority":9,"tags":["a","b","c"],"status":"lost","note":"x","items":[{"name":""}],"Owner":"nope"}`, contentType: "application/json",
			wantName:    errs.Input,
			wantMessage: "Invalid request body: title must have at most 10 characters; priority must be less than or equal to 5; tags must have at most 2 items; status must be one of: open, done; note must have at least 2 characters; items.0.name is required; Owner must be an email address",
			wantDetails: []FieldError{
				{"title", "must have at most 10 characters"},
				{"priority", "must be less than or equal to 5"},
				{"tags", "must have at most 2 items"},
				{"status", "must be one of: open, done"},
				{"note", "must have at least 2 characters"},
				{"items.0.name", "is required"},
				{"Owner", "must be an email address"},
			},
		},
		{
			name: "unknown field", body: `{"title":"milk","colour":"red"}`, contentType: "application/json",
			wantName: errs.Input, wantMessage: "Invalid request body: colour is not a known field",
			wantDetails: []FieldError{{"colour", "is not a known field"}},
		},
		{
			name: "field ignored with json:\"-\" is unknown", body: `{"title":"milk","Internal":"x"}`, contentType: "application/json",
			wantName: errs.Input, wantMessage: "Invalid request body: Internal is not a known field",
			wantDetails: []FieldError{{"Internal", "is not a known field"}},
		},
		{
			name: "wrong type", body: `{"title":42}`, contentType: "application/json",
			wantName: errs.Input, wantMessage: "Invalid request body: title must be a string",
			wantDetails: []FieldError{{"title", "must be a string"}},
		},
		{
			name: "wrong type nested", body: `{"title":"x","items":[{"name":true}]}`, contentType: "application/json",
			wantName: errs.Input, wantMessage: "Invalid request body: items.name must be a string",
			wantDetails: []FieldError{{"items.name", "must be a string"}},
		},
		{
			name: "not an object", body: `[1]`, contentType: "application/json",
			wantName: errs.Input, wantMessage: "Invalid request body: (body) must be an object",
			wantDetails: []FieldError{{"(body)", "must be an object"}},
		},
		{name: "syntax error", body: `{"title":}`, contentType: "application/json", wantName: errs.Input, wantMessage: "Request body is not valid JSON: invalid character '}' looking for beginning of value (at byte 10)"},
		{name: "truncated", body: `{"title":"mi`, contentType: "application/json", wantName: errs.Input, wantMessage: "Request body is not valid JSON: it ends before the value is complete"},
		{name: "two values", body: `{"title":"a"}{"title":"b"}`, contentType: "application/json", wantName: errs.Input, wantMessage: "Request body is not valid JSON: it must hold exactly one JSON value, but more follows the first"},
		{name: "garbage after value", body: `{"title":"a"} x`, contentType: "application/json", wantName: errs.Input, wantMessage: "Request body is not valid JSON: it must hold exactly one JSON value, but more follows the first"},
		{name: "empty body", body: ``, contentType: "application/json", wantName: errs.Input, wantMessage: "Request body is missing; send a JSON value with Content-Type: application/json"},
		{name: "whitespace body", body: "  \n", contentType: "application/json", wantName: errs.Input, wantMessage: "Request body is missing; send a JSON value with Content-Type: application/json"},
		{name: "no content type", body: `{"title":"milk"}`, wantName: errs.Input, wantMessage: "Request body has no Content-Type; send it with Content-Type: application/json"},
		{name: "form content type", body: `title=milk`, contentType: "application/x-www-form-urlencoded", wantName: errs.Input, wantMessage: `Request body has Content-Type "application/x-www-form-urlencoded"; send JSON with Content-Type: application/json`},
		{name: "malformed content type", body: `{}`, contentType: "application/json; ===", wantName: errs.Input, wantMessage: `Request body has Content-Type "application/json; ==="; send JSON with Content-Type: application/json`},
		{
			name: "too large", body: `{"title":"` + strings.Repeat("a", 100) + `"}`, contentType: "application/json", limit: 64,
			wantName: errs.PayloadTooLarge, wantMessage: "Request body is larger than the limit of 64 bytes; send less, or raise the limit with the config key backend.http.maxRequestBodyBytes",
		},
		{
			name: "too large after the value", body: `{"title":"a"}` + strings.Repeat(" ", 100) + "1", contentType: "application/json", limit: 64,
			wantName: errs.PayloadTooLarge, wantMessage: "Request body is larger than the limit of 64 bytes; send less, or raise the limit with the config key backend.http.maxRequestBodyBytes",
		},
		{name: "within limit", body: `{"title":"a"}`, contentType: "application/json", limit: 64, want: createTodo{Title: "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(tt.body, tt.contentType)
			if tt.limit > 0 {
				r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, tt.limit)
			}
			var got createTodo
			err := Decode(r, &got)
			if tt.wantName == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("decoded (-want +got):\n%s", diff)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok {
				t.Fatalf("Decode error = %v (%T), want *errs.Error", err, err)
			}
			if e.Name != tt.wantName || e.Message != tt.wantMessage {
				t.Errorf("Decode error = %s: %q\nwant %s: %q", e.Name, e.Message, tt.wantName, tt.wantMessage)
			}
			var details []FieldError
			if e.Details != nil {
				details = e.Details.([]FieldError)
			}
			if diff := cmp.Diff(tt.wantDetails, details); diff != "" {
				t.Errorf("Details (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrorBody(t *testing.T) {
	r := request(`{"title":""}`, "application/json")
	var v createTodo
	err := Decode(r, &v)
	rec := httptest.NewRecorder()
	errs.WriteJSON(rec, r, err)
	want := `{"error":{"name":"InputError","message":"Invalid request body: title is required","details":[{"field":"title","message":"is required"}]},"request":{"method":"POST","url":"/api/todo/todos"},"response":{"statusCode":400}}`
	if rec.Code != 400 || strings.TrimSpace(rec.Body.String()) != want {
		t.Errorf("got %d %s\nwant 400 %s", rec.Code, rec.Body, want)
	}
}

func TestDecodeNoBody(t *testing.T) {
	for _, body := range []io.ReadCloser{nil, http.NoBody} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Body = body
		var v createTodo
		if err := Decode(r, &v); !errs.Is(err, errs.Input) || !strings.Contains(err.Error(), "Request body is missing") {
			t.Errorf("Decode with body %v = %v, want an InputError saying the body is missing", body, err)
		}
	}
}

func TestDecodeReadError(t *testing.T) {
	r := request("", "application/json")
	r.Body = io.NopCloser(iotest.ErrReader(errors.New("connection reset")))
	var v createTodo
	err := Decode(r, &v)
	if !errs.Is(err, errs.Input) || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("Decode = %v, want an InputError caused by the read error", err)
	}
}

// TestDecodeReadTimeout: a body cut off by the server's read deadline is
// answered with the config key that sets it, not with the text of a
// network error.
func TestDecodeReadTimeout(t *testing.T) {
	t.Parallel()
	r := request(`{"title":`, "application/json")
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"title":`), iotest.ErrReader(timeout)))
	var v createTodo
	err := Decode(r, &v)
	const want = "Request body did not arrive within the server's read timeout; send it faster, or raise the config key backend.server.readTimeout"
	var e *errs.Error
	if !errors.As(err, &e) || e.Name != errs.Input || e.Message != want || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Decode = %v, want an InputError %q caused by the timeout", err, want)
	}
}

func TestDecodeProgrammingErrors(t *testing.T) {
	var nilPtr *createTodo
	for _, v := range []any{createTodo{}, nilPtr, nil} {
		err := Decode(request(`{"title":"a"}`, "application/json"), v)
		if err == nil || errs.StatusCode(err) != http.StatusInternalServerError {
			t.Errorf("Decode(%T) = %v, want a plain (500) error", v, err)
		}
	}
}

func TestDecodeNonStructIsNotValidated(t *testing.T) {
	var m map[string]int
	if err := Decode(request(`{"a":1}`, "application/json"), &m); err != nil || m["a"] != 1 {
		t.Fatalf("Decode into map = %v, %v", m, err)
	}
	var p *item
	if err := Decode(request(`{"name":"x"}`, "application/json"), &p); err != nil || p.Name != "x" {
		t.Fatalf("Decode into **item = %v, %v", p, err)
	}
	if err := Decode(request(`null`, "application/json"), &p); err != nil || p != nil {
		t.Fatalf("Decode null into **item = %v, %v", p, err)
	}
	var bad *item
	err := Decode(request(`{}`, "application/json"), &bad)
	if !errs.Is(err, errs.Input) {
		t.Fatalf("Decode {} into **item = %v, want the validation error of the struct behind the pointers", err)
	}
}

func TestValidatorMessages(t *testing.T) {
	type all struct {
		Len    string         `json:"len" validate:"len=3"`
		LenN   int            `json:"lenN" validate:"len=3"`
		MinN   int            `json:"minN" validate:"min=3"`
		MaxN   float64        `json:"maxN" validate:"max=3"`
		Gt     int            `json:"gt" validate:"gt=3"`
		Lt     int            `json:"lt" validate:"lt=3"`
		Eq     string         `json:"eq" validate:"eq=x"`
		Ne     string         `json:"ne" validate:"ne=x"`
		URL    string         `json:"url" validate:"url"`
		UUID   string         `json:"uuid" validate:"uuid"`
		Alnum  string         `json:"alnum" validate:"alphanum"`
		Date   string         `json:"date" validate:"datetime=2006-01-02"`
		Hex    string         `json:"hex" validate:"hexadecimal"`
		Prefix string         `json:"prefix" validate:"startswith=ab"`
		MapMin map[string]int `json:"mapMin" validate:"min=1"`
		RequIf string         `json:"requIf" validate:"required_if=Eq y"`
	}
	v := all{Len: "ab", LenN: 2, MinN: 2, MaxN: 4, Gt: 3, Lt: 3, Eq: "y", Ne: "x", URL: "nope", UUID: "nope", Alnum: "a-b", Date: "x", Hex: "xyz", Prefix: "b", MapMin: map[string]int{}}
	body, _ := json.Marshal(v)
	err := Decode(request(string(body), "application/json"), &all{})
	e, _ := errs.As(err)
	if e == nil {
		t.Fatalf("Decode = %v, want an InputError", err)
	}
	want := []FieldError{
		{"len", "must have exactly 3 characters"},
		{"lenN", "must be 3"},
		{"minN", "must be at least 3"},
		{"maxN", "must be at most 3"},
		{"gt", "must be greater than 3"},
		{"lt", "must be less than 3"},
		{"eq", "must be x"},
		{"ne", "must not be x"},
		{"url", "must be a URL"},
		{"uuid", "must be a UUID"},
		{"alnum", "must contain only letters and digits"},
		{"date", "must be a date and time in the layout 2006-01-02"},
		{"hex", "must satisfy hexadecimal"},
		{"prefix", "must satisfy startswith=ab"},
		{"mapMin", "must have at least 1 items"},
		{"requIf", "is required"},
	}
	if diff := cmp.Diff(want, e.Details); diff != "" {
		t.Errorf("Details (-want +got):\n%s", diff)
	}
}

func TestDescribeType(t *testing.T) {
	tests := []struct {
		into any
		body string
		want string
	}{
		{&struct{ A bool }{}, `{"A":1}`, "A must be a boolean"},
		{&struct{ A uint8 }{}, `{"A":"x"}`, "A must be an integer"},
		{&struct{ A float32 }{}, `{"A":"x"}`, "A must be a number"},
		{&struct{ A []int }{}, `{"A":1}`, "A must be an array"},
		{&struct{ A map[string]int }{}, `{"A":1}`, "A must be an object"},
		{&struct{ A *int }{}, `{"A":"x"}`, "A must be an integer"},
		{&struct{ A chan int }{}, `{"A":1}`, "A must be a valid chan int"},
	}
	for _, tt := range tests {
		err := Decode(request(tt.body, "application/json"), tt.into)
		if e, ok := errs.As(err); !ok || e.Message != "Invalid request body: "+tt.want {
			t.Errorf("Decode(%s into %T) = %v, want %q", tt.body, tt.into, err, tt.want)
		}
	}
}

type badJSON struct{}

func (badJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("boom") }

func TestWrite(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		v        any
		wantCode int
		wantBody string
		wantErr  bool
	}{
		{"object", 201, map[string]int{"id": 1}, 201, "{\"id\":1}\n", false},
		{"html escaped", 200, "<b>", 200, "\"\\u003cb\\u003e\"\n", false},
		{"no content", 204, map[string]int{"id": 1}, 204, "", false},
		{"not modified", 304, nil, 304, "", false},
		{"unencodable", 200, badJSON{}, 200 /* recorder default: nothing written */, "", true},
		{"NaN", 200, math.NaN(), 200, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			err := Write(rec, tt.status, tt.v)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Write error = %v, want error: %v", err, tt.wantErr)
			}
			if rec.Code != tt.wantCode || rec.Body.String() != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
			if tt.wantErr {
				if rec.Flushed || len(rec.Header()) != 0 {
					t.Errorf("Write wrote headers %v despite failing", rec.Header())
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); tt.wantBody != "" && ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

// recordLogger is a core.Logger that records error messages and their args.
type recordLogger struct {
	core.Logger
	buf *bytes.Buffer
}

func newRecordLogger() recordLogger {
	var buf bytes.Buffer
	return recordLogger{buf: &buf}
}

func (l recordLogger) Error(msg string, args ...any) {
	fmt.Fprintln(l.buf, append([]any{msg}, args...)...)
}

func TestHandler(t *testing.T) {
	secret := errors.New("dial tcp 10.0.0.7:5432: connection refused")
	tests := []struct {
		name     string
		fn       func(w http.ResponseWriter, r *http.Request) error
		wantCode int
		wantBody string
		wantLog  string // substring of the log; "" for no log
	}{
		{
			name:     "success",
			fn:       func(w http.ResponseWriter, r *http.Request) error { return Write(w, 200, map[string]bool{"ok": true}) },
			wantCode: 200, wantBody: `{"ok":true}`,
		},
		{
			name:     "typed 4xx error is written, not logged",
			fn:       func(w http.ResponseWriter, r *http.Request) error { return errs.NewNotFound("todo 7 not found") },
			wantCode: 404, wantBody: `{"error":{"name":"NotFoundError","message":"todo 7 not found"},"request":{"method":"GET","url":"/api/todo/todos/7"},"response":{"statusCode":404}}`,
		},
		{
			name:     "plain error is a 500 without internals, logged with its cause",
			fn:       func(w http.ResponseWriter, r *http.Request) error { return fmt.Errorf("load todo: %w", secret) },
			wantCode: 500, wantBody: `{"error":{"name":"InternalError","message":"Internal server error"},"request":{"method":"GET","url":"/api/todo/todos/7"},"response":{"statusCode":500}}`,
			wantLog: "request failed method GET path /todos/7 status 500 error load todo: dial tcp 10.0.0.7:5432: connection refused",
		},
		{
			name: "typed 503 with a cause is logged, cause not shown",
			fn: func(w http.ResponseWriter, r *http.Request) error {
				return errs.Wrap(errs.ServiceUnavailable, secret, "the todo store is unavailable")
			},
			wantCode: 503, wantBody: `{"error":{"name":"ServiceUnavailableError","message":"the todo store is unavailable"},"request":{"method":"GET","url":"/api/todo/todos/7"},"response":{"statusCode":503}}`,
			wantLog: "connection refused",
		},
		{
			name:     "unencodable response is a 500",
			fn:       func(w http.ResponseWriter, r *http.Request) error { return Write(w, 200, badJSON{}) },
			wantCode: 500, wantBody: `{"error":{"name":"InternalError","message":"Internal server error"},"request":{"method":"GET","url":"/api/todo/todos/7"},"response":{"statusCode":500}}`,
			wantLog: "boom",
		},
		{
			name: "error after the response began is logged only",
			fn: func(w http.ResponseWriter, r *http.Request) error {
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte("partial"))
				return errs.NewConflict("too late")
			},
			wantCode: 202, wantBody: "partial",
			wantLog: "handler returned an error after it began the response",
		},
		{
			name: "error after a flush is logged only",
			fn: func(w http.ResponseWriter, r *http.Request) error {
				w.(http.Flusher).Flush()
				return errors.New("stream broke")
			},
			wantCode: 200, wantBody: "",
			wantLog: "stream broke",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := newRecordLogger()
			// The plugin router strips the mount from r.URL and puts the
			// plugin logger in the request state.
			r := httptest.NewRequest("GET", "/api/todo/todos/7", nil)
			r.URL.Path = "/todos/7"
			r = r.WithContext(reqctx.With(r.Context(), &reqctx.State{PluginID: "todo", Logger: log}))
			rec := httptest.NewRecorder()
			Handler(tt.fn).ServeHTTP(rec, r)
			if rec.Code != tt.wantCode || strings.TrimSpace(rec.Body.String()) != tt.wantBody {
				t.Errorf("got %d %s\nwant %d %s", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
			if tt.wantLog == "" && log.buf.Len() != 0 {
				t.Errorf("logged %q, want nothing", log.buf)
			}
			if tt.wantLog != "" && !strings.Contains(log.buf.String(), tt.wantLog) {
				t.Errorf("log = %q, want it to contain %q", log.buf, tt.wantLog)
			}
		})
	}
}

func TestHandlerLogsToSlogDefaultOutsideTheRouter(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	rec := httptest.NewRecorder()
	Handler(func(http.ResponseWriter, *http.Request) error { return errors.New("disk full") }).
		ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Code != 500 || !strings.Contains(buf.String(), "disk full") {
		t.Errorf("got %d, log %q; want 500 and the cause logged by slog.Default()", rec.Code, buf.String())
	}
}

func TestHandlerKeepsResponseController(t *testing.T) {
	// http.ResponseController reaches the real writer through Unwrap.
	var err error
	h := Handler(func(w http.ResponseWriter, r *http.Request) error {
		err = http.NewResponseController(w).SetWriteDeadline(deadline())
		return nil
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	resp, getErr := srv.Client().Get(srv.URL)
	if getErr != nil {
		t.Fatal(getErr)
	}
	resp.Body.Close()
	if err != nil {
		t.Errorf("SetWriteDeadline through the adapter: %v", err)
	}
}

func deadline() time.Time { return time.Time{} }

func TestHandlerInformationalHeaderDoesNotBeginTheResponse(t *testing.T) {
	// httptest.ResponseRecorder does not model 1xx responses; a server does.
	srv := httptest.NewServer(Handler(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		return errs.NewNotAllowed("no")
	}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "NotAllowedError") {
		t.Errorf("got %d %s, want the 403 error after the 103", resp.StatusCode, body)
	}
}
