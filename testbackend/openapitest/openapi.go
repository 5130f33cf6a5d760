package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testbackend/internal/extension"
	"github.com/greenroom-dev/greenroom/testbackend/internal/routepattern"
)

// Option configures the contract check of [WithOpenAPI].
type Option struct {
	apply func(*openAPIContract)
}

// LogCoverageGaps makes the check at the end of the test log, instead of
// failing the test, the routes the plugin serves that its document does not
// describe and the operations of the document the plugin does not serve:
// for a document that is being written. Requests and responses that break
// the document still fail the test.
func LogCoverageGaps() Option {
	return Option{apply: func(c *openAPIContract) { c.logGaps = true }}
}

// WithOpenAPI checks every request sent to the plugin pluginID, and every
// response it answers, against the plugin's OpenAPI 3 document spec (YAML
// or JSON; embed it with go:embed). The paths of the document are relative
// to the plugin's mount: "/todos" describes /api/todo/todos. The servers of
// the document are ignored.
//
// Every request that reaches the backend's root handler is checked, sent by
// [testbackend.Backend.Client] in-process or to the real listener of
// [testbackend.Backend.URL], by
// the test or by another plugin. A problem fails the test that started the
// backend (t.Errorf), naming the operation, the request and the schema
// error; the request is still served and its response returned unchanged.
// The rules:
//
//   - The response of a documented operation must have a status the
//     operation declares (or a default response), the declared content
//     type, and a body valid against the declared schema. This holds for
//     every status, so error responses (401 from the credentials barrier,
//     400, 404, ...) must be documented too.
//   - The request (path and query parameters, headers, body) must be valid
//     against the operation, and the operation must exist in the document,
//     but these are reported only when the plugin answered 2xx: a test may
//     send an invalid request on purpose to see it refused, and a refusal
//     (4xx, 5xx) shows the plugin did not accept it. A plugin that accepts
//     a request its document forbids is the contract broken.
//   - Security requirements of the document are not checked: the backend's
//     own auth decides who gets in, and the test's credentials are the
//     test's business.
//
// When the test ends, the routes the plugin registered (core.RouteLister)
// are compared with the document's operations: the routes the document
// does not describe and the operations the plugin does not serve fail the
// test in one message ([LogCoverageGaps] only logs them). A route pattern
// without a method is described by any operation on its path.
//
// WithOpenAPI fails the start, naming the plugin, if the document cannot
// be parsed or is not a valid OpenAPI 3 document.
func WithOpenAPI(pluginID string, spec []byte, opts ...Option) testbackend.Option {
	// Parsed once, here: every backend started with the option shares the
	// parsed document, which is only read.
	c, err := newOpenAPIContract(pluginID, spec)
	if err == nil {
		for _, o := range opts {
			if o.apply != nil {
				o.apply(c)
			}
		}
	}
	return extension.Option(&contractExtension{pluginID: pluginID, contract: c, err: err}).(testbackend.Option)
}

// contractExtension adds the check of one plugin's document to the
// backends of a setup.
type contractExtension struct {
	pluginID string
	contract *openAPIContract // nil when err is not
	err      error
}

// Add refuses a document that did not parse and a second document for
// the same plugin.
func (e *contractExtension) Add(added []extension.Extension) error {
	if e.err != nil {
		return fmt.Errorf("WithOpenAPI: plugin '%s': %w", e.pluginID, e.err)
	}
	for _, a := range added {
		if o, ok := a.(*contractExtension); ok && o.pluginID == e.pluginID {
			return fmt.Errorf("WithOpenAPI: plugin '%s' is given two documents; give one WithOpenAPI per plugin", e.pluginID)
		}
	}
	return nil
}

// Attach checks the requests of one backend; the coverage check runs when
// the test ends.
func (e *contractExtension) Attach(t testing.TB) extension.Instance {
	c := &contractChecker{t: t, contract: e.contract}
	t.Cleanup(func() { c.checkCoverage(t) })
	return c
}

// openAPIContract is the parsed document of one plugin. It holds no state
// of a backend: every backend of a Setup shares it.
type openAPIContract struct {
	pluginID string
	mount    string // "/api/<pluginId>"
	doc      *openapi3.T
	router   routers.Router
	logGaps  bool
}

func newOpenAPIContract(pluginID string, spec []byte) (*openAPIContract, error) {
	if pluginID == "" || strings.ContainsAny(pluginID, "/?# ") {
		return nil, fmt.Errorf("invalid plugin id %q; use the id the plugin is mounted under, such as \"todo\"", pluginID)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("parsing the OpenAPI document: %w; give the YAML or JSON of an OpenAPI 3 document", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is invalid: %w", err)
	}
	// Paths are relative to the plugin's mount, whatever servers says.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("routing the OpenAPI document's paths: %w", err)
	}
	return &openAPIContract{pluginID: pluginID, mount: "/api/" + pluginID, doc: doc, router: router}, nil
}

// contractChecker checks the requests of one backend to one plugin
// against its contract, failing t.
type contractChecker struct {
	t        testing.TB
	contract *openAPIContract
	listerMu sync.Mutex
	lister   core.RouteLister // set by Started
}

// Wrap returns h checking the requests to the plugin of the contract.
func (c *contractChecker) Wrap(h http.Handler) http.Handler {
	contract := c.contract
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !contract.isFor(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		var reqBody []byte
		if r.Body != nil && r.Body != http.NoBody {
			var err error
			reqBody, err = io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				http.Error(w, "openapitest: reading the request body for the OpenAPI check: "+err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		rec := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if problem := contract.check(r, reqBody, rec.status(), w.Header(), rec.body.Bytes()); problem != "" {
			c.t.Errorf("openapitest: WithOpenAPI: plugin '%s': %s", contract.pluginID, problem)
		}
	})
}

// isFor reports whether a request path is for the plugin of the contract.
func (c *openAPIContract) isFor(path string) bool {
	rest, ok := strings.CutPrefix(path, "/api/")
	if !ok {
		return false
	}
	id, _, _ := strings.Cut(rest, "/")
	return id == c.pluginID
}

// check returns what is wrong with a request and its response, or "".
func (c *openAPIContract) check(r *http.Request, reqBody []byte, status int, header http.Header, body []byte) string {
	ctx := context.Background()
	success := status >= 200 && status < 300
	// The document's view of the request: its path without the mount.
	dr := r.Clone(ctx)
	dr.URL.Path = strings.TrimPrefix(r.URL.Path, c.mount)
	dr.URL.RawPath = ""
	if dr.URL.Path == "" {
		dr.URL.Path = "/"
	}
	dr.Body = io.NopCloser(bytes.NewReader(reqBody))
	request := r.Method + " " + r.URL.RequestURI()
	route, pathParams, err := c.router.FindRoute(dr)
	if err != nil {
		if success {
			return fmt.Sprintf("%s was answered %d but the document describes no operation %s %s (%v); describe it under paths in the plugin's OpenAPI document, or remove the route",
				request, status, r.Method, dr.URL.Path, err)
		}
		return ""
	}
	op := fmt.Sprintf("operation %s %s", route.Method, route.Path)
	if route.Operation != nil && route.Operation.OperationID != "" {
		op += " (" + route.Operation.OperationID + ")"
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: dr, PathParams: pathParams, Route: route, Options: opts}
	var problems []string
	if success {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			problems = append(problems, fmt.Sprintf("the request does not match the document, yet the plugin answered %d: %v", status, err))
		}
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	if len(body) == 0 {
		rin.Body = http.NoBody
	}
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		problems = append(problems, fmt.Sprintf("the response %d (Content-Type %q) does not match the document: %v; body: %s",
			status, header.Get("Content-Type"), err, truncate(body, 300)))
	}
	if len(problems) == 0 {
		return ""
	}
	return fmt.Sprintf("%s, %s:\n  %s", request, op, strings.Join(problems, "\n  "))
}

func truncate(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// teeWriter passes a response through and keeps a copy of its status and
// body.
type teeWriter struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *teeWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the connection (Flush,
// Hijack, deadlines).
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Started finds the router of the plugin, once the backend started, for
// the coverage check at the end of the test.
func (c *contractChecker) Started(b *backend.Backend) error {
	id := c.contract.pluginID
	if !slices.Contains(b.PluginIDs(), id) {
		return fmt.Errorf("WithOpenAPI: plugin '%s' is not a plugin of the backend (it has %s); pass the plugin to Start or fix the id", id, strings.Join(b.PluginIDs(), ", "))
	}
	router, err := backend.Resolve(context.Background(), b, core.HTTPRouterRef, id)
	if err != nil {
		return fmt.Errorf("WithOpenAPI: plugin '%s': resolving its core.httpRouter: %w", id, err)
	}
	lister, ok := router.(core.RouteLister)
	if !ok {
		return fmt.Errorf("WithOpenAPI: plugin '%s': its core.httpRouter (%T) does not implement core.RouteLister, so its routes cannot be compared with the document", id, router)
	}
	c.listerMu.Lock()
	c.lister = lister
	c.listerMu.Unlock()
	return nil
}

// checkCoverage reports the routes the document does not describe and the
// operations the plugin does not serve, if the backend started.
func (c *contractChecker) checkCoverage(t testing.TB) {
	c.listerMu.Lock()
	lister := c.lister
	c.listerMu.Unlock()
	if lister == nil {
		return
	}
	contract := c.contract
	id := contract.pluginID
	var patterns []string
	for _, r := range lister.Routes() {
		patterns = append(patterns, r.Pattern)
	}
	undocumented, unserved := contract.coverage(patterns)
	if len(undocumented) == 0 && len(unserved) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "openapitest: WithOpenAPI: plugin '%s': its routes and its OpenAPI document differ:", id)
	for _, u := range undocumented {
		fmt.Fprintf(&b, "\n  route %q is served but the document does not describe it", u)
	}
	for _, u := range unserved {
		fmt.Fprintf(&b, "\n  operation %q is in the document but the plugin does not serve it", u)
	}
	b.WriteString("\nDescribe every route under paths (relative to /api/" + id + "), remove operations the plugin does not have, or pass openapitest.LogCoverageGaps() while the document is being written.")
	if contract.logGaps {
		t.Log(b.String())
	} else {
		t.Error(b.String())
	}
}

// pathParam matches a path parameter of a ServeMux pattern or of an
// OpenAPI path: {name}, {name...}.
var pathParam = regexp.MustCompile(`\{[^}$]*\}`)

// routeKey returns the comparable form of a path: parameters unnamed,
// {$} dropped.
func routeKey(path string) string {
	return pathParam.ReplaceAllString(strings.ReplaceAll(path, "{$}", ""), "{}")
}

// coverage compares the route patterns of the plugin's router with the
// document: the patterns it does not describe, and its operations ("GET
// /todos") that no pattern serves.
func (c *openAPIContract) coverage(patterns []string) (undocumented, unserved []string) {
	ops := map[string]bool{}     // "GET /todos/{}" of the document
	opPaths := map[string]bool{} // "/todos/{}"
	opNames := map[string]string{}
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			k := strings.ToUpper(method) + " " + routeKey(path)
			ops[k] = false
			opPaths[routeKey(path)] = false
			opNames[k] = strings.ToUpper(method) + " " + path
		}
	}
	for _, p := range patterns {
		method, path := routepattern.Split(p)
		key := routeKey(path)
		switch {
		case method == "":
			if _, ok := opPaths[key]; !ok {
				undocumented = append(undocumented, p)
				continue
			}
			for k := range ops {
				if strings.HasSuffix(k, " "+key) {
					ops[k] = true
				}
			}
		default:
			k := method + " " + key
			if _, ok := ops[k]; !ok {
				undocumented = append(undocumented, p)
				continue
			}
			ops[k] = true
			if method == http.MethodGet { // ServeMux serves HEAD with GET
				if _, ok := ops["HEAD "+key]; ok {
					ops["HEAD "+key] = true
				}
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ops)) {
		if !ops[k] {
			unserved = append(unserved, opNames[k])
		}
	}
	slices.Sort(undocumented)
	return undocumented, unserved
}
