package auth

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/defaults/discovery"
	"github.com/greenroom-dev/greenroom/errs"
)

var _ PluginEndpoints = (*discovery.Discovery)(nil)

// countingServer answers 404 to everything and counts the requests.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// forgedTokens returns, for each of n made-up plugin ids, a plugin token
// and a limited user token "issued" by it, signed by a key nobody knows.
func forgedTokens(t *testing.T, n int) []string {
	t.Helper()
	key, err := newSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range n {
		id := fmt.Sprintf("forged-%d", i)
		if i%2 == 0 {
			out = append(out, signJWS(t, key, jose.ES256, TokenTypePlugin, pluginClaims(id, "catalog")))
		} else {
			out = append(out, signJWS(t, key, jose.ES256, TokenTypeLimitedUser, with(userClaims("user:default/alice"), "iss", id)))
		}
	}
	return out
}

func warnLines(l *bufLogger) int { return strings.Count(l.String(), "level=WARN") }

// TestForgedPluginTokensCostNoFetch sends tokens naming 300 made-up
// plugins, twice, to a backend with the default discovery. Before,
// each one made the backend fetch a JWKS over HTTP and log a warning
// (600 fetches, 600 WARN lines); now plugins that discovery does not list
// are refused without a request, with one warning.
func TestForgedPluginTokensCostNoFetch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	remote := newEnv(t, "")
	scaffolder := remote.auth("scaffolder")
	srv := newJWKSServer(t, scaffolder, "scaffolder")
	// Plugins discovery does not list get the default URL of this
	// backend: point it at a server that counts requests.
	self, selfHits := countingServer(t)
	port := self.Listener.Addr().(*net.TCPAddr).Port
	disc, err := discovery.New(newConfig(t, fmt.Sprintf(`backend:
  listen: {host: 127.0.0.1, port: %d}
discovery:
  endpoints:
    - target: %s
      plugins: [scaffolder]
`, port, srv.base("scaffolder"))), nil)
	if err != nil {
		t.Fatal(err)
	}
	local := newEnv(t, "")
	a, err := NewAuth(local.k, "catalog", disc, local.logger)
	if err != nil {
		t.Fatal(err)
	}
	valid := mustToken(t)(scaffolder.PluginRequestToken(ctx, scaffolder.OwnServiceCredentials(), "catalog"))
	if _, err := a.Authenticate(ctx, valid); err != nil {
		t.Fatalf("valid remote token: %v", err)
	}

	forged := forgedTokens(t, 300)
	for range 2 {
		for i, tok := range forged {
			_, err := a.Authenticate(ctx, tok)
			wantErr(t, err, errs.Authentication, fmt.Sprintf("Unable to verify token: plugin 'forged-%d' is not known to this backend", i))
		}
	}
	if got := selfHits.Load(); got != 0 {
		t.Errorf("%d fetches for made-up plugins, want 0", got)
	}
	if got := warnLines(local.logger); got != 1 {
		t.Errorf("%d WARN lines, want 1:\n%s", got, local.logger)
	}
	// The real remote plugin still verifies, from the cache.
	if _, err := a.Authenticate(ctx, valid); err != nil {
		t.Errorf("valid remote token after the flood: %v", err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("scaffolder's JWKS fetched %d times, want 1", got)
	}
}

// TestForgedPluginTokensAreBounded is the same flood with a discovery that
// cannot tell which plugins exist: fetches stop at the budget, failures
// are remembered, warnings are logged once per cause, and cached keys of
// real plugins are not evicted.
func TestForgedPluginTokensAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	remote := newEnv(t, "")
	scaffolder := remote.auth("scaffolder")
	srv := newJWKSServer(t, scaffolder, "scaffolder")
	self, selfHits := countingServer(t)
	local := newEnv(t, "")
	local.disc.fallback = self.URL
	local.disc.set("scaffolder", srv.base("scaffolder"))
	catalog := local.auth("catalog")
	valid := mustToken(t)(scaffolder.PluginRequestToken(ctx, scaffolder.OwnServiceCredentials(), "catalog"))
	if _, err := catalog.Authenticate(ctx, valid); err != nil {
		t.Fatalf("valid remote token: %v", err)
	}

	forged := forgedTokens(t, 300)
	for range 2 {
		for _, tok := range forged {
			if _, err := catalog.Authenticate(ctx, tok); errs.StatusCode(err) != http.StatusUnauthorized {
				t.Fatalf("forged token: %v, want a 401", err)
			}
		}
	}
	// The budget holds jwksFetchBurst fetches; the clock stands still.
	if got := selfHits.Load(); got != jwksFetchBurst-1 {
		t.Errorf("%d fetches for made-up plugins, want %d", got, jwksFetchBurst-1)
	}
	// One warning per failed fetch (each a different plugin) and one for
	// the exhausted budget.
	if got := warnLines(local.logger); got != jwksFetchBurst {
		t.Errorf("%d WARN lines, want %d:\n%s", got, jwksFetchBurst, local.logger)
	}
	if _, err := catalog.Authenticate(ctx, valid); err != nil {
		t.Errorf("valid remote token after the flood: %v", err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("scaffolder's JWKS fetched %d times, want 1", got)
	}

	// The budget refills with time: a second later one more plugin is
	// fetched, and failures already seen are not fetched again.
	now := testNow.Add(time.Second)
	local.k.now = func() time.Time { return now }
	for range 2 {
		for _, tok := range forged {
			if _, err := catalog.Authenticate(ctx, tok); err == nil {
				t.Fatal("a forged token was accepted")
			}
		}
	}
	if got := selfHits.Load(); got != jwksFetchBurst {
		t.Errorf("%d fetches a second later, want %d", got, jwksFetchBurst)
	}
}

func TestWarnGate(t *testing.T) {
	t.Parallel()
	g := warnGate{period: time.Minute, maxCauses: 2, last: make(map[string]*warnEntry)}
	step := func(at time.Duration, cause string, wantOK bool, wantSuppressed int) {
		t.Helper()
		ok, n := g.allow(testNow.Add(at), cause)
		if ok != wantOK || n != wantSuppressed {
			t.Errorf("allow(+%s, %q) = %v, %d; want %v, %d", at, cause, ok, n, wantOK, wantSuppressed)
		}
	}
	step(0, "a", true, 0)
	step(time.Second, "a", false, 0)
	step(2*time.Second, "a", false, 0)
	step(3*time.Second, "b", true, 0)
	// Full: new causes share one slot.
	step(4*time.Second, "c", true, 0)
	step(5*time.Second, "d", false, 0)
	step(time.Minute, "a", true, 2)
	// Expired causes make room again.
	step(3*time.Minute, "e", true, 0)
	if len(g.last) > 3 {
		t.Errorf("%d causes tracked", len(g.last))
	}
}
