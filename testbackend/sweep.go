package testbackend

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// AssertSecureByDefault sends, for every route of every plugin of the
// backend, a request without credentials, and fails the test unless each
// is answered 401, except routes an unauthenticated auth policy opens. It
// reports every offending route in one failure.
//
// Routes are those the plugins registered with core.HTTPRouter's Handle
// and HandleFunc, and those listed by a Use handler that implements
// core.RouteLister. Path wildcards are filled with a sample value ("1");
// a pattern without a method is requested with GET.
//
// A route answers without credentials when the barrier does not apply to
// it: backend.auth.dangerouslyDisableDefaultAuthPolicy is set, an auth
// policy is broader than meant ("/" opens every route), or the plugin
// replaced its router with one that does not check credentials.
func (tb *Backend) AssertSecureByDefault(t testing.TB) {
	t.Helper()
	var offending, problems []string
	checked := 0
	// With the barrier disabled, routers report every route as open; the
	// sweep then checks every route, since no policy is what opens them.
	disabled := false
	if cfg, err := backend.Resolve(t.Context(), tb.b, core.RootConfigRef, ""); err == nil {
		disabled, _, _ = cfg.OptionalBool(disableAuthPolicyKey)
	}
	for _, id := range tb.pluginIDs {
		router, err := backend.Resolve(t.Context(), tb.b, core.HTTPRouterRef, id)
		if err != nil {
			problems = append(problems, fmt.Sprintf("plugin '%s': resolving its core.httpRouter: %v", id, err))
			continue
		}
		reporter, ok := router.(core.RouteReporter)
		if !ok {
			problems = append(problems, fmt.Sprintf("plugin '%s': its core.httpRouter (%T) does not implement core.RouteReporter, so its routes cannot be swept", id, router))
			continue
		}
		for _, route := range reporter.Routes() {
			if route.Policy == core.AllowUnauthenticated && !disabled {
				continue
			}
			method, path, err := sampleRequest(route.Pattern)
			if err != nil {
				problems = append(problems, fmt.Sprintf("plugin '%s': route %q: %v", id, route.Pattern, err))
				continue
			}
			url := "/api/" + id + path
			req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
			if err != nil {
				problems = append(problems, fmt.Sprintf("plugin '%s': route %q: %v", id, route.Pattern, err))
				continue
			}
			req = req.WithContext(withoutDefaultCredentials(req.Context()))
			checked++
			resp, err := tb.client.Do(req)
			if err != nil {
				problems = append(problems, fmt.Sprintf("plugin '%s': %s %s: %v", id, method, url, err))
				continue
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				continue
			}
			policy := "no auth policy covers it"
			switch {
			case disabled:
				policy = disableAuthPolicyKey + " is set"
			case route.Policy != "":
				policy = fmt.Sprintf("its auth policy is %q, which still requires credentials", route.Policy)
			}
			offending = append(offending, fmt.Sprintf("plugin '%s': %s %s (route %q) answered %s without credentials; want 401 Unauthorized: %s; body: %s",
				id, method, url, route.Pattern, resp.Status, policy, strings.TrimSpace(string(body))))
		}
	}
	if len(offending) > 0 {
		hint := ""
		if disabled {
			hint = "\nbackend.auth.dangerouslyDisableDefaultAuthPolicy is set: it turns the credentials barrier off for every plugin; remove it from the test's config."
		}
		t.Errorf("testbackend: %d of %d routes answer requests without credentials:\n  %s\n"+
			"Every route must require credentials unless the plugin opens it with an auth policy: "+
			"call router.AddAuthPolicy(path, core.AllowUnauthenticated) for a route meant to be public.%s",
			len(offending), checked, strings.Join(offending, "\n  "), hint)
	}
	if len(problems) > 0 {
		t.Errorf("testbackend: AssertSecureByDefault could not check every route:\n  %s", strings.Join(problems, "\n  "))
	}
}

// disableAuthPolicyKey turns the credentials barrier off.
const disableAuthPolicyKey = "backend.auth.dangerouslyDisableDefaultAuthPolicy"

// wildcard matches a ServeMux path wildcard: {name}, {name...} or {$}.
var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// sampleRequest returns a method and a concrete path matching the
// net/http ServeMux pattern, relative to a plugin's mount.
func sampleRequest(pattern string) (method, path string, err error) {
	method, rest, found := strings.Cut(strings.TrimSpace(pattern), " ")
	if !found {
		method, rest = http.MethodGet, method
	}
	rest = strings.TrimSpace(rest)
	if i := strings.Index(rest, "/"); i > 0 {
		rest = rest[i:] // a host pattern: keep the path
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
