package testbackend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/errs"
)

// Request is a request to the test backend being built: a method, a path,
// an optional body, headers, and who it is sent as. Build it with
// [Backend.Get] and its siblings, chain the As and With methods, and send
// it with [Request.Do]. Methods return the Request for chaining.
type Request struct {
	tb     *Backend
	method string
	path   string
	body   any
	header http.Header
	as     caller
	ctx    context.Context
}

// Get starts a GET request for path, such as "/api/todo/todos".
func (tb *Backend) Get(path string) *Request { return tb.NewRequest(http.MethodGet, path, nil) }

// Post starts a POST request for path with a JSON body; see
// [Backend.NewRequest].
func (tb *Backend) Post(path string, body any) *Request {
	return tb.NewRequest(http.MethodPost, path, body)
}

// Put starts a PUT request for path with a JSON body.
func (tb *Backend) Put(path string, body any) *Request {
	return tb.NewRequest(http.MethodPut, path, body)
}

// Patch starts a PATCH request for path with a JSON body.
func (tb *Backend) Patch(path string, body any) *Request {
	return tb.NewRequest(http.MethodPatch, path, body)
}

// Delete starts a DELETE request for path.
func (tb *Backend) Delete(path string) *Request {
	return tb.NewRequest(http.MethodDelete, path, nil)
}

// NewRequest starts a request. A body is sent as is if it is a []byte, a
// string or an io.Reader, and encoded as JSON otherwise, with the
// Content-Type application/json; nil is no body. A request can be sent
// more than once, except with an io.Reader body, which the first send
// reads.
//
// The request is sent with no credentials unless an As method says
// otherwise or the backend has a default user ([WithDefaultUser]).
func (tb *Backend) NewRequest(method, path string, body any) *Request {
	return &Request{tb: tb, method: method, path: path, body: body, header: http.Header{}}
}

// AsUser sends the request with a full user token for userEntityRef
// ("user:default/alice"), signed by the backend's auth: a mock token with
// the mock auth service, a real signed token with [WithRealAuth].
func (r *Request) AsUser(userEntityRef string) *Request {
	r.as = caller{kind: callerUser, ref: userEntityRef}
	return r
}

// AsLimitedUser sends the request with the auth cookie ("greenroom-auth")
// holding a limited user token for userEntityRef, as a browser does for
// images. Only paths with a user-cookie auth policy accept it.
func (r *Request) AsLimitedUser(userEntityRef string) *Request {
	r.as = caller{kind: callerLimitedUser, ref: userEntityRef}
	return r
}

// AsService sends the request with a service token of subject: a plugin
// ("plugin:catalog"), whose token targets the plugin the path is under, or
// an external caller ("external:ci-bot"). Chain [Request.OnBehalfOf] for a
// plugin calling on behalf of a user.
//
// With [WithRealAuth], a plugin subject must be a plugin of the backend
// (its real Auth service issues the token), and an external subject must
// have a static token in backend.auth.externalAccess; the test backend
// configures one for "external:test-service".
func (r *Request) AsService(subject string) *Request {
	r.as = caller{kind: callerService, subject: subject}
	return r
}

// OnBehalfOf makes the service token of [Request.AsService] carry the user
// userEntityRef: the receiving plugin sees that user's credentials.
func (r *Request) OnBehalfOf(userEntityRef string) *Request {
	r.as.onBehalfOf = userEntityRef
	return r
}

// WithoutCredentials sends the request with no credentials, even when the
// backend has a default user.
func (r *Request) WithoutCredentials() *Request {
	r.as = caller{kind: callerNone}
	return r
}

// WithInvalidToken replaces the token of the chosen identity (a user by
// default) with an invalid one of the same kind, for negative tests: with
// the mock auth service, the mock's invalid token; with real auth, the real
// token with its signature broken.
func (r *Request) WithInvalidToken() *Request {
	if r.as.kind == callerDefault || r.as.kind == callerNone {
		r.as = caller{kind: callerUser, ref: defaultUserRef}
	}
	r.as.invalid = true
	return r
}

// WithHeader sets a header of the request.
func (r *Request) WithHeader(key, value string) *Request {
	r.header.Set(key, value)
	return r
}

// WithContext sets the context of the request; it is the test's context
// by default.
func (r *Request) WithContext(ctx context.Context) *Request {
	r.ctx = ctx
	return r
}

// Build returns the *http.Request, with the credentials of the chosen
// identity in its Authorization header (or Cookie), for use with
// [Backend.Client] or another client. It fails the test if the body cannot
// be encoded or the credentials cannot be minted.
func (r *Request) Build(t testing.TB) *http.Request {
	t.Helper()
	req, err := r.build(t)
	if err != nil {
		t.Fatalf("testbackend: %s %s: %v", r.method, r.path, err)
	}
	return req
}

func (r *Request) build(t testing.TB) (*http.Request, error) {
	ctx := r.ctx
	if ctx == nil {
		ctx = t.Context()
	}
	var body io.Reader
	isJSON := false
	switch b := r.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
	case io.Reader:
		body = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encoding the body as JSON: %w", err)
		}
		body, isJSON = bytes.NewReader(data), true
	}
	if r.as.kind != callerDefault {
		ctx = withoutDefaultCredentials(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.path, body)
	if err != nil {
		return nil, err
	}
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if err := r.tb.attach(ctx, req, r.as); err != nil {
		return nil, err
	}
	return req, nil
}

// Do sends the request through [Backend.Client] and returns the response,
// its body read. It fails the test if the request cannot be sent.
func (r *Request) Do(t testing.TB) *Response {
	// t.Helper is called before a failure only: it walks the stack, and
	// Do runs for every request. (Do fails the test only itself.)
	req, err := r.build(t)
	if err != nil {
		t.Helper()
		t.Fatalf("testbackend: %s %s: %v", r.method, r.path, err)
	}
	resp, err := r.tb.client.Do(req)
	if err != nil {
		t.Helper()
		t.Fatalf("testbackend: %s %s: %v", r.method, r.path, err)
	}
	if b, ok := resp.Body.(*recordedBody); ok && b.Len() == len(b.data) {
		// Served in-process and unread: the body is in memory already.
		return &Response{Response: resp, body: b.data}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Helper()
		t.Fatalf("testbackend: %s %s: reading the response body: %v", r.method, r.path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return &Response{Response: resp, body: body}
}

// Response is a response of the test backend, its body read. The
// embedded *http.Response's Body reads the same bytes as [Response.Bytes].
type Response struct {
	*http.Response
	body []byte
}

// Bytes returns the body.
func (r *Response) Bytes() []byte { return r.body }

// String returns the status line and the body, as shown in failures.
func (r *Response) String() string {
	return fmt.Sprintf("%s %s: %s %s", r.Request.Method, r.Request.URL.RequestURI(), r.Status, bytes.TrimSpace(r.body))
}

// ExpectStatus fails the test now, showing the body, if the status code is
// not want.
func (r *Response) ExpectStatus(t testing.TB, want int) *Response {
	if r.StatusCode != want {
		t.Helper() // only on failure, as in Request.Do
		t.Fatalf("%s %s: status %d %s, want %d %s; body:\n%s", r.Request.Method, r.Request.URL.RequestURI(),
			r.StatusCode, http.StatusText(r.StatusCode), want, http.StatusText(want), bytes.TrimSpace(r.body))
	}
	return r
}

// DecodeJSON decodes the body into v, failing the test now if it is not
// JSON that fits v.
func (r *Response) DecodeJSON(t testing.TB, v any) *Response {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s %s: decoding the body as %T: %v; body:\n%s", r.Request.Method, r.Request.URL.RequestURI(), v, err, bytes.TrimSpace(r.body))
	}
	return r
}

// ExpectJSON decodes the body into a new value of want's type and reports
// a difference from want as a go-cmp diff (-want +got). opts are passed to
// cmp.Diff, for example cmpopts.IgnoreFields to skip timestamps. Unlike
// ExpectStatus it lets the test go on.
func (r *Response) ExpectJSON(t testing.TB, want any, opts ...cmp.Option) *Response {
	t.Helper()
	if want == nil {
		t.Fatalf("ExpectJSON: want is nil; pass the value the body should decode to")
	}
	got := reflect.New(reflect.TypeOf(want))
	if err := json.Unmarshal(r.body, got.Interface()); err != nil {
		t.Errorf("%s %s: decoding the body as %T: %v; body:\n%s", r.Request.Method, r.Request.URL.RequestURI(), want, err, bytes.TrimSpace(r.body))
		return r
	}
	if diff := cmp.Diff(want, got.Elem().Interface(), opts...); diff != "" {
		t.Errorf("%s %s: body mismatch (-want +got):\n%s", r.Request.Method, r.Request.URL.RequestURI(), diff)
	}
	return r
}

// ExpectError fails the test now unless the response is the JSON error
// body (package errs) of an error named name with its status code, such as
// errs.NotFound and 404. It returns the decoded body, to check the message.
func (r *Response) ExpectError(t testing.TB, name errs.Name) errs.Body {
	t.Helper()
	r.ExpectStatus(t, (&errs.Error{Name: name}).StatusCode())
	var b errs.Body
	r.DecodeJSON(t, &b)
	if b.Error.Name != name {
		t.Fatalf("%s %s: error %q, want %q; body:\n%s", r.Request.Method, r.Request.URL.RequestURI(), b.Error.Name, name, bytes.TrimSpace(r.body))
	}
	return b
}
