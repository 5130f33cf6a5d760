package errs_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/errs"
)

func TestStatusCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{errs.New(errs.NotModified, "same"), 304},
		{errs.NewInput("bad"), 400},
		{errs.NewAuthentication("who"), 401},
		{errs.NewNotAllowed("no"), 403},
		{errs.NewNotFound("gone"), 404},
		{errs.New(errs.MethodNotAllowed, "verb"), 405},
		{errs.NewConflict("clash"), 409},
		{errs.New(errs.PayloadTooLarge, "big"), 413},
		{errs.New(errs.Internal, "boom"), 500},
		{errs.New(errs.NotImplemented, "later"), 501},
		{errs.NewServiceUnavailable("down"), 503},
		{errs.New("MadeUpError", "?"), 500},
		{errors.New("plain"), 500},
		{fmt.Errorf("wrapped: %w", errs.NewNotFound("deep")), 404},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			if got := errs.StatusCode(tt.err); got != tt.want {
				t.Errorf("StatusCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestIsAndAs(t *testing.T) {
	cause := errors.New("disk on fire")
	err := fmt.Errorf("save todo: %w", errs.Wrap(errs.Conflict, cause, "todo %d changed", 7))
	if !errs.Is(err, errs.Conflict) || errs.Is(err, errs.NotFound) {
		t.Errorf("errs.Is mismatch for %v", err)
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(err, cause) = false; the cause must stay reachable")
	}
	if !errors.Is(err, errs.New(errs.Conflict, "")) {
		t.Errorf("errors.Is(err, any ConflictError) = false")
	}
	if errors.Is(err, errs.New(errs.Conflict, "other message")) {
		t.Errorf("errors.Is matched a ConflictError with another message")
	}
	e, ok := errs.As(err)
	if !ok || e.Message != "todo 7 changed" {
		t.Fatalf("As = %+v, %v", e, ok)
	}
	if got, want := e.Error(), "ConflictError: todo 7 changed: disk on fire"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := errs.NewInput("x").Error(), "InputError: x"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if _, ok := errs.As(errors.New("plain")); ok {
		t.Error("As(plain error) = ok")
	}
}

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		target     string
		wantStatus int
		wantBody   string
	}{
		{
			name: "input error", err: errs.NewInput("title is required"), target: "/api/todo/todos",
			wantStatus: 400,
			wantBody:   `{"error":{"name":"InputError","message":"title is required"},"request":{"method":"POST","url":"/api/todo/todos"},"response":{"statusCode":400}}`,
		},
		{
			name: "details", err: &errs.Error{Name: errs.Input, Message: "invalid body", Details: []map[string]string{{"field": "title", "message": "is required"}}},
			target: "/api/todo/todos?x=1", wantStatus: 400,
			wantBody: `{"error":{"name":"InputError","message":"invalid body","details":[{"field":"title","message":"is required"}]},"request":{"method":"POST","url":"/api/todo/todos?x=1"},"response":{"statusCode":400}}`,
		},
		{
			name: "internal errors leak nothing", err: fmt.Errorf("query: %w", errors.New("pq: password authentication failed for user secret")),
			target: "/api/todo/todos", wantStatus: 500,
			wantBody: `{"error":{"name":"InternalError","message":"Internal server error"},"request":{"method":"POST","url":"/api/todo/todos"},"response":{"statusCode":500}}`,
		},
		{
			name: "cause is never sent", err: errs.Wrap(errs.ServiceUnavailable, errors.New("dial tcp 10.0.0.7:5432"), "database unavailable"),
			target: "/api/todo/todos", wantStatus: 503,
			wantBody: `{"error":{"name":"ServiceUnavailableError","message":"database unavailable"},"request":{"method":"POST","url":"/api/todo/todos"},"response":{"statusCode":503}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, tt.target, nil)
			w := httptest.NewRecorder()
			errs.WriteJSON(w, r, tt.err)
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			if diff := cmp.Diff(tt.wantBody, strings.TrimSpace(w.Body.String())); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteJSONNotModifiedHasNoBody(t *testing.T) {
	w := httptest.NewRecorder()
	errs.WriteJSON(w, httptest.NewRequest(http.MethodGet, "/x", nil), errs.New(errs.NotModified, "unchanged"))
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Fatalf("got %d with body %q, want 304 with no body", w.Code, w.Body.String())
	}
}

func TestToBodyUsesURLWhenRequestURIUnset(t *testing.T) {
	r, err := http.NewRequest(http.MethodGet, "http://example.test/api/a/b?c=d", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := errs.ToBody(r, errs.NewNotFound("nope"))
	if b.Request.URL != "/api/a/b?c=d" || b.Request.Method != "GET" || b.Response.StatusCode != 404 {
		t.Fatalf("ToBody = %+v", b)
	}
}

func ExampleWriteJSON() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		errs.WriteJSON(w, r, errs.NewNotFound("todo %d not found", 42))
	}
	w := httptest.NewRecorder()
	handler(w, httptest.NewRequest(http.MethodGet, "/api/todo/todos/42", nil))
	body, _ := io.ReadAll(w.Result().Body)
	fmt.Println(w.Code)
	fmt.Print(string(body))
	// Output:
	// 404
	// {"error":{"name":"NotFoundError","message":"todo 42 not found"},"request":{"method":"GET","url":"/api/todo/todos/42"},"response":{"statusCode":404}}
}

func ExampleNew() {
	err := errs.New(errs.Conflict, "todo %d was changed by someone else", 7)
	fmt.Println(err, errs.StatusCode(err))
	// Output: ConflictError: todo 7 was changed by someone else 409
}

func ExampleWrap() {
	err := errs.Wrap(errs.ServiceUnavailable, errors.New("dial tcp: connection refused"), "the catalog is unavailable")
	b := errs.ToBody(httptest.NewRequest(http.MethodGet, "/api/x", nil), err)
	out, _ := json.Marshal(b.Error)
	fmt.Println(string(out))
	// Output: {"name":"ServiceUnavailableError","message":"the catalog is unavailable"}
}

func ExampleIs() {
	err := fmt.Errorf("load: %w", errs.NewNotFound("no such todo"))
	fmt.Println(errs.Is(err, errs.NotFound), errs.Is(err, errs.Input))
	// Output: true false
}

func ExampleNewInput() {
	err := errs.NewInput("title must be at most %d characters", 200)
	fmt.Println(err, errs.StatusCode(err))
	// Output: InputError: title must be at most 200 characters 400
}

func ExampleAs() {
	err := fmt.Errorf("update todo: %w", errs.NewConflict("todo 7 changed"))
	if e, ok := errs.As(err); ok {
		fmt.Println(e.Name, e.Message)
	}
	// Output: ConflictError todo 7 changed
}

func ExampleStatusCode() {
	fmt.Println(errs.StatusCode(errs.NewNotAllowed("no")), errs.StatusCode(errors.New("boom")))
	// Output: 403 500
}

func ExampleToBody() {
	b := errs.ToBody(httptest.NewRequest(http.MethodDelete, "/api/todo/todos/9", nil), errors.New("pq: secret detail"))
	out, _ := json.Marshal(b)
	fmt.Println(string(out))
	// Output: {"error":{"name":"InternalError","message":"Internal server error"},"request":{"method":"DELETE","url":"/api/todo/todos/9"},"response":{"statusCode":500}}
}
