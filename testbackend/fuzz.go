package testbackend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/errs"
)

// FuzzOption configures [Backend.FuzzRoutes].
type FuzzOption struct {
	apply func(*fuzzConfig)
}

type fuzzConfig struct {
	public []string
	bodies []string
}

// FuzzPublic lists the routes the test means to be open to callers without
// credentials, written as for [Backend.AssertSecureByDefault]: the route's
// pattern with the plugin's mount, such as "GET /api/todo/health".
func FuzzPublic(routes ...string) FuzzOption {
	return FuzzOption{apply: func(c *fuzzConfig) { c.public = append(c.public, routes...) }}
}

// FuzzBodies adds request bodies to the seed corpus, such as valid JSON
// bodies of the plugin's routes ({"title":"milk"}), from which the fuzzer
// mutates; "", "{}", "null", "[]" and a few malformed bodies are always
// seeds.
func FuzzBodies(bodies ...string) FuzzOption {
	return FuzzOption{apply: func(c *fuzzConfig) { c.bodies = append(c.bodies, bodies...) }}
}

// FuzzRoutes drives Go's native fuzzing over every route of every plugin of
// the backend, as [Backend.AssertSecureByDefault] lists them. Call it in a
// fuzz target, on a backend started with f; the backend serves every input
// of the fuzz process:
//
//	func FuzzTodoRoutes(f *testing.F) {
//		tb := testbackend.Start(f, todo.Plugin)
//		tb.FuzzRoutes(f, testbackend.FuzzPublic("GET /api/todo/health"))
//	}
//
// go test runs the seed corpus (and testdata/fuzz/<Name>); go test -fuzz
// mutates it. The seeds are every route with its own method, with each kind
// of caller and a few bodies, and with malformed path segments ("..",
// escapes, unicode, empty, very long).
//
// An input picks a route, a method (the route's or another), a string that
// fills the route's path wildcards (raw, %-escaped, appended as a segment
// of its own, or repeated to a very long one), a raw query, one header, a
// Content-Type, a body and a caller: none, a user, a service, an invalid
// token or a limited user (the auth cookie). A request fails the input,
// which is reported with the request (method, URL, headers, body) and the
// response, when:
//
//   - it is answered with a status of 500 or above;
//   - it is answered with a status of 400 or above and a body that is not
//     the JSON error body of package errs (Content-Type application/json,
//     error.name and error.message set, response.statusCode the status);
//     HEAD responses, which have no body, are not checked for one;
//   - it has no valid credentials (none, or an invalid token), is answered
//     2xx or 3xx, and does not match a route listed with [FuzzPublic]. An
//     input whose fuzzed header is Authorization or Cookie may carry
//     credentials of its own making: with the mock auth, a value holding a
//     mock token ("mock-" anywhere in it) is not checked for this, any
//     other value (a forged token) is; with [WithRealAuth] no such input
//     is checked, as a configured static token cannot be told apart. Nor is
//     the redirect with which net/http's ServeMux answers a path with "."
//     or ".." segments or double slashes, to the clean path, before any
//     route applies.
//
// Inputs that cannot be sent as a request are skipped, not failed: a URL
// that net/http cannot parse, a header name that is not an HTTP token or a
// value with control characters, and the framing headers the client writes
// itself (Host, Content-Length, Transfer-Encoding, Trailer, Connection).
// FuzzRoutes fails f at once when the backend has no routes or a listed
// public route is not one of them.
//
// Inputs run in parallel fuzz workers against one backend and one database
// per process; what the requests write stays for the later inputs.
func (tb *Backend) FuzzRoutes(f *testing.F, opts ...FuzzOption) {
	f.Helper()
	fz, err := tb.newFuzzer(f, opts...)
	if err != nil {
		f.Fatalf("testbackend: FuzzRoutes: %v", err)
	}
	for _, s := range fz.seeds() {
		f.Add(s.Route, s.Method, s.Segment, s.PathMode, s.Query, s.HeaderName, s.HeaderValue, s.ContentType, s.Body, s.Creds)
	}
	f.Fuzz(func(t *testing.T, route uint, method uint8, segment string, pathMode uint8, query, headerName, headerValue string, contentType uint8, body []byte, creds uint8) {
		t.Parallel() // the seeds run in parallel under go test; fuzzing ignores it
		res := fz.exec(t, fuzzInput{route, method, segment, pathMode, query, headerName, headerValue, contentType, body, creds})
		switch {
		case res.problem != "":
			t.Fatal(res.problem)
		case res.skip != "":
			t.Skip(res.skip)
		}
	})
}

// fuzzInput is one input of the fuzz target; the fields are its arguments,
// in order.
type fuzzInput struct {
	Route       uint   // index into the routes, modulo their number
	Method      uint8  // 0: the route's method; else fuzzMethods[Method % len]
	Segment     string // fills the path wildcards (see PathMode)
	PathMode    uint8  // pathRaw, pathEscaped, pathAppend or pathLong, modulo numPathModes
	Query       string // the raw query, without "?"
	HeaderName  string // one header, if not ""
	HeaderValue string
	ContentType uint8 // fuzzContentTypes[ContentType % len]
	Body        []byte
	Creds       uint8 // credsNone ... credsLimitedUser, modulo numCreds
}

// fuzzMethods are the methods of inputs whose Method is not 0.
var fuzzMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodHead, http.MethodOptions, "PROPFIND"}

// fuzzContentTypes are the Content-Types of the requests ("" sends none).
var fuzzContentTypes = []string{"application/json", "", "text/plain", "application/json; charset=utf-8",
	"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/merge-patch+json"}

// The callers of the requests.
const (
	credsNone uint8 = iota
	credsUser
	credsService
	credsInvalid
	credsLimitedUser
	numCreds
)

var credsNames = [numCreds]string{"no credentials", "a user token", "a service token", "an invalid user token", "a limited user token (cookie)"}

// The ways the segment fills the path.
const (
	pathRaw     uint8 = iota // wildcards replaced by the segment as it is
	pathEscaped              // wildcards replaced by the %-escaped segment
	pathAppend               // wildcards "1", the segment appended after a "/"
	pathLong                 // wildcards replaced by the escaped segment repeated past 4 KiB
	numPathModes
)

// fuzzer runs the inputs of [Backend.FuzzRoutes].
type fuzzer struct {
	tb     *Backend
	routes []listedRoute
	public *http.ServeMux  // the public routes, mounted, to match requests against
	isPub  map[string]bool // the patterns registered on public
	bodies []string
	client *http.Client // tb's transport, following no redirect
}

func (tb *Backend) newFuzzer(t testing.TB, opts ...FuzzOption) (*fuzzer, error) {
	var cfg fuzzConfig
	for _, o := range opts {
		o.apply(&cfg)
	}
	routes, _, problems := tb.listRoutes(t.Context())
	if len(problems) > 0 {
		return nil, fmt.Errorf("cannot list every route:\n  %s", strings.Join(problems, "\n  "))
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("the backend's plugins (%s) have no routes to fuzz; start the backend with the plugins whose routes the target fuzzes", strings.Join(tb.pluginIDs, ", "))
	}
	names := make(map[string]bool, len(routes))
	for _, r := range routes {
		names[r.name] = true
	}
	fz := &fuzzer{
		tb:     tb,
		routes: routes,
		public: http.NewServeMux(),
		isPub:  map[string]bool{},
		bodies: cfg.bodies,
		client: &http.Client{
			Transport:     tb.client.Transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	for _, p := range cfg.public {
		p = normalizePattern(p)
		if !names[p] {
			return nil, fmt.Errorf("FuzzPublic(%q): no plugin has that route; write the route's pattern with the plugin's mount, such as \"GET /api/todo/health\"", p)
		}
		if !fz.isPub[p] {
			fz.isPub[p] = true
			fz.public.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
		}
	}
	return fz, nil
}

// seeds returns the seed corpus: every route with its method and each
// caller, with a user and each body, and with malformed segments. It is
// small on purpose: -fuzz first runs every seed to gather coverage, and a
// short -fuzztime should leave time to mutate.
func (fz *fuzzer) seeds() []fuzzInput {
	bodies := append([]string{"", "{}", `{"`, "null", "[]", `{"a":1e999}`}, fz.bodies...)
	var in []fuzzInput
	for i, r := range fz.routes {
		for c := range numCreds {
			in = append(in, fuzzInput{Route: uint(i), Segment: "1", Creds: c})
		}
		if r.method == http.MethodPost || r.method == http.MethodPut || r.method == http.MethodPatch {
			for _, b := range bodies[1:] {
				in = append(in, fuzzInput{Route: uint(i), Segment: "1", Body: []byte(b), Creds: credsUser})
			}
		}
		for j, seg := range []string{"", "..", "%2e%2e", "0", "-1", "99999999999999999999", "ünïcödé", "%00", "a b", "../health", "x?y=1#z"} {
			in = append(in, fuzzInput{Route: uint(i), Segment: seg, PathMode: uint8(j) % numPathModes, Creds: credsUser})
		}
		in = append(in,
			fuzzInput{Route: uint(i), Method: 6, Segment: "1", Creds: credsNone},                                                // OPTIONS
			fuzzInput{Route: uint(i), Method: 7, Segment: "1", Creds: credsUser},                                                // PROPFIND
			fuzzInput{Route: uint(i), Segment: "1", Query: "limit=-1&offset=x&%zz", Creds: credsUser},                           // malformed query
			fuzzInput{Route: uint(i), Segment: "1", HeaderName: "Authorization", HeaderValue: "Bearer x.y.z", Creds: credsNone}, // a forged token
			fuzzInput{Route: uint(i), Segment: "1", HeaderName: "Accept", HeaderValue: "text/html", ContentType: 2, Body: []byte("x"), Creds: credsUser},
		)
	}
	return in
}

// fuzzResult is the outcome of one input: a problem to fail it with, a
// reason to skip it, or neither.
type fuzzResult struct {
	problem string
	skip    string
}

// exec sends the request of in and checks the response.
func (fz *fuzzer) exec(t testing.TB, in fuzzInput) fuzzResult {
	r := fz.routes[in.Route%uint(len(fz.routes))]
	method := r.method
	if in.Method != 0 {
		method = fuzzMethods[int(in.Method)%len(fuzzMethods)]
	}
	u := "/api/" + r.pluginID + fuzzPath(r.path, in.Segment, in.PathMode%numPathModes)
	if in.Query != "" {
		u += "?" + in.Query
	}
	// Inputs net/http cannot send are not requests.
	if _, err := http.NewRequest(method, u, nil); err != nil {
		return fuzzResult{skip: fmt.Sprintf("not a request: %v", err)}
	}
	if in.HeaderName != "" {
		if reason := invalidHeader(in.HeaderName, in.HeaderValue); reason != "" {
			return fuzzResult{skip: reason}
		}
	}
	creds := in.Creds % numCreds
	req := fz.tb.NewRequest(method, u, in.Body)
	if ct := fuzzContentTypes[int(in.ContentType)%len(fuzzContentTypes)]; ct != "" {
		req.WithHeader("Content-Type", ct)
	}
	if in.HeaderName != "" {
		req.header.Add(in.HeaderName, in.HeaderValue)
	}
	switch creds {
	case credsNone:
		req.WithoutCredentials()
	case credsUser:
		req.AsUser(defaultUserRef)
	case credsService:
		req.AsService(defaultServiceSubject)
	case credsInvalid:
		req.WithInvalidToken()
	case credsLimitedUser:
		req.AsLimitedUser(defaultUserRef)
	}
	hreq, err := req.build(t)
	if err != nil {
		return fuzzResult{problem: fmt.Sprintf("testbackend: FuzzRoutes: building %s %s as %s: %v", method, u, credsNames[creds], err)}
	}
	resp, err := fz.client.Do(hreq)
	if err != nil {
		return fuzzResult{problem: fmt.Sprintf("testbackend: FuzzRoutes: sending %s %s as %s: %v", method, u, credsNames[creds], err)}
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fuzzResult{problem: fmt.Sprintf("testbackend: FuzzRoutes: reading the response to %s %s: %v", method, u, err)}
	}
	h := http.CanonicalHeaderKey(in.HeaderName)
	anonymous := (creds == credsNone || creds == credsInvalid) && !((h == "Authorization" || h == "Cookie") && fz.mayAuthenticate(in.HeaderValue))
	if p := fz.check(hreq, resp, body, anonymous); p != "" {
		return fuzzResult{problem: fmt.Sprintf("testbackend: FuzzRoutes: route %q (plugin '%s'), sent with %s: %s\n%s",
			r.route.Pattern, r.pluginID, credsNames[creds], p, describeExchange(hreq, in.Body, resp, body))}
	}
	return fuzzResult{}
}

// check returns what is wrong with the response resp (its body read) to
// req, or "". anonymous says the request carries no valid credentials.
// mayAuthenticate reports whether value, of a fuzzed Authorization or
// Cookie header, may be valid credentials: with the mock auth only a value
// with a mock token in it ("mock-user-token", ...) can be.
func (fz *fuzzer) mayAuthenticate(value string) bool {
	if _, mock := fz.tb.auth.(mockAuth); mock {
		return strings.Contains(value, "mock-")
	}
	return true
}

func (fz *fuzzer) check(req *http.Request, resp *http.Response, body []byte, anonymous bool) string {
	status := resp.StatusCode
	switch {
	case status >= 500:
		return fmt.Sprintf("answered %s: a request, however malformed, must not be a server error; return an error of package errs (errs.NewInput, errs.NewNotFound, ...) for input the route refuses", resp.Status)
	case status >= 400:
		if req.Method == http.MethodHead {
			return ""
		}
		if p := checkErrorBody(status, resp.Header.Get("Content-Type"), body); p != "" {
			return fmt.Sprintf("answered %s with a body that is not the JSON error body of package errs: %s; write errors with errs.WriteJSON, or return them from an httpjson.Handler", resp.Status, p)
		}
	case anonymous && !fz.isPublic(req) && !isCleanPathRedirect(req, resp):
		return fmt.Sprintf("answered %s without valid credentials on a route not listed as public; require credentials (remove or narrow the auth policy that opens it), or list the route with testbackend.FuzzPublic", resp.Status)
	}
	return ""
}

// isCleanPathRedirect reports whether resp is the redirect with which
// net/http's ServeMux answers a path with "." or ".." segments or double
// slashes: to the clean path, before any route (and any credentials
// check) applies. It discloses nothing, and the clean path is a request
// of its own.
func isCleanPathRedirect(req *http.Request, resp *http.Response) bool {
	if resp.StatusCode < 300 || resp.StatusCode >= 400 {
		return false
	}
	clean := cleanPath(req.URL.Path)
	if clean == req.URL.Path {
		return false
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	return err == nil && loc.Host == "" && loc.Path == clean
}

// cleanPath is path.Clean keeping a trailing slash, as ServeMux cleans.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// isPublic reports whether req matches a route listed as public.
func (fz *fuzzer) isPublic(req *http.Request) bool {
	r := req.Clone(req.Context())
	r.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath}
	r.Host = ""
	// For a path to clean, Handler returns a redirect and the clean path
	// as the pattern: only a registered pattern is a match.
	_, pattern := fz.public.Handler(r)
	return fz.isPub[pattern]
}

// checkErrorBody returns what makes body, of Content-Type contentType, not
// the JSON error body of an error with status, or "".
func checkErrorBody(status int, contentType string, body []byte) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return fmt.Sprintf("its Content-Type is %q, want application/json", contentType)
	}
	var b struct {
		Error *struct {
			Name    *errs.Name `json:"name"`
			Message *string    `json:"message"`
		} `json:"error"`
		Request *struct {
			Method *string `json:"method"`
			URL    *string `json:"url"`
		} `json:"request"`
		Response *struct {
			StatusCode *int `json:"statusCode"`
		} `json:"response"`
	}
	switch err := json.Unmarshal(body, &b); {
	case err != nil:
		return fmt.Sprintf("it does not decode as JSON: %v", err)
	case b.Error == nil || b.Error.Name == nil || *b.Error.Name == "":
		return "error.name is missing"
	case b.Error.Message == nil:
		return "error.message is missing"
	case b.Request == nil || b.Request.Method == nil || b.Request.URL == nil:
		return "request.method or request.url is missing"
	case b.Response == nil || b.Response.StatusCode == nil:
		return "response.statusCode is missing"
	case *b.Response.StatusCode != status:
		return fmt.Sprintf("response.statusCode is %d, but the status is %d", *b.Response.StatusCode, status)
	}
	return ""
}

// fuzzPath returns the path pattern with its wildcards filled from seg as
// mode says. {$} is the end of the path.
func fuzzPath(pattern, seg string, mode uint8) string {
	fill := seg
	switch mode {
	case pathEscaped:
		fill = url.PathEscape(seg)
	case pathAppend:
		fill = "1"
	case pathLong:
		unit := url.PathEscape(seg) + "x"
		fill = strings.Repeat(unit, 4096/len(unit)+1)
	}
	p := wildcard.ReplaceAllStringFunc(pattern, func(w string) string {
		if w == "{$}" {
			return ""
		}
		return fill
	})
	if mode == pathAppend {
		p = strings.TrimSuffix(p, "/") + "/" + seg
	}
	return p
}

// invalidHeader returns why the header cannot be sent as a fuzzed header,
// or "".
func invalidHeader(name, value string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return fmt.Sprintf("header name %q is not an HTTP token", name)
		}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return fmt.Sprintf("header value %q has a control character", value)
		}
	}
	if slices.Contains([]string{"Host", "Content-Length", "Transfer-Encoding", "Trailer", "Connection"}, http.CanonicalHeaderKey(name)) {
		return fmt.Sprintf("header %s is written by the client itself", name)
	}
	return ""
}

// describeExchange reproduces a request and its response for a failure.
func describeExchange(req *http.Request, reqBody []byte, resp *http.Response, body []byte) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "request:\n  %s %s\n", req.Method, req.URL.RequestURI())
	for _, k := range slices.Sorted(maps.Keys(req.Header)) {
		for _, v := range req.Header[k] {
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}
	fmt.Fprintf(&b, "  body (%d bytes): %q\n", len(reqBody), reqBody)
	fmt.Fprintf(&b, "response:\n  %s\n", resp.Status)
	for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}
	fmt.Fprintf(&b, "  body (%d bytes): %q", len(body), body)
	return b.String()
}
