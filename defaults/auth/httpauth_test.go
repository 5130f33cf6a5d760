package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/reqctx"
)

// countingAuth counts Authenticate calls.
type countingAuth struct {
	core.Auth
	calls atomic.Int32
}

func (c *countingAuth) Authenticate(ctx context.Context, token string) (core.Credentials, error) {
	c.calls.Add(1)
	return c.Auth.Authenticate(ctx, token)
}

func TestHTTPAuthCredentials(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "externalAccess: [{type: static, options: {token: static-token-1, subject: ci}}]")
	catalog := e.auth("catalog")
	ha, err := NewHTTPAuth(catalog, "http://localhost:7007/api/catalog")
	if err != nil {
		t.Fatal(err)
	}
	userTok := e.userToken("user:default/alice", nil, time.Hour)
	user, err := catalog.Authenticate(ctx, userTok)
	if err != nil {
		t.Fatal(err)
	}
	limitedTok, _, err := catalog.LimitedUserToken(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	serviceTok := mustToken(t)(e.auth("search").PluginRequestToken(ctx, core.Credentials{Principal: core.Principal{Type: core.PrincipalService}}, "catalog"))

	type want struct {
		typ     core.PrincipalType
		limited bool
		kind    errs.Name
		msg     string
	}
	tests := []struct {
		name          string
		header        string
		cookie        string
		limitedAccess bool
		allow         []core.PrincipalType
		want          want
	}{
		{"no header", "", "", false, nil, want{typ: core.PrincipalNone}},
		{"no header, none disallowed", "", "", false, []core.PrincipalType{core.PrincipalUser, core.PrincipalService}, want{kind: errs.Authentication, msg: "Missing credentials"}},
		{"no header, none allowed", "", "", false, []core.PrincipalType{core.PrincipalNone}, want{typ: core.PrincipalNone}},
		{"user", "Bearer " + userTok, "", false, []core.PrincipalType{core.PrincipalUser}, want{typ: core.PrincipalUser}},
		{"lower-case scheme", "bearer " + userTok, "", false, nil, want{typ: core.PrincipalUser}},
		{"upper-case scheme, several spaces", "BEARER   " + userTok, "", false, nil, want{typ: core.PrincipalUser}},
		{"user disallowed", "Bearer " + userTok, "", false, []core.PrincipalType{core.PrincipalService}, want{kind: errs.NotAllowed, msg: "This endpoint does not allow 'user' credentials"}},
		{"service", "Bearer " + serviceTok, "", false, []core.PrincipalType{core.PrincipalUser, core.PrincipalService}, want{typ: core.PrincipalService}},
		{"service disallowed", "Bearer " + serviceTok, "", false, []core.PrincipalType{core.PrincipalUser}, want{kind: errs.NotAllowed, msg: "This endpoint does not allow 'service' credentials"}},
		{"static", "Bearer static-token-1", "", false, nil, want{typ: core.PrincipalService}},
		{"basic scheme is no token", "Basic dXNlcjpwYXNz", "", false, nil, want{typ: core.PrincipalNone}},
		{"token with a space is no token", "Bearer a b", "", false, nil, want{typ: core.PrincipalNone}},
		{"scheme without space is no token", "Bearer" + userTok, "", false, nil, want{typ: core.PrincipalNone}},
		{"invalid token", "Bearer mock-user-token", "", false, nil, want{kind: errs.Authentication, msg: msgIllegalToken}},
		{"invalid token even if none allowed", "Bearer mock-user-token", "", false, []core.PrincipalType{core.PrincipalNone}, want{kind: errs.Authentication, msg: msgIllegalToken}},
		{"limited bearer without cookie policy", "Bearer " + limitedTok, "", false, nil, want{kind: errs.Authentication, msg: "Limited user token is not allowed here"}},
		{"limited bearer with cookie policy", "Bearer " + limitedTok, "", true, []core.PrincipalType{core.PrincipalUser}, want{typ: core.PrincipalUser, limited: true}},
		{"cookie without cookie policy is ignored", "", limitedTok, false, nil, want{typ: core.PrincipalNone}},
		{"cookie with cookie policy", "", limitedTok, true, []core.PrincipalType{core.PrincipalUser}, want{typ: core.PrincipalUser, limited: true}},
		{"header wins over cookie", "Bearer " + serviceTok, limitedTok, true, nil, want{typ: core.PrincipalService}},
		{"invalid cookie", "", "garbage", true, nil, want{kind: errs.Authentication, msg: msgIllegalToken}},
		{"full user token in cookie", "", userTok, true, nil, want{typ: core.PrincipalUser}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/catalog/x", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: CookieName, Value: tc.cookie})
			}
			r = r.WithContext(reqctx.With(r.Context(), &reqctx.State{LimitedAccess: tc.limitedAccess, PluginID: "catalog"}))
			creds, err := ha.Credentials(r, tc.allow...)
			if tc.want.msg != "" {
				wantErr(t, err, tc.want.kind, tc.want.msg)
				if !creds.IsNone() {
					t.Errorf("credentials = %v with an error", creds)
				}
				return
			}
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			if creds.Type() != tc.want.typ || creds.Limited != tc.want.limited {
				t.Errorf("credentials = %v (limited %v), want %s (limited %v)", creds, creds.Limited, tc.want.typ, tc.want.limited)
			}
		})
	}
}

func TestHTTPAuthMemoizes(t *testing.T) {
	e := newEnv(t, "")
	counting := &countingAuth{Auth: e.auth("catalog")}
	ha, err := NewHTTPAuth(counting, "http://localhost:7007/api/catalog")
	if err != nil {
		t.Fatal(err)
	}
	tok := e.userToken("user:default/alice", nil, time.Hour)

	newReq := func(state *reqctx.State) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if state != nil {
			r = r.WithContext(reqctx.With(r.Context(), state))
		}
		return r
	}
	r := newReq(&reqctx.State{})
	for range 3 {
		if _, err := ha.Credentials(r, core.PrincipalUser); err != nil {
			t.Fatal(err)
		}
	}
	// The allow check applies to the memoized credentials too.
	_, err = ha.Credentials(r, core.PrincipalService)
	wantErr(t, err, errs.NotAllowed, "This endpoint does not allow 'user' credentials")
	if n := counting.calls.Load(); n != 1 {
		t.Errorf("Authenticate called %d times for one request, want 1", n)
	}
	// Without request state (outside a plugin router) every call verifies.
	r = newReq(nil)
	_, _ = ha.Credentials(r)
	_, _ = ha.Credentials(r)
	if n := counting.calls.Load(); n != 3 {
		t.Errorf("Authenticate called %d times, want 3", n)
	}
}

func TestIssueUserCookie(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	catalog := e.auth("catalog")
	user, err := catalog.Authenticate(ctx, e.userToken("user:default/alice", nil, 2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		baseURL  string
		secure   bool
		sameSite http.SameSite
	}{
		{"http", "http://localhost:7007/api/catalog", false, http.SameSiteLaxMode},
		{"https", "https://greenroom.example.com/api/catalog", true, http.SameSiteNoneMode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ha, err := NewHTTPAuth(catalog, tc.baseURL)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			exp, err := ha.IssueUserCookie(w, httptest.NewRequest("GET", "/api/catalog/.greenroom/auth/v1/cookie", nil), user)
			if err != nil {
				t.Fatal(err)
			}
			if !exp.Equal(testNow.Add(2 * time.Hour)) {
				t.Errorf("expiry = %v, want the user's", exp)
			}
			cookies := w.Result().Cookies()
			if len(cookies) != 1 {
				t.Fatalf("%d cookies set", len(cookies))
			}
			c := cookies[0]
			if c.Name != CookieName || c.Path != "/" || !c.HttpOnly || c.Secure != tc.secure || c.SameSite != tc.sameSite || c.Domain != "" || !c.Expires.Equal(exp) {
				t.Errorf("cookie = %+v", c)
			}
			// The cookie authenticates as limited user on a cookie path.
			r := httptest.NewRequest("GET", "/api/catalog/img", nil)
			r.AddCookie(&http.Cookie{Name: CookieName, Value: c.Value})
			r = r.WithContext(reqctx.With(r.Context(), &reqctx.State{LimitedAccess: true}))
			creds, err := ha.Credentials(r, core.PrincipalUser)
			if err != nil || !creds.Limited || creds.Principal.UserEntityRef != "user:default/alice" {
				t.Errorf("cookie credentials = %+v, %v", creds, err)
			}
		})
	}

	ha, err := NewHTTPAuth(catalog, "https://greenroom.example.com/api/catalog")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("none clears the cookie", func(t *testing.T) {
		w := httptest.NewRecorder()
		exp, err := ha.IssueUserCookie(w, httptest.NewRequest("DELETE", "/", nil), catalog.NoneCredentials())
		if err != nil || !exp.IsZero() {
			t.Fatalf("IssueUserCookie(none) = %v, %v", exp, err)
		}
		c := w.Result().Cookies()
		if len(c) != 1 || c[0].Name != CookieName || c[0].MaxAge != -1 || c[0].Value != "" || c[0].Path != "/" || !c[0].Secure {
			t.Errorf("cookies = %+v", c)
		}
	})
	t.Run("service is refused", func(t *testing.T) {
		w := httptest.NewRecorder()
		_, err := ha.IssueUserCookie(w, httptest.NewRequest("GET", "/", nil), catalog.OwnServiceCredentials())
		wantErr(t, err, errs.NotAllowed, "Refused to issue cookie for non-user principal 'service'")
		if len(w.Result().Cookies()) != 0 {
			t.Error("a cookie was set")
		}
	})
	t.Run("user without token is refused", func(t *testing.T) {
		w := httptest.NewRecorder()
		_, err := ha.IssueUserCookie(w, httptest.NewRequest("GET", "/", nil), core.NewCredentials(user.Principal, time.Time{}, ""))
		if !errs.Is(err, errs.Authentication) || len(w.Result().Cookies()) != 0 {
			t.Errorf("error = %v, cookies = %v", err, w.Result().Cookies())
		}
	})
}

func TestNewHTTPAuthErrors(t *testing.T) {
	e := newEnv(t, "")
	a := e.auth("catalog")
	for _, u := range []string{"", "localhost:7007", "/api/catalog", "ftp://x/api/catalog", "http://%zz"} {
		if _, err := NewHTTPAuth(a, u); err == nil {
			t.Errorf("NewHTTPAuth(%q) succeeded", u)
		}
	}
	if _, err := NewHTTPAuth(nil, "http://localhost"); err == nil {
		t.Error("NewHTTPAuth(nil) succeeded")
	}
}
