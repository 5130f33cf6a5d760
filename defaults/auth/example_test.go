package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
	"github.com/greenroom-dev/greenroom/internal/reqctx"
)

// localDiscovery places every plugin at http://localhost:7007/api/<id>.
type localDiscovery struct{}

func (localDiscovery) BaseURL(ctx context.Context, pluginID string) (string, error) {
	return "http://localhost:7007/api/" + pluginID, nil
}

func (localDiscovery) ExternalBaseURL(ctx context.Context, pluginID string) (string, error) {
	return "http://localhost:7007/api/" + pluginID, nil
}

// stdLogger is a core.Logger over log/slog.
type stdLogger struct{ *slog.Logger }

func (l stdLogger) With(args ...any) core.Logger { return stdLogger{l.Logger.With(args...)} }
func (l stdLogger) Handler() slog.Handler        { return l.Logger.Handler() }

// userTokensConfig returns backend.auth YAML that trusts iss.
func userTokensConfig(iss *auth.UserTokenIssuer) string {
	jwks, err := json.Marshal(iss.JWKS())
	if err != nil {
		log.Fatal(err)
	}
	return "backend:\n  auth:\n    userTokens:\n      jwks: " + string(jwks) + "\n"
}

// The factories are installed as defaults of a backend; every plugin then
// gets its own Auth, HTTPAuth and UserInfo.
func Example() {
	ctx := context.Background()
	cfg, err := config.FromYAML(`
backend:
  auth:
    externalAccess:
      - type: static
        options: {token: ci-token-0123456789, subject: ci-bot}
`)
	if err != nil {
		log.Fatal(err)
	}
	// AuthFactory publishes each plugin's public service keys in the
	// plugin's database (here SQLite in memory, the default).
	dbs, err := database.NewManager(cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer dbs.Close()
	b := backend.New(backend.WithDefaults(
		backend.NewRootServiceFactory(core.RootConfigRef, func(context.Context, struct{}) (core.RootConfig, error) { return cfg, nil }),
		backend.NewPluginServiceFactory(core.DiscoveryRef, func(context.Context, struct{}) (core.Discovery, error) { return localDiscovery{}, nil }),
		backend.NewPluginServiceFactory(core.LoggerRef, func(context.Context, struct{}) (core.Logger, error) { return stdLogger{slog.Default()}, nil }),
		backend.NewPluginServiceFactory(core.DatabaseRef, func(_ context.Context, d struct{ Plugin core.PluginMetadata }) (core.Database, error) {
			return dbs.ForPlugin(d.Plugin.ID())
		}),
		auth.AuthFactory(), auth.HTTPAuthFactory(), auth.UserInfoFactory(),
	))
	catalog, err := backend.Resolve(ctx, b, core.AuthRef, "catalog")
	if err != nil {
		log.Fatal(err)
	}
	creds, err := catalog.Authenticate(ctx, "ci-token-0123456789")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(creds)
	// Output: credentials{service ci-bot}
}

func ExampleNewKeyring() {
	cfg, err := config.FromYAML(`
backend:
  auth:
    externalAccess:
      - type: static
        options: {token: short, subject: ci-bot}
`)
	if err != nil {
		log.Fatal(err)
	}
	_, err = auth.NewKeyring(cfg)
	fmt.Println(err)
	// Output: invalid config backend.auth.externalAccess[0].options.token: the token must be at least 8 characters long; use a long random string, for example the output of 'openssl rand -base64 24'
}

func ExampleKeyring_DangerouslyDisableDefaultAuthPolicy() {
	cfg, err := config.FromYAML("backend: {auth: {dangerouslyDisableDefaultAuthPolicy: true}}")
	if err != nil {
		log.Fatal(err)
	}
	k, err := auth.NewKeyring(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.DangerouslyDisableDefaultAuthPolicy())
	// Output: true
}

func ExampleKeyring_MaxTokenLifetime() {
	for _, doc := range []string{"{}", "backend: {auth: {maxTokenLifetime: 8h}}", "backend: {auth: {maxTokenLifetime: 10s}}"} {
		cfg, err := config.FromYAML(doc)
		if err != nil {
			log.Fatal(err)
		}
		k, err := auth.NewKeyring(cfg)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(k.MaxTokenLifetime())
	}
	// Output:
	// 24h0m0s
	// 8h0m0s
	// invalid config backend.auth.maxTokenLifetime: 10s is too short; give at least 1m0s, such as 24h
}

// Two plugins of one backend share a keyring: a token catalog issues for
// search verifies at search, and carries the user it was issued for.
func ExampleNewAuth() {
	ctx := context.Background()
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := config.FromYAML(userTokensConfig(iss))
	if err != nil {
		log.Fatal(err)
	}
	k, err := auth.NewKeyring(cfg)
	if err != nil {
		log.Fatal(err)
	}
	catalog, err := auth.NewAuth(k, "catalog", localDiscovery{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	search, err := auth.NewAuth(k, "search", localDiscovery{}, nil)
	if err != nil {
		log.Fatal(err)
	}

	userToken, err := iss.Issue("user:default/alice", nil, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	user, err := catalog.Authenticate(ctx, userToken)
	if err != nil {
		log.Fatal(err)
	}
	token, err := catalog.PluginRequestToken(ctx, user, "search")
	if err != nil {
		log.Fatal(err)
	}
	creds, err := search.Authenticate(ctx, token)
	fmt.Println(creds, err)

	token, err = catalog.PluginRequestToken(ctx, catalog.OwnServiceCredentials(), "search")
	if err != nil {
		log.Fatal(err)
	}
	creds, err = search.Authenticate(ctx, token)
	fmt.Println(creds, err)

	_, err = catalog.Authenticate(ctx, token) // issued for search
	fmt.Println(err)
	_, err = catalog.Authenticate(ctx, "mock-user-token")
	fmt.Println(err)
	// Output:
	// credentials{user user:default/alice} <nil>
	// credentials{service plugin:catalog} <nil>
	// AuthenticationError: Invalid token audience, expected plugin 'catalog'
	// AuthenticationError: Illegal token: it is neither a JWT nor a configured external access token
}

func ExampleNewHTTPAuth() {
	ctx := context.Background()
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := config.FromYAML(userTokensConfig(iss))
	if err != nil {
		log.Fatal(err)
	}
	k, err := auth.NewKeyring(cfg)
	if err != nil {
		log.Fatal(err)
	}
	a, err := auth.NewAuth(k, "catalog", localDiscovery{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	httpAuth, err := auth.NewHTTPAuth(a, "https://greenroom.example.com/api/catalog")
	if err != nil {
		log.Fatal(err)
	}

	// The plugin router puts a reqctx.State in every request's context.
	request := func(header string, cookies ...*http.Cookie) *http.Request {
		r := httptest.NewRequest("GET", "/api/catalog/entities", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return r.WithContext(reqctx.With(ctx, &reqctx.State{}))
	}

	_, err = httpAuth.Credentials(request(""), core.PrincipalUser, core.PrincipalService)
	fmt.Println(err)

	token, err := iss.Issue("user:default/alice", nil, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	user, err := httpAuth.Credentials(request("Bearer "+token), core.PrincipalUser)
	fmt.Println(user, err)
	_, err = httpAuth.Credentials(request("Bearer "+token), core.PrincipalService)
	fmt.Println(err)

	w := httptest.NewRecorder()
	if _, err := httpAuth.IssueUserCookie(w, request(""), user); err != nil {
		log.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	fmt.Println(cookie.Name, cookie.HttpOnly, cookie.Secure)
	// Outside a user-cookie auth policy, the cookie's limited token is
	// refused.
	_, err = httpAuth.Credentials(request("Bearer "+cookie.Value), core.PrincipalUser)
	fmt.Println(err)
	// Output:
	// AuthenticationError: Missing credentials
	// credentials{user user:default/alice} <nil>
	// NotAllowedError: This endpoint does not allow 'user' credentials
	// greenroom-auth true true
	// AuthenticationError: Limited user token is not allowed here
}

func ExampleNewUserInfo() {
	ctx := context.Background()
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := config.FromYAML(userTokensConfig(iss))
	if err != nil {
		log.Fatal(err)
	}
	k, err := auth.NewKeyring(cfg)
	if err != nil {
		log.Fatal(err)
	}
	a, err := auth.NewAuth(k, "catalog", localDiscovery{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	token, err := iss.Issue("user:default/alice", []string{"user:default/alice", "group:default/team-a"}, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	user, err := a.Authenticate(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	info, err := auth.NewUserInfo().Get(ctx, user)
	fmt.Println(info.UserEntityRef, info.OwnershipEntityRefs, err)
	_, err = auth.NewUserInfo().Get(ctx, a.OwnServiceCredentials())
	fmt.Println(err)
	// Output:
	// user:default/alice [user:default/alice group:default/team-a] <nil>
	// InputError: Only user credentials are supported
}

func ExampleNewUserTokenIssuer() {
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	token, err := iss.Issue("user:default/alice", nil, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Count(token, "."))
	// Output: 2
}

func ExampleUserTokenIssuer_Issue() {
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	_, err = iss.Issue("group:default/team-a", nil, time.Hour)
	fmt.Println(err)
	// Output: auth: issuing user token: invalid user entity reference "group:default/team-a": kind is "group", expected "user"
}

func ExampleUserTokenIssuer_WithIssuer() {
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	// Matches backend.auth.userTokens.issuer: https://idp.example.com
	token, err := iss.WithIssuer("https://idp.example.com").Issue("user:default/alice", nil, time.Hour)
	fmt.Println(token != "", err)
	// Output: true <nil>
}

func ExampleUserTokenIssuer_JWKS() {
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	key := iss.JWKS().Keys[0]
	fmt.Println(key["kty"], key["crv"], key["alg"], key["kid"] == iss.KeyID())
	// Output: EC P-256 ES256 true
}

func ExampleUserTokenIssuer_KeyID() {
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(iss.KeyID())) // a base64url SHA-256 thumbprint
	// Output: 43
}

// A private key saved with MarshalJWK (or MarshalPEM) is read back by
// ParseUserTokenIssuer, which signs with the same key.
func ExampleParseUserTokenIssuer() {
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	saved, err := iss.MarshalJWK()
	if err != nil {
		log.Fatal(err)
	}
	again, err := auth.ParseUserTokenIssuer(saved)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.KeyID() == iss.KeyID())
	// Output: true
}

func ExampleUserTokenIssuer_MarshalJWK() {
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	b, err := iss.MarshalJWK()
	if err != nil {
		log.Fatal(err)
	}
	var jwk map[string]any
	if err := json.Unmarshal(b, &jwk); err != nil {
		log.Fatal(err)
	}
	_, private := jwk["d"]
	fmt.Println(jwk["kty"], private)
	// Output: EC true
}

func ExampleUserTokenIssuer_MarshalPEM() {
	iss, err := auth.NewUserTokenIssuer()
	if err != nil {
		log.Fatal(err)
	}
	b, err := iss.MarshalPEM()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.SplitN(string(b), "\n", 2)[0])
	// Output: -----BEGIN PRIVATE KEY-----
}
