package testbackend

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/httpjson"
)

// brokenPlugin has one route for each fault the fuzzer must report, and
// two well-behaved routes that it must not.
var brokenPlugin = backend.NewPlugin("broken", backend.Init(func(_ context.Context, d struct{ Router core.HTTPRouter }) error {
	// A server error on input the route does not expect: an id that is
	// not a number.
	d.Router.Handle("GET /items/{id}", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := strconv.Atoi(r.PathValue("id")); err != nil {
			return errors.New("parsing the id: " + err.Error())
		}
		return httpjson.Write(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	}))
	// An error written as text/plain, outside the JSON error shape.
	d.Router.HandleFunc("GET /text/{id}", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such item", http.StatusNotFound)
	})
	// A route opened to anyone by an auth policy broader than meant.
	d.Router.Handle("GET /open", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
		return httpjson.Write(w, http.StatusOK, map[string]string{"secret": "s3cr3t"})
	}))
	d.Router.AddAuthPolicy("/open", core.AllowUnauthenticated)
	// Well behaved: a public health check, and a route that refuses bad
	// input with a JSON InputError.
	d.Router.Handle("GET /health", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
		return httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	d.Router.AddAuthPolicy("/health", core.AllowUnauthenticated)
	d.Router.Handle("POST /ok/{id}", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := strconv.Atoi(r.PathValue("id")); err != nil {
			return errs.NewInput("id must be a number")
		}
		var body struct {
			Title string `json:"title"`
		}
		if err := httpjson.Decode(r, &body); err != nil {
			return err
		}
		return httpjson.Write(w, http.StatusCreated, body)
	}))
	return nil
}))

func newBrokenFuzzer(t *testing.T, opts ...FuzzOption) *fuzzer {
	t.Helper()
	tb := Start(t, brokenPlugin)
	fz, err := tb.newFuzzer(t, append([]FuzzOption{FuzzPublic("GET /api/broken/health")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return fz
}

// routeIndex returns the index of the route with the pattern.
func routeIndex(t *testing.T, fz *fuzzer, pattern string) uint {
	t.Helper()
	for i, r := range fz.routes {
		if r.route.Pattern == pattern {
			return uint(i)
		}
	}
	t.Fatalf("no route %q among %+v", pattern, fz.routes)
	return 0
}

// TestFuzzReportsEachFault: crafted inputs of each fault are reported with
// the request reproduced, and the well-behaved routes are not.
func TestFuzzReportsEachFault(t *testing.T) {
	t.Parallel()
	fz := newBrokenFuzzer(t)
	tests := []struct {
		name    string
		in      fuzzInput
		want    []string // substrings of the problem; none: no problem
		wantNot bool
	}{
		{"server error", fuzzInput{Route: routeIndex(t, fz, "GET /items/{id}"), Segment: "x", Creds: credsUser},
			[]string{`route "GET /items/{id}" (plugin 'broken')`, "answered 500 Internal Server Error", "GET /api/broken/items/x", "Authorization: Bearer ", `InternalError`}, false},
		{"text/plain error", fuzzInput{Route: routeIndex(t, fz, "GET /text/{id}"), Segment: "1", Creds: credsUser},
			[]string{"answered 404 Not Found with a body that is not the JSON error body", `Content-Type is "text/plain; charset=utf-8"`, `"no such item\n"`}, false},
		{"open route, no credentials", fuzzInput{Route: routeIndex(t, fz, "GET /open"), Creds: credsNone},
			[]string{"sent with no credentials", "answered 200 OK without valid credentials on a route not listed as public", "s3cr3t"}, false},
		{"open route, invalid token", fuzzInput{Route: routeIndex(t, fz, "GET /open"), Creds: credsInvalid},
			[]string{"sent with an invalid user token", "answered 200 OK without valid credentials"}, false},
		{"open route, user", fuzzInput{Route: routeIndex(t, fz, "GET /open"), Creds: credsUser}, nil, true},
		{"open route, a forged Authorization header", fuzzInput{Route: routeIndex(t, fz, "GET /open"), HeaderName: "authorization", HeaderValue: "Bearer x", Creds: credsNone},
			[]string{"sent with no credentials", "answered 200 OK without valid credentials", "Authorization: Bearer x"}, false},
		{"open route, a forged Cookie header", fuzzInput{Route: routeIndex(t, fz, "GET /open"), HeaderName: "Cookie", HeaderValue: "greenroom-token=x", Creds: credsNone},
			[]string{"answered 200 OK without valid credentials"}, false},
		{"open route, a mock token in the fuzzed Authorization header", fuzzInput{Route: routeIndex(t, fz, "GET /open"), HeaderName: "Authorization", HeaderValue: "Bearer mock-user-token", Creds: credsNone}, nil, true},
		{"path to clean, no credentials", fuzzInput{Route: routeIndex(t, fz, "POST /ok/{id}"), Segment: "..", Creds: credsNone}, nil, true},
		{"public route", fuzzInput{Route: routeIndex(t, fz, "GET /health"), Creds: credsNone}, nil, true},
		{"public route, HEAD", fuzzInput{Route: routeIndex(t, fz, "GET /health"), Method: 5, Creds: credsNone}, nil, true},
		{"protected route, no credentials", fuzzInput{Route: routeIndex(t, fz, "POST /ok/{id}"), Segment: "1", Creds: credsNone}, nil, true},
		{"bad input", fuzzInput{Route: routeIndex(t, fz, "POST /ok/{id}"), Segment: "..", PathMode: pathEscaped, Body: []byte(`{"`), Creds: credsService}, nil, true},
		{"good input", fuzzInput{Route: routeIndex(t, fz, "POST /ok/{id}"), Segment: "7", Body: []byte(`{"title":"x"}`), Creds: credsUser}, nil, true},
		{"limited user", fuzzInput{Route: routeIndex(t, fz, "POST /ok/{id}"), Segment: "7", Creds: credsLimitedUser}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := fz.exec(t, tt.in)
			if res.skip != "" {
				t.Fatalf("skipped: %s", res.skip)
			}
			if tt.wantNot {
				if res.problem != "" {
					t.Fatalf("reported, want no problem:\n%s", res.problem)
				}
				return
			}
			if res.problem == "" {
				t.Fatalf("not reported, want a problem with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.problem, w) {
					t.Errorf("problem lacks %q:\n%s", w, res.problem)
				}
			}
		})
	}
}

// TestFuzzSeedsFindEveryFault runs the seed corpus through the fuzz body,
// as go test does: each broken route is reported by some seed, and the
// well-behaved routes by none.
func TestFuzzSeedsFindEveryFault(t *testing.T) {
	t.Parallel()
	fz := newBrokenFuzzer(t, FuzzBodies(`{"title":"x"}`))
	reported := map[string]int{}
	for _, in := range fz.seeds() {
		res := fz.exec(t, in)
		if res.skip != "" {
			t.Errorf("seed %+v skipped: %s", in, res.skip)
		}
		if res.problem != "" {
			reported[fz.routes[in.Route].route.Pattern]++
		}
	}
	for _, p := range []string{"GET /items/{id}", "GET /text/{id}", "GET /open"} {
		if reported[p] == 0 {
			t.Errorf("no seed reported the faulty route %q; reports: %v", p, reported)
		}
	}
	for _, p := range []string{"GET /health", "POST /ok/{id}"} {
		if n := reported[p]; n > 0 {
			t.Errorf("%d seeds reported the well-behaved route %q", n, p)
		}
	}
}

func TestFuzzRefusesWhatItCannotCheck(t *testing.T) {
	t.Parallel()
	tb := Start(t, brokenPlugin)
	if _, err := tb.newFuzzer(t, FuzzPublic("GET /api/broken/nope")); err == nil || !strings.Contains(err.Error(), `FuzzPublic("GET /api/broken/nope"): no plugin has that route`) {
		t.Errorf("a public route that does not exist: error %v", err)
	}
	empty := backend.NewPlugin("empty", backend.Init(func(context.Context, struct{}) error { return nil }))
	if _, err := Start(t, empty).newFuzzer(t); err == nil || !strings.Contains(err.Error(), "have no routes to fuzz") {
		t.Errorf("no routes: error %v", err)
	}
}

func TestCheckErrorBody(t *testing.T) {
	t.Parallel()
	const good = `{"error":{"name":"NotFoundError","message":"x"},"request":{"method":"GET","url":"/a"},"response":{"statusCode":404}}`
	tests := []struct {
		contentType, body, want string
	}{
		{"application/json; charset=utf-8", good, ""},
		{"application/json", good, ""},
		{"text/plain", good, `Content-Type is "text/plain"`},
		{"", good, `Content-Type is ""`},
		{"application/json", "not json", "does not decode as JSON"},
		{"application/json", `{"error":{"message":"x"},"request":{"method":"GET","url":"/a"},"response":{"statusCode":404}}`, "error.name is missing"},
		{"application/json", `{"error":{"name":"NotFoundError"},"request":{"method":"GET","url":"/a"},"response":{"statusCode":404}}`, "error.message is missing"},
		{"application/json", `{"error":{"name":"NotFoundError","message":"x"},"response":{"statusCode":404}}`, "request.method or request.url is missing"},
		{"application/json", `{"error":{"name":"NotFoundError","message":"x"},"request":{"method":"GET","url":"/a"}}`, "response.statusCode is missing"},
		{"application/json", strings.Replace(good, "404", "400", 1), "response.statusCode is 400, but the status is 404"},
	}
	for _, tt := range tests {
		got := checkErrorBody(http.StatusNotFound, tt.contentType, []byte(tt.body))
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("checkErrorBody(404, %q, %s) = %q, want %q", tt.contentType, tt.body, got, tt.want)
		}
	}
}

func TestFuzzPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, seg string
		mode         uint8
		want         string
	}{
		{"/todos/{id}", "a b", pathRaw, "/todos/a b"},
		{"/todos/{id}", "a b", pathEscaped, "/todos/a%20b"},
		{"/todos/{id}", "..", pathAppend, "/todos/1/.."},
		{"/files/{p...}", "x", pathRaw, "/files/x"},
		{"/{$}", "x", pathRaw, "/"},
		{"/", "x", pathAppend, "/x"},
	}
	for _, tt := range tests {
		if got := fuzzPath(tt.pattern, tt.seg, tt.mode); got != tt.want {
			t.Errorf("fuzzPath(%q, %q, %d) = %q, want %q", tt.pattern, tt.seg, tt.mode, got, tt.want)
		}
	}
	if got := fuzzPath("/todos/{id}", "ü", pathLong); len(got) <= 4096 || !strings.HasPrefix(got, "/todos/%C3%BCx%C3%BCx") {
		t.Errorf("fuzzPath long = %.40q... (%d bytes), want the escaped segment repeated past 4 KiB", got, len(got))
	}
}

func TestInvalidHeader(t *testing.T) {
	t.Parallel()
	for _, h := range [][2]string{{"X-A", "b"}, {"Accept", "text/html"}, {"X-Tab", "a\tb"}, {"Authorization", "Bearer x"}} {
		if r := invalidHeader(h[0], h[1]); r != "" {
			t.Errorf("invalidHeader(%q, %q) = %q, want valid", h[0], h[1], r)
		}
	}
	for _, h := range [][2]string{{"X A", "b"}, {"X:A", "b"}, {"X-ü", "b"}, {"X-A", "a\nb"}, {"X-A", "a\x00"}, {"host", "x"}, {"Content-Length", "1"}} {
		if r := invalidHeader(h[0], h[1]); r == "" {
			t.Errorf("invalidHeader(%q, %q) = \"\", want a reason", h[0], h[1])
		}
	}
}

// TestFuzzCheckRedirects: only ServeMux's redirect of a path to clean, to
// the clean path, passes without credentials; any other redirect is an
// answer.
func TestFuzzCheckRedirects(t *testing.T) {
	t.Parallel()
	fz := newBrokenFuzzer(t)
	tests := []struct {
		path, location string
		reported       bool
	}{
		{"/api/broken/ok/..", "/api/broken/", true},       // the clean path keeps no slash: not ServeMux's
		{"/api/broken/ok/..", "/api/broken", false},       // ServeMux's redirect
		{"/api/broken/ok//1", "/api/broken/ok/1", false},  // double slash
		{"/api/broken/ok/..", "https://evil.test/", true}, // elsewhere
		{"/api/broken/ok/1", "/api/broken/ok/1", true},    // a clean path redirected
		{"/api/broken/ok/../x/", "/api/broken/x/", false}, // the trailing slash is kept
		{"/api/broken/health/..", "/api/broken", false},   // a clean-path redirect
		{"/api/broken/ok/1", "/api/broken/health", true},  // to a public route, from a private one
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodPost, tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp := &http.Response{StatusCode: http.StatusTemporaryRedirect, Status: "307 Temporary Redirect", Header: http.Header{"Location": {tt.location}}}
		got := fz.check(req, resp, nil, true)
		if (got != "") != tt.reported {
			t.Errorf("check(POST %s → 307 %s) = %q, want reported %v", tt.path, tt.location, got, tt.reported)
		}
	}
	// The backend answers the path to clean with that redirect.
	res := fz.client
	req, _ := http.NewRequestWithContext(withoutDefaultCredentials(t.Context()), http.MethodPost, "/api/broken/ok/..", nil)
	resp, err := res.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 || !isCleanPathRedirect(req, resp) {
		t.Errorf("POST /api/broken/ok/..: %s Location %q, want a redirect to the clean path", resp.Status, resp.Header.Get("Location"))
	}
}
