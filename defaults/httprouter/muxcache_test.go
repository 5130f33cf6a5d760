package httprouter

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestRouterServeMuxes checks the routers' ServeMuxes, with and without
// a MuxCache: every router serves its own handlers, and routers whose
// patterns branch off, fail to register or are added after the router
// served get the routes they registered. With a cache, routers given the
// same patterns share one ServeMux; without one (production), no two
// routers share one, whatever routers were made before.
func TestRouterServeMuxes(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name  string
		cache *MuxCache
	}{{"own ServeMux", nil}, {"MuxCache", NewMuxCache()}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			testRouterServeMuxes(t, mode.cache)
		})
	}
}

func testRouterServeMuxes(t *testing.T, cache *MuxCache) {
	run := "/cache"
	p := func(s string) string { return "GET " + run + s }
	type step struct {
		pattern string
		wantErr string // part of the registration error, if any
	}
	tests := []struct {
		name  string
		steps []step
		// after serving once, register these too
		later []step
	}{
		{name: "first router of a sequence", steps: []step{{pattern: p("/a")}, {pattern: p("/b/{id}")}, {pattern: p("/d")}}},
		{name: "same sequence", steps: []step{{pattern: p("/a")}, {pattern: p("/b/{id}")}, {pattern: p("/d")}}},
		{name: "a prefix of it", steps: []step{{pattern: p("/a")}, {pattern: p("/b/{id}")}}},
		{name: "a branch off it", steps: []step{{pattern: p("/a")}, {pattern: p("/c")}}},
		{name: "a conflict in the middle", steps: []step{{pattern: p("/a")}, {pattern: p("/{x}")}, {pattern: p("/{y}"), wantErr: "conflicts with"}, {pattern: p("/b/{id}")}, {pattern: p("/d")}}},
		{name: "the same conflict, cached", steps: []step{{pattern: p("/a")}, {pattern: p("/{x}")}, {pattern: p("/{y}"), wantErr: "conflicts with"}, {pattern: p("/b/{id}")}, {pattern: p("/d")}}},
		{name: "a prefix with the conflict", steps: []step{{pattern: p("/a")}, {pattern: p("/{x}")}, {pattern: p("/{y}"), wantErr: "conflicts with"}, {pattern: p("/b/{id}")}}},
		{name: "an invalid pattern", steps: []step{{pattern: "GET " + strings.TrimPrefix(run, "/") + "x", wantErr: "host/path missing /"}, {pattern: p("/a")}}},
		{name: "routes added after serving", steps: []step{{pattern: p("/a")}}, later: []step{{pattern: p("/b/{id}")}, {pattern: p("/a"), wantErr: "conflicts with"}}},
	}
	muxes := map[string]*http.ServeMux{}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := startedRouter(t, Options{MuxCache: cache}, nil)
			name := fmt.Sprintf("router%d", i)
			// Each route answers with the router's name and its own number.
			var served, bodies []string // paths routes serve, and their names
			register := func(steps []step) {
				for _, s := range steps {
					route := fmt.Sprintf("%s.%d", name, len(served))
					tr.mu.RLock()
					problems := len(tr.problems)
					tr.mu.RUnlock()
					tr.Handle(s.pattern, echo(route))
					var err error
					tr.mu.RLock()
					if len(tr.problems) > problems {
						err = tr.problems[len(tr.problems)-1]
					}
					tr.mu.RUnlock()
					switch {
					case s.wantErr == "" && err != nil:
						t.Fatalf("Handle(%q): %v", s.pattern, err)
					case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
						t.Fatalf("Handle(%q) error = %v, want it to contain %q", s.pattern, err, s.wantErr)
					case s.wantErr == "":
						path := strings.Replace(strings.TrimPrefix(s.pattern, "GET "), "{id}", "7", 1)
						path = strings.Replace(path, "{x}", "x", 1)
						served = append(served, path)
						bodies = append(bodies, route)
					}
				}
			}
			check := func() {
				t.Helper()
				for k, path := range served {
					want := bodies[k] + " " + path
					if strings.HasSuffix(path, "/7") {
						want += " id=7"
					}
					if rec := serve(tr, req{path: "/api/todo" + path, token: userToken}); rec.Code != 200 || rec.Body.String() != want {
						t.Errorf("GET %s = %d %q, want 200 %q", path, rec.Code, rec.Body, want)
					}
				}
				if rec := serve(tr, req{path: "/api/todo" + run + "/none/such", token: userToken}); rec.Code != 404 {
					t.Errorf("a path no route serves = %d, want 404", rec.Code)
				}
			}
			register(tt.steps)
			check()
			if tt.later != nil {
				register(tt.later)
				check()
			}
			tr.mu.RLock()
			key, mux := fmt.Sprint(tt.steps, tt.later), tr.mux
			tr.mu.RUnlock()
			prev, ok := muxes[key]
			switch {
			case cache != nil && ok && prev != mux:
				t.Errorf("a second router of the cache with the patterns %s got another ServeMux", key)
			case cache == nil && slices.Contains(slices.Collect(maps.Values(muxes)), mux):
				t.Errorf("a router without a MuxCache got the ServeMux of another router")
			}
			muxes[key] = mux
		})
	}
}

// TestRoutersShareServeMuxesConcurrently registers the same patterns in
// routers of one cache started concurrently, for the race detector.
func TestRoutersShareServeMuxesConcurrently(t *testing.T) {
	t.Parallel()
	run := "/concurrent"
	cache := NewMuxCache()
	var wg sync.WaitGroup
	for i := range 8 {
		tr := startedRouter(t, Options{MuxCache: cache}, nil)
		wg.Go(func() {
			name := fmt.Sprint("router", i)
			for j := range 4 {
				tr.Handle(fmt.Sprintf("GET %s/%d", run, j), echo(name))
			}
			for j := range 4 {
				path := fmt.Sprintf("%s/%d", run, j)
				if rec := serve(tr, req{path: "/api/todo" + path, token: userToken}); rec.Body.String() != name+" "+path {
					t.Errorf("%s: GET %s = %d %q", name, path, rec.Code, rec.Body)
				}
			}
		})
	}
	wg.Wait()
}

// TestRouteNeedsDispatch checks that a route of a router's ServeMux served
// without a router's dispatch panics, naming the mistake, rather than
// serving with another router's handler.
func TestRouteNeedsDispatch(t *testing.T) {
	t.Parallel()
	defer func() {
		if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), "without the router's dispatch") {
			t.Errorf("panic = %v, want one naming the missing dispatch", v)
		}
	}()
	route(0).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// TestRouterRegistersWhileServing registers routes in a router without a
// MuxCache while requests are served, for the race detector: a request
// uses a ServeMux that is not registered in again, and every route
// registered before a request is served.
func TestRouterRegistersWhileServing(t *testing.T) {
	t.Parallel()
	tr := startedRouter(t, Options{}, nil)
	const n = 32
	var wg sync.WaitGroup
	wg.Go(func() {
		for j := range n {
			tr.Handle(fmt.Sprintf("GET /r/%d", j), echo("r"))
		}
	})
	wg.Go(func() {
		for j := range n {
			rec := serve(tr, req{path: fmt.Sprintf("/api/todo/r/%d", j), token: userToken})
			if rec.Code != 200 && rec.Code != 404 {
				t.Errorf("GET /r/%d = %d %q while routes register", j, rec.Code, rec.Body)
			}
		}
	})
	wg.Wait()
	for j := range n {
		path := fmt.Sprintf("/r/%d", j)
		if rec := serve(tr, req{path: "/api/todo" + path, token: userToken}); rec.Code != 200 || rec.Body.String() != "r "+path {
			t.Errorf("GET %s = %d %q, want 200 %q", path, rec.Code, rec.Body, "r "+path)
		}
	}
}
