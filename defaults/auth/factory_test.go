package auth

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// testFactories are stand-ins for the services the auth factories depend
// on, so that this test does not depend on other defaults packages.
func testFactories(t *testing.T, doc string, disc *fakeDiscovery) []*backend.ServiceFactory {
	cfg := newConfig(t, doc)
	return []*backend.ServiceFactory{
		backend.NewRootServiceFactory(core.RootConfigRef, func(ctx context.Context, _ struct{}) (core.RootConfig, error) {
			return cfg, nil
		}),
		backend.NewPluginServiceFactory(core.LoggerRef, func(ctx context.Context, _ struct{}) (core.Logger, error) {
			return newBufLogger(), nil
		}),
		backend.NewPluginServiceFactory(core.DiscoveryRef, func(ctx context.Context, _ struct{}) (core.Discovery, error) {
			return disc, nil
		}),
		backend.NewPluginServiceFactory(core.DatabaseRef, func(ctx context.Context, _ struct{}) (core.Database, error) {
			return newSQLiteDatabase(t), nil
		}),
		AuthFactory(), HTTPAuthFactory(), UserInfoFactory(),
	}
}

func TestFactoriesThroughBackend(t *testing.T) {
	ctx := context.Background()
	iss, err := NewUserTokenIssuer()
	if err != nil {
		t.Fatal(err)
	}
	// The configured key has no kid: it gets its thumbprint, which is the
	// kid the issuer writes.
	pub := iss.JWKS().Keys[0]
	delete(pub, "kid")
	delete(pub, "alg")
	delete(pub, "use")
	jwksBytes, _ := json.Marshal(core.JSONWebKeySet{Keys: []map[string]any{pub}})
	jwks := string(jwksBytes)
	disc := &fakeDiscovery{external: "https://greenroom.example.com"}
	b := backend.New(backend.WithDefaults(testFactories(t, "backend: {auth: {userTokens: {jwks: "+jwks+"}, externalAccess: [{type: static, options: {token: static-token-1, subject: ci}, accessRestrictions: [{plugin: search}]}]}}", disc)...))

	catalog, err := backend.Resolve(ctx, b, core.AuthRef, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	search, err := backend.Resolve(ctx, b, core.AuthRef, "search")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := backend.Resolve(ctx, b, core.AuthRef, "catalog")
	if again != catalog {
		t.Error("the backend made two Auth instances for one plugin")
	}
	// The plugins share one keyring: search verifies catalog's token
	// without a JWKS fetch (the fake discovery points nowhere).
	tok, err := catalog.PluginRequestToken(ctx, catalog.OwnServiceCredentials(), "search")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := search.Authenticate(ctx, tok); err != nil || c.Principal.Subject != "plugin:catalog" {
		t.Fatalf("Authenticate = %v, %v", c, err)
	}
	if _, err := catalog.Authenticate(ctx, "static-token-1"); err == nil {
		t.Error("the static token restricted to search was accepted by catalog")
	}

	userTok, err := iss.Issue("user:default/alice", []string{"group:default/a"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ha, err := backend.Resolve(ctx, b, core.HTTPAuthRef, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api/catalog/x", nil)
	r.Header.Set("Authorization", "Bearer "+userTok)
	user, err := ha.Credentials(r, core.PrincipalUser)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if _, err := ha.IssueUserCookie(w, r, user); err != nil {
		t.Fatal(err)
	}
	if c := w.Result().Cookies(); len(c) != 1 || !c[0].Secure {
		t.Errorf("cookie = %+v, want Secure for an https base URL", c)
	}

	ui, err := backend.Resolve(ctx, b, core.UserInfoRef, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := ui.Get(ctx, user); err != nil || d.OwnershipEntityRefs[0] != "group:default/a" {
		t.Errorf("user info = %+v, %v", d, err)
	}
}

func TestFactoryErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("bad config", func(t *testing.T) {
		b := backend.New(backend.WithDefaults(testFactories(t, "backend: {auth: {externalAccess: [{type: static, options: {token: short, subject: x}}]}}", &fakeDiscovery{})...))
		_, err := backend.Resolve(ctx, b, core.AuthRef, "catalog")
		if err == nil || !strings.Contains(err.Error(), "backend.auth.externalAccess[0].options.token") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("discovery fails", func(t *testing.T) {
		disc := &fakeDiscovery{}
		b := backend.New(backend.WithDefaults(testFactories(t, "", disc)...))
		if _, err := backend.Resolve(ctx, b, core.AuthRef, "catalog"); err != nil {
			t.Fatal(err)
		}
		disc.mu.Lock()
		disc.err = context.DeadlineExceeded
		disc.mu.Unlock()
		_, err := backend.Resolve(ctx, b, core.HTTPAuthRef, "catalog")
		if err == nil || !strings.Contains(err.Error(), "plugin 'catalog': resolving its external base URL") {
			t.Errorf("error = %v", err)
		}
	})
}
