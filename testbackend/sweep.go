package testbackend

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/testbackend/internal/routepattern"
)

// AssertSecureByDefault sends, for every route of every plugin of the
// backend, a request without credentials, and fails the test unless each
// is answered 401 Unauthorized, except the routes listed in public, which
// the test means to be open to anyone. It reports every offending route in
// one failure, with the auth policy that opened it when one did.
//
// A public route is written as the sweep reports it: the route's pattern
// with the plugin's mount, such as "GET /api/todo/health" for the pattern
// "GET /health" of plugin todo, or "/api/files/" for a pattern without a
// method. A listed route must exist and must answer without credentials,
// so that the list stays the exact set of public routes.
//
// Routes are those the plugins registered with core.HTTPRouter's Handle
// and HandleFunc, and those listed by a Use handler that implements
// core.RouteLister. Path wildcards are filled with a sample value ("1");
// a pattern without a method is requested with GET.
//
// A route answers without credentials when the barrier does not apply to
// it: an auth policy opens it, on purpose or broader than meant
// (AddAuthPolicy("/", core.AllowUnauthenticated) opens every route),
// backend.auth.dangerouslyDisableDefaultAuthPolicy is set, or the plugin
// replaced its router with one that does not check credentials. Only the
// list tells a public route from one opened by mistake.
func (tb *Backend) AssertSecureByDefault(t testing.TB, public ...string) {
	t.Helper()
	var offending, stale []string
	checked := 0
	wantPublic := make(map[string]bool, len(public))
	for _, p := range public {
		wantPublic[normalizePattern(p)] = false
	}
	routes, disabled, problems := tb.listRoutes(t.Context())
	for _, r := range routes {
		_, isPublic := wantPublic[r.name]
		if isPublic {
			wantPublic[r.name] = true
		}
		req, err := http.NewRequestWithContext(t.Context(), r.method, r.url, nil)
		if err != nil {
			problems = append(problems, fmt.Sprintf("plugin '%s': route %q: %v", r.pluginID, r.route.Pattern, err))
			continue
		}
		req = req.WithContext(withoutDefaultCredentials(req.Context()))
		checked++
		resp, err := tb.client.Do(req)
		if err != nil {
			problems = append(problems, fmt.Sprintf("plugin '%s': %s %s: %v", r.pluginID, r.method, r.url, err))
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		resp.Body.Close()
		switch {
		case isPublic && resp.StatusCode == http.StatusUnauthorized:
			stale = append(stale, fmt.Sprintf("%q (plugin '%s', route %q) is listed as public but answered %s without credentials", r.name, r.pluginID, r.route.Pattern, resp.Status))
		case isPublic, resp.StatusCode == http.StatusUnauthorized:
		default:
			offending = append(offending, fmt.Sprintf("plugin '%s': %s %s (route %q) answered %s without credentials; want 401 Unauthorized: %s; body: %s",
				r.pluginID, r.method, r.url, r.route.Pattern, resp.Status, openedBy(r.route, disabled), strings.TrimSpace(string(body))))
		}
	}
	for _, p := range public {
		if !wantPublic[normalizePattern(p)] {
			stale = append(stale, fmt.Sprintf("%q is listed as public but no plugin has that route (write the route's pattern with the plugin's mount, such as \"GET /api/todo/health\")", p))
		}
	}
	if len(offending) > 0 {
		hint := ""
		if disabled {
			hint = "\nbackend.auth.dangerouslyDisableDefaultAuthPolicy is set: it turns the credentials barrier off for every plugin; remove it from the test's config."
		}
		t.Errorf("testbackend: %d of %d routes answer requests without credentials:\n  %s\n"+
			"Every route must require credentials unless the test lists it as public: "+
			"for a route meant to be public, the plugin opens it with router.AddAuthPolicy(path, core.AllowUnauthenticated) "+
			"and the test passes it to AssertSecureByDefault, such as tb.AssertSecureByDefault(t, \"GET /api/todo/health\"); "+
			"otherwise narrow the auth policy that opened it.%s",
			len(offending), checked, strings.Join(offending, "\n  "), hint)
	}
	if len(stale) > 0 {
		t.Errorf("testbackend: AssertSecureByDefault: the public routes the test lists are not the public routes of the backend:\n  %s", strings.Join(stale, "\n  "))
	}
	if len(problems) > 0 {
		t.Errorf("testbackend: AssertSecureByDefault could not check every route:\n  %s", strings.Join(problems, "\n  "))
	}
}

// listedRoute is one route of one plugin, as the sweep and the fuzzer
// request it.
type listedRoute struct {
	pluginID string
	route    core.Route
	name     string // the pattern with the plugin's mount: "GET /api/todo/health"
	method   string // the pattern's method, GET for a pattern without one
	path     string // the pattern's path relative to the mount, wildcards kept
	url      string // a sample URL: /api/<pluginId> and the path, wildcards filled with "1"
}

// listRoutes lists every route of every plugin of the backend, in the
// order of the plugins and of their routers' Routes. disabled reports
// backend.auth.dangerouslyDisableDefaultAuthPolicy. problems names the
// plugins whose routes cannot be listed and the routes that cannot be
// requested.
func (tb *Backend) listRoutes(ctx context.Context) (routes []listedRoute, disabled bool, problems []string) {
	// With the barrier disabled, routers report every route as open,
	// whatever the plugin's policies.
	if cfg, err := backend.Resolve(ctx, tb.b, core.RootConfigRef, ""); err == nil {
		disabled, _, _ = cfg.OptionalBool(disableAuthPolicyKey)
	}
	for _, id := range tb.pluginIDs {
		router, err := backend.Resolve(ctx, tb.b, core.HTTPRouterRef, id)
		if err != nil {
			problems = append(problems, fmt.Sprintf("plugin '%s': resolving its core.httpRouter: %v", id, err))
			continue
		}
		lister, ok := router.(core.RouteLister)
		if !ok {
			problems = append(problems, fmt.Sprintf("plugin '%s': its core.httpRouter (%T) does not implement core.RouteLister, so its routes cannot be swept", id, router))
			continue
		}
		for _, route := range lister.Routes() {
			method, path, err := sampleRequest(route.Pattern)
			if err != nil {
				problems = append(problems, fmt.Sprintf("plugin '%s': route %q: %v", id, route.Pattern, err))
				continue
			}
			_, rest := routepattern.Split(route.Pattern)
			routes = append(routes, listedRoute{
				pluginID: id,
				route:    route,
				name:     mountedPattern(id, route.Pattern),
				method:   method,
				path:     rest,
				url:      "/api/" + id + path,
			})
		}
	}
	return routes, disabled, problems
}

// openedBy says why a route answered without credentials.
func openedBy(route core.Route, disabled bool) string {
	switch {
	case disabled:
		return disableAuthPolicyKey + " is set"
	case route.Policy == core.AllowUnauthenticated && route.PolicyPath != "":
		return fmt.Sprintf("AddAuthPolicy(%q, core.AllowUnauthenticated) opens it", route.PolicyPath)
	case route.Policy == core.AllowUnauthenticated:
		return "an auth policy opens it to callers without credentials"
	case route.Policy != "":
		return fmt.Sprintf("its auth policy is %q, which still requires credentials", route.Policy)
	default:
		return "no auth policy covers it"
	}
}

// mountedPattern returns the pattern of a plugin's route with the plugin's
// mount, "GET /api/<pluginId>/health", as a test lists a public route.
func mountedPattern(pluginID, pattern string) string {
	method, path := routepattern.Split(pattern)
	return normalizePattern(method + " /api/" + pluginID + path)
}

// normalizePattern trims a pattern and separates its method and path with
// one space.
func normalizePattern(p string) string {
	method, rest, found := strings.Cut(strings.TrimSpace(p), " ")
	if !found {
		return method
	}
	if method == "" {
		return strings.TrimSpace(rest)
	}
	return method + " " + strings.TrimSpace(rest)
}

// disableAuthPolicyKey turns the credentials barrier off.
const disableAuthPolicyKey = "backend.auth.dangerouslyDisableDefaultAuthPolicy"

// wildcard matches a ServeMux path wildcard: {name}, {name...} or {$}.
var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// sampleRequest returns a method and a concrete path matching the
// net/http ServeMux pattern, relative to a plugin's mount.
func sampleRequest(pattern string) (method, path string, err error) {
	method, rest := routepattern.Split(pattern)
	if method == "" {
		method = http.MethodGet
	}
	if !strings.HasPrefix(rest, "/") {
		return "", "", fmt.Errorf("cannot build a request for the pattern: its path does not start with /")
	}
	path = wildcard.ReplaceAllStringFunc(rest, func(w string) string {
		if w == "{$}" {
			return ""
		}
		return "1"
	})
	return method, path, nil
}
