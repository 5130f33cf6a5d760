package servicetest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/reqctx"
)

// AuthEnv is the auth services of one backend, for [TestAuth],
// [TestHTTPAuth] and [TestUserInfo]. A suite builds a new AuthEnv for each
// subtest.
type AuthEnv struct {
	// Auth returns the auth service of the plugin pluginID. The instances
	// of one AuthEnv trust each other's tokens, as the plugins of one
	// backend do.
	Auth func(pluginID string) core.Auth
	// UserToken returns a token of the user userEntityRef, owning the
	// given entity refs (none: only itself), that the instances accept.
	UserToken func(userEntityRef string, ownership ...string) string
	// HTTPAuth returns the HTTP auth service that verifies tokens with
	// auth (needed by TestHTTPAuth).
	HTTPAuth func(auth core.Auth) core.HTTPAuth
	// UserInfo returns the user info service (needed by TestUserInfo).
	UserInfo func() core.UserInfo
}

// Tokens that no implementation accepts: empty, not a token, a JWT
// without a signature (alg none), a JWT signed with HMAC by a key nobody
// configured.
var garbageTokens = []struct{ name, token string }{
	{"empty", ""},
	{"not a token", "garbage"},
	{"three dots", "a.b.c"},
	{"unsigned JWT", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c2VyOmRlZmF1bHQvYWxpY2UiLCJleHAiOjQxMDI0NDQ4MDB9."},
	{"HS256 JWT", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyOmRlZmF1bHQvYWxpY2UiLCJleHAiOjQxMDI0NDQ4MDB9.Mh3J0tAYkcXQv8nnO0XJSvbRO4cRDBWBXaNb3QGq2bI"},
}

const alice = "user:default/alice"

// authenticateUser returns alice's credentials, verified by a.
func authenticateUser(t *testing.T, env AuthEnv, a core.Auth, ownership ...string) core.Credentials {
	t.Helper()
	c, err := a.Authenticate(context.Background(), env.UserToken(alice, ownership...))
	if err != nil {
		t.Fatalf("Authenticate(UserToken(%q)) = %v; the environment's user token must be accepted", alice, err)
	}
	return c
}

// TestAuth checks an implementation of [core.Auth]: none and own
// credentials, user tokens, plugin tokens issued by PluginRequestToken for
// a service and on behalf of a user (also forwarded once more), audience
// enforcement between plugins, limited user tokens, and the rejection of
// empty and garbage tokens as authentication errors.
func TestAuth(t *testing.T, newEnv func(t *testing.T) AuthEnv) {
	t.Helper()
	ctx := context.Background()
	t.Run("NoneCredentials are none", func(t *testing.T) {
		if c := newEnv(t).Auth("a").NoneCredentials(); !c.IsNone() {
			t.Errorf("NoneCredentials() = %v, want none", c)
		}
	})
	t.Run("OwnServiceCredentials are the service plugin:<pluginId>", func(t *testing.T) {
		c := newEnv(t).Auth("a").OwnServiceCredentials()
		if !c.IsService() || c.Principal.Subject != "plugin:a" {
			t.Errorf("OwnServiceCredentials() = %v, want service plugin:a", c)
		}
	})
	t.Run("garbage tokens are authentication errors", func(t *testing.T) {
		a := newEnv(t).Auth("a")
		for _, g := range garbageTokens {
			_, err := a.Authenticate(ctx, g.token)
			checkErr(t, "Authenticate("+g.name+")", err, errs.Authentication, "")
		}
	})
	t.Run("a user token authenticates as the user", func(t *testing.T) {
		env := newEnv(t)
		c := authenticateUser(t, env, env.Auth("a"))
		if !c.IsUser() || c.Principal.UserEntityRef != alice || c.Limited {
			t.Errorf("Authenticate(user token) = %v (limited %v), want full user %s", c, c.Limited, alice)
		}
	})
	t.Run("a plugin token for a service reaches its target as plugin:<issuer>", func(t *testing.T) {
		env := newEnv(t)
		a, b := env.Auth("a"), env.Auth("b")
		tok, err := a.PluginRequestToken(ctx, a.OwnServiceCredentials(), "b")
		if err != nil {
			t.Fatalf("PluginRequestToken(own credentials, b) = %v", err)
		}
		c, err := b.Authenticate(ctx, tok)
		if err != nil || !c.IsService() || c.Principal.Subject != "plugin:a" {
			t.Errorf("plugin b: Authenticate(token of a for b) = %v, %v; want service plugin:a", c, err)
		}
	})
	t.Run("a plugin token on behalf of a user reaches its target as the user", func(t *testing.T) {
		env := newEnv(t)
		a, b, c := env.Auth("a"), env.Auth("b"), env.Auth("c")
		tok, err := a.PluginRequestToken(ctx, authenticateUser(t, env, a), "b")
		if err != nil {
			t.Fatalf("PluginRequestToken(user, b) = %v", err)
		}
		got, err := b.Authenticate(ctx, tok)
		if err != nil || !got.IsUser() || got.Principal.UserEntityRef != alice {
			t.Fatalf("plugin b: Authenticate(token of a for b on behalf of %s) = %v, %v; want that user", alice, got, err)
		}
		tok2, err := b.PluginRequestToken(ctx, got, "c")
		if err != nil {
			t.Fatalf("plugin b: PluginRequestToken(forwarded user, c) = %v; a user received from a plugin must be forwardable", err)
		}
		if got2, err := c.Authenticate(ctx, tok2); err != nil || got2.Principal.UserEntityRef != alice {
			t.Errorf("plugin c: Authenticate(token forwarded by b) = %v, %v; want %s", got2, err, alice)
		}
	})
	t.Run("a plugin token is refused by plugins other than its target", func(t *testing.T) {
		env := newEnv(t)
		a, c := env.Auth("a"), env.Auth("c")
		for _, on := range []struct {
			name  string
			creds core.Credentials
		}{{"service", a.OwnServiceCredentials()}, {"user", authenticateUser(t, env, a)}} {
			tok, err := a.PluginRequestToken(ctx, on.creds, "b")
			if err != nil {
				t.Fatalf("PluginRequestToken(%s, b) = %v", on.name, err)
			}
			_, err = c.Authenticate(ctx, tok)
			checkErr(t, "plugin c accepting a "+on.name+" token of a for b", err, errs.Authentication, "")
			_, err = a.Authenticate(ctx, tok)
			checkErr(t, "plugin a accepting its own "+on.name+" token for b", err, errs.Authentication, "")
		}
	})
	t.Run("PluginRequestToken refuses none credentials", func(t *testing.T) {
		a := newEnv(t).Auth("a")
		_, err := a.PluginRequestToken(ctx, a.NoneCredentials(), "b")
		checkErr(t, "PluginRequestToken(none)", err, errs.Authentication, "Refused to issue service token for credential type 'none'")
	})
	t.Run("PluginRequestToken refuses user credentials without a token", func(t *testing.T) {
		a := newEnv(t).Auth("a")
		forged := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: alice}, time.Time{}, "")
		_, err := a.PluginRequestToken(ctx, forged, "b")
		checkErr(t, "PluginRequestToken(user credentials built without a token)", err, errs.Authentication, "")
	})
	t.Run("PluginRequestToken refuses an empty target", func(t *testing.T) {
		a := newEnv(t).Auth("a")
		_, err := a.PluginRequestToken(ctx, a.OwnServiceCredentials(), "")
		checkErr(t, "PluginRequestToken(own, \"\")", err, errs.Input, "")
	})
	t.Run("a limited user token authenticates as the limited user", func(t *testing.T) {
		env := newEnv(t)
		a, b := env.Auth("a"), env.Auth("b")
		tok, exp, err := a.LimitedUserToken(ctx, authenticateUser(t, env, a))
		if err != nil {
			t.Fatalf("LimitedUserToken(user) = %v", err)
		}
		if !exp.After(time.Now()) {
			t.Errorf("LimitedUserToken(user) expires at %v, want a time in the future", exp)
		}
		for _, p := range []core.Auth{a, b} {
			c, err := p.Authenticate(ctx, tok)
			if err != nil || !c.IsUser() || c.Principal.UserEntityRef != alice || !c.Limited {
				t.Errorf("Authenticate(limited token) = %v (limited %v), %v; want %s with Limited set", c, c.Limited, err, alice)
			}
		}
	})
	t.Run("LimitedUserToken refuses non-user credentials", func(t *testing.T) {
		a := newEnv(t).Auth("a")
		for _, c := range []core.Credentials{a.NoneCredentials(), a.OwnServiceCredentials()} {
			_, _, err := a.LimitedUserToken(ctx, c)
			checkErr(t, "LimitedUserToken("+c.String()+")", err, errs.NotAllowed, "")
		}
	})
	t.Run("PublicServiceKeys is a JWKS", func(t *testing.T) {
		keys, err := newEnv(t).Auth("a").PublicServiceKeys(ctx)
		if err != nil {
			t.Fatalf("PublicServiceKeys() = %v", err)
		}
		b, _ := json.Marshal(keys)
		var doc struct{ Keys []map[string]any }
		if err := json.Unmarshal(b, &doc); err != nil || doc.Keys == nil {
			t.Errorf("PublicServiceKeys() encodes as %s; want an object with a \"keys\" list (possibly empty)", b)
		}
	})
}

// countingAuth counts the calls of Authenticate.
type countingAuth struct {
	core.Auth
	n atomic.Int32
}

func (c *countingAuth) Authenticate(ctx context.Context, token string) (core.Credentials, error) {
	c.n.Add(1)
	return c.Auth.Authenticate(ctx, token)
}

// TestHTTPAuth checks an implementation of [core.HTTPAuth]: tokens from
// the Authorization header, none credentials without one (secure by
// default: there is no implicit user), the allow list (401 "Missing
// credentials", 403 "This endpoint does not allow '<type>' credentials"),
// limited tokens and the auth cookie only where the router grants limited
// access, one verification per request, and the auth cookie it issues.
func TestHTTPAuth(t *testing.T, newEnv func(t *testing.T) AuthEnv) {
	t.Helper()
	ctx := context.Background()
	type setup struct {
		env  AuthEnv
		auth *countingAuth
		h    core.HTTPAuth
	}
	newSetup := func(t *testing.T) setup {
		env := newEnv(t)
		a := &countingAuth{Auth: env.Auth("a")}
		return setup{env: env, auth: a, h: env.HTTPAuth(a)}
	}
	request := func(header string, limitedAccess bool, cookie string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/a/things", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: "greenroom-auth", Value: cookie})
		}
		return r.WithContext(reqctx.With(r.Context(), &reqctx.State{PluginID: "a", LimitedAccess: limitedAccess}))
	}
	user, service, none := core.PrincipalUser, core.PrincipalService, core.PrincipalNone

	type tokenKind int
	const (
		noToken tokenKind = iota
		userToken
		serviceToken
		limitedToken
		garbageToken
	)
	tokenFor := func(t *testing.T, s setup, k tokenKind) string {
		t.Helper()
		switch k {
		case userToken:
			return s.env.UserToken(alice)
		case serviceToken:
			other := s.env.Auth("other")
			tok, err := other.PluginRequestToken(ctx, other.OwnServiceCredentials(), "a")
			if err != nil {
				t.Fatalf("PluginRequestToken(own, a) = %v", err)
			}
			return tok
		case limitedToken:
			tok, _, err := s.auth.LimitedUserToken(ctx, authenticateUser(t, s.env, s.auth))
			if err != nil {
				t.Fatalf("LimitedUserToken(user) = %v", err)
			}
			return tok
		case garbageToken:
			return "garbage"
		}
		return ""
	}
	tests := []struct {
		name          string
		token         tokenKind
		inCookie      bool   // send the token in the auth cookie, not the header
		scheme        string // "" means "Bearer "
		limitedAccess bool
		allow         []core.PrincipalType
		want          core.PrincipalType // when wantErr is ""
		wantErr       errs.Name
		wantMsg       string
	}{
		{name: "no header is none", want: none},
		{name: "no header is refused where none is not allowed", allow: []core.PrincipalType{user, service}, wantErr: errs.Authentication, wantMsg: "Missing credentials"},
		{name: "a bearer user token is the user", token: userToken, want: user},
		{name: "the bearer scheme is case-insensitive", token: userToken, scheme: "bearer ", want: user},
		{name: "another scheme carries no token", token: userToken, scheme: "Basic ", want: none},
		{name: "a service token is the service", token: serviceToken, want: service},
		{name: "a user is refused where only services are allowed", token: userToken, allow: []core.PrincipalType{service}, wantErr: errs.NotAllowed, wantMsg: "This endpoint does not allow 'user' credentials"},
		{name: "a service is refused where only users are allowed", token: serviceToken, allow: []core.PrincipalType{user}, wantErr: errs.NotAllowed, wantMsg: "This endpoint does not allow 'service' credentials"},
		{name: "a garbage token is refused even where none is allowed", token: garbageToken, allow: []core.PrincipalType{none, user}, wantErr: errs.Authentication},
		{name: "a limited token in the header is refused without limited access", token: limitedToken, wantErr: errs.Authentication},
		{name: "a limited token in the header is accepted with limited access", token: limitedToken, limitedAccess: true, want: user},
		{name: "the auth cookie is accepted with limited access", token: limitedToken, inCookie: true, limitedAccess: true, want: user},
		{name: "the auth cookie is ignored without limited access", token: limitedToken, inCookie: true, want: none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t)
			tok := tokenFor(t, s, tt.token)
			var header, cookie string
			switch {
			case tt.inCookie:
				cookie = tok
			case tok != "":
				scheme := tt.scheme
				if scheme == "" {
					scheme = "Bearer "
				}
				header = scheme + tok
			}
			c, err := s.h.Credentials(request(header, tt.limitedAccess, cookie), tt.allow...)
			contract := "HTTPAuth.Credentials: " + tt.name
			if tt.wantErr != "" {
				checkErr(t, contract, err, tt.wantErr, tt.wantMsg)
				return
			}
			if err != nil || c.Type() != tt.want {
				t.Errorf("%s: got %v, %v; want %s credentials", contract, c, err, tt.want)
			}
		})
	}
	t.Run("credentials are verified once per request", func(t *testing.T) {
		s := newSetup(t)
		r := request("Bearer "+s.env.UserToken(alice), false, "")
		for _, allow := range [][]core.PrincipalType{nil, {user}, {service}} {
			_, _ = s.h.Credentials(r, allow...)
		}
		if n := s.auth.n.Load(); n != 1 {
			t.Errorf("three Credentials calls on one request called Auth.Authenticate %d times, want 1 (memoized through the request's reqctx state)", n)
		}
	})
	t.Run("IssueUserCookie sets a cookie that authenticates on limited-access paths", func(t *testing.T) {
		s := newSetup(t)
		rec := httptest.NewRecorder()
		exp, err := s.h.IssueUserCookie(rec, request("", false, ""), authenticateUser(t, s.env, s.auth))
		if err != nil {
			t.Fatalf("IssueUserCookie(user) = %v", err)
		}
		if !exp.After(time.Now()) {
			t.Errorf("IssueUserCookie(user) expires at %v, want a time in the future", exp)
		}
		i := slices.IndexFunc(rec.Result().Cookies(), func(c *http.Cookie) bool { return c.Name == "greenroom-auth" })
		if i < 0 {
			t.Fatalf("IssueUserCookie(user) set cookies %v, want greenroom-auth", rec.Result().Cookies())
		}
		ck := rec.Result().Cookies()[i]
		if !ck.HttpOnly {
			t.Errorf("the auth cookie is not HttpOnly")
		}
		c, err := s.h.Credentials(request("", true, ck.Value))
		if err != nil || c.Principal.UserEntityRef != alice || !c.Limited {
			t.Errorf("Credentials(request with the issued cookie, limited access) = %v, %v; want limited %s", c, err, alice)
		}
	})
	t.Run("IssueUserCookie clears the cookie for none credentials", func(t *testing.T) {
		s := newSetup(t)
		rec := httptest.NewRecorder()
		if _, err := s.h.IssueUserCookie(rec, request("", false, ""), s.auth.NoneCredentials()); err != nil {
			t.Fatalf("IssueUserCookie(none) = %v", err)
		}
		cs := rec.Result().Cookies()
		if len(cs) != 1 || cs[0].Name != "greenroom-auth" || cs[0].MaxAge >= 0 {
			t.Errorf("IssueUserCookie(none) set cookies %v, want greenroom-auth deleted (Max-Age<0)", cs)
		}
	})
	t.Run("IssueUserCookie refuses service credentials", func(t *testing.T) {
		s := newSetup(t)
		_, err := s.h.IssueUserCookie(httptest.NewRecorder(), request("", false, ""), s.auth.OwnServiceCredentials())
		checkErr(t, "IssueUserCookie(service)", err, errs.NotAllowed, "")
	})
}

// TestUserInfo checks an implementation of [core.UserInfo]: a user's
// ownership refs come from the token (only the user itself when it owns
// nothing), survive a call through another plugin, and non-user
// credentials are an input error.
func TestUserInfo(t *testing.T, newEnv func(t *testing.T) AuthEnv) {
	t.Helper()
	ctx := context.Background()
	tests := []struct {
		name      string
		ownership []string
		viaPlugin bool
		want      []string
	}{
		{name: "a user owning nothing owns itself", want: []string{alice}},
		{name: "a user's ownership refs come from its token", ownership: []string{alice, "group:default/team-a"}, want: []string{alice, "group:default/team-a"}},
		{name: "ownership survives a call through another plugin", ownership: []string{"group:default/team-a"}, viaPlugin: true, want: []string{"group:default/team-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			a := env.Auth("a")
			creds := authenticateUser(t, env, a, tt.ownership...)
			if tt.viaPlugin {
				tok, err := a.PluginRequestToken(ctx, creds, "b")
				if err != nil {
					t.Fatalf("PluginRequestToken(user, b) = %v", err)
				}
				if creds, err = env.Auth("b").Authenticate(ctx, tok); err != nil {
					t.Fatalf("plugin b: Authenticate(token on behalf of user) = %v", err)
				}
			}
			d, err := env.UserInfo().Get(ctx, creds)
			if err != nil || d.UserEntityRef != alice || !slices.Equal(d.OwnershipEntityRefs, tt.want) {
				t.Errorf("UserInfo.Get(%s): got %+v, %v; want user %s owning %q", tt.name, d, err, alice, tt.want)
			}
		})
	}
	t.Run("non-user credentials are an input error", func(t *testing.T) {
		env := newEnv(t)
		a := env.Auth("a")
		for _, c := range []core.Credentials{a.NoneCredentials(), a.OwnServiceCredentials()} {
			_, err := env.UserInfo().Get(ctx, c)
			checkErr(t, "UserInfo.Get("+c.String()+")", err, errs.Input, "")
		}
	})
}
