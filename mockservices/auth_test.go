package mockservices_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

func TestAuthAuthenticate(t *testing.T) {
	tests := []struct {
		token   string
		want    string // Credentials.String, when wantErr is ""
		limited bool
		wantErr string
	}{
		{token: "mock-user-token", want: "credentials{user user:default/mock}"},
		{token: `mock-user-token:{"sub":"user:default/alice","ent":["group:default/a"]}`, want: "credentials{user user:default/alice}"},
		{token: `mock-limited-user-token:{"sub":"user:default/alice"}`, want: "credentials{user user:default/alice}", limited: true},
		{token: "mock-service-token", want: "credentials{service external:test-service}"},
		{token: `mock-service-token:{"sub":"plugin:catalog"}`, want: "credentials{service plugin:catalog}"},
		{token: `mock-service-token:{"target":"todo"}`, want: "credentials{service external:test-service}"},
		{token: `mock-service-token:{"target":"todo","obo":"user:default/bob"}`, want: "credentials{user user:default/bob}"},
		{token: "", wantErr: "Token is empty"},
		{token: "mock-invalid-user-token", wantErr: "User token is invalid"},
		{token: "mock-invalid-limited-user-token", wantErr: "Limited user token is invalid"},
		{token: "mock-invalid-service-token", wantErr: "Service token is invalid"},
		{token: `mock-service-token:{"target":"catalog"}`, wantErr: "Invalid mock token target plugin ID, got 'catalog' but expected 'todo'"},
		{token: "mock-none-token", wantErr: "Unknown mock token 'mock-none-token'"},
		{token: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", wantErr: "Unknown mock token 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'"},
		{token: `other:{"sub":"user:default/a"}`, wantErr: `Unknown mock token 'other:{"sub":"user:default/a"}'`},
		{token: `mock-user-token:{"sub":`, wantErr: `Mock token 'mock-user-token:{"sub":' has an invalid JSON payload`},
		{token: `mock-user-token:{"sub":"user:default/a","extra":1}`, wantErr: `Mock token 'mock-user-token:{"sub":"user:default/a","extra":1}' has an invalid JSON payload`},
		{token: "mock-user-token:!!", wantErr: "Mock token 'mock-user-token:!!' has a payload that is neither JSON nor base64url-encoded JSON"},
		{token: `mock-user-token:{"sub":"group:default/a"}`, wantErr: `Mock user token has an invalid sub claim "group:default/a"`},
		{token: `mock-service-token:{"obo":"bob"}`, wantErr: `Mock service token has an invalid obo claim "bob"`},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			c, err := mockservices.Auth("todo").Authenticate(context.Background(), tt.token)
			if tt.wantErr != "" {
				e, ok := errs.As(err)
				if !ok || e.Name != errs.Authentication || e.Message != tt.wantErr {
					t.Errorf("Authenticate = %v, want AuthenticationError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.String() != tt.want || c.Limited != tt.limited || c.Token() != tt.token {
				t.Errorf("Authenticate = %v (limited %v, token %q), %v; want %s (limited %v)", c, c.Limited, c.Token(), err, tt.want, tt.limited)
			}
		})
	}
}

func TestAuthPluginRequestToken(t *testing.T) {
	ctx := context.Background()
	a := mockservices.Auth("todo")
	expired := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/a"}, time.Now().Add(-time.Minute), "mock-user-token")
	tests := []struct {
		name       string
		onBehalfOf core.Credentials
		target     string
		want       string
		wantErr    errs.Name
	}{
		{"own service", a.OwnServiceCredentials(), "catalog", `mock-service-token:{"sub":"plugin:todo","target":"catalog"}`, ""},
		{"external service", mockcreds.ServiceCaller(mockcreds.ServiceOptions{}).Credentials(), "catalog", `mock-service-token:{"sub":"plugin:todo","target":"catalog"}`, ""},
		{"user", mockcreds.User("user:default/alice").Credentials(), "catalog", `mock-service-token:{"sub":"plugin:todo","target":"catalog","obo":"user:default/alice"}`, ""},
		{"user with ownership", mockcreds.User("user:default/alice").WithOwnership("group:default/a").Credentials(), "catalog", `mock-service-token:{"sub":"plugin:todo","ent":["group:default/a"],"target":"catalog","obo":"user:default/alice"}`, ""},
		{"none", a.NoneCredentials(), "catalog", "", errs.Authentication},
		{"user without a token", core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/a"}, time.Time{}, ""), "catalog", "", errs.Authentication},
		{"expired user", expired, "catalog", "", errs.Authentication},
		{"empty target", a.OwnServiceCredentials(), "", "", errs.Input},
		{"target with a slash", a.OwnServiceCredentials(), "a/b", "", errs.Input},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.PluginRequestToken(ctx, tt.onBehalfOf, tt.target)
			if tt.wantErr != "" {
				if !errs.Is(err, tt.wantErr) {
					t.Errorf("PluginRequestToken = %q, %v; want a %s", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("PluginRequestToken = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("ownership survives a hop", func(t *testing.T) {
		tok, _ := a.PluginRequestToken(ctx, mockcreds.User("user:default/alice").WithOwnership("group:default/a").Credentials(), "catalog")
		c, err := mockservices.Auth("catalog").Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		d, err := mockservices.UserInfo().Get(ctx, c)
		if err != nil || !slices.Equal(d.OwnershipEntityRefs, []string{"group:default/a"}) {
			t.Errorf("UserInfo after a hop = %+v, %v; want ownership group:default/a", d, err)
		}
	})
}

func TestAuthLimitedUserToken(t *testing.T) {
	ctx := context.Background()
	a := mockservices.Auth("todo")
	soon := time.Now().Add(10 * time.Minute)
	tests := []struct {
		name    string
		user    core.Credentials
		want    string
		wantExp func(time.Time) bool
		wantErr errs.Name
	}{
		{"user", mockcreds.User("user:default/alice").Credentials(), mockcreds.LimitedUser("user:default/alice").Token(),
			func(e time.Time) bool {
				return e.After(time.Now().Add(59*time.Minute)) && !e.After(time.Now().Add(time.Hour))
			}, ""},
		{"user expiring sooner than an hour", core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/a"}, soon, "mock-user-token"),
			mockcreds.LimitedUser("user:default/a").Token(), func(e time.Time) bool { return e.Equal(soon) }, ""},
		{"limited user passes through", mockcreds.LimitedUser("user:default/bob").Credentials(), mockcreds.LimitedUser("user:default/bob").Token(),
			func(e time.Time) bool { return e.IsZero() }, ""},
		{"service", a.OwnServiceCredentials(), "", nil, errs.NotAllowed},
		{"none", a.NoneCredentials(), "", nil, errs.NotAllowed},
		{"user without a token", core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/a"}, time.Time{}, ""), "", nil, errs.Authentication},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, exp, err := a.LimitedUserToken(ctx, tt.user)
			if tt.wantErr != "" {
				if !errs.Is(err, tt.wantErr) {
					t.Errorf("LimitedUserToken = %q, %v; want a %s", tok, err, tt.wantErr)
				}
				return
			}
			if err != nil || tok != tt.want || !tt.wantExp(exp) {
				t.Errorf("LimitedUserToken = %q, %v, %v; want %q", tok, exp, err, tt.want)
			}
		})
	}
}

func TestAuthCalls(t *testing.T) {
	ctx := context.Background()
	a := mockservices.Auth("todo")
	_, _ = a.Authenticate(ctx, "mock-user-token")
	_, _ = a.PluginRequestToken(ctx, a.OwnServiceCredentials(), "catalog")
	_, _, _ = a.LimitedUserToken(ctx, a.NoneCredentials())
	_, _ = a.Authenticate(ctx, "")
	keys, err := a.PublicServiceKeys(ctx)
	if err != nil || keys.Keys == nil || len(keys.Keys) != 0 {
		t.Errorf("PublicServiceKeys = %v, %v; want an empty set", keys, err)
	}
	var got []string
	for _, c := range a.Calls() {
		got = append(got, c.String())
	}
	want := []string{
		`Authenticate("mock-user-token")`,
		`PluginRequestToken(credentials{service plugin:todo}, "catalog")`,
		`LimitedUserToken(credentials{none}) = NotAllowedError: Refused to issue limited user token for non-user principal 'none'`,
		`Authenticate("") = AuthenticationError: Token is empty`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Calls() (-want +got):\n%s", diff)
	}
	if n := len(a.Calls("Authenticate")); n != 2 {
		t.Errorf("Calls(Authenticate) has %d calls, want 2", n)
	}
}

func TestHTTPAuthFake(t *testing.T) {
	user := mockcreds.User("user:default/alice")
	tests := []struct {
		name    string
		opts    []mockservices.HTTPAuthOption
		header  string
		allow   []core.PrincipalType
		want    string
		wantErr string
	}{
		{name: "no header is none", want: "credentials{none}"},
		{name: "default credentials stand in for no header", opts: []mockservices.HTTPAuthOption{mockservices.WithDefaultCredentials(user.Credentials())}, allow: []core.PrincipalType{core.PrincipalUser}, want: "credentials{user user:default/alice}"},
		{name: "a header wins over default credentials", opts: []mockservices.HTTPAuthOption{mockservices.WithDefaultCredentials(user.Credentials())}, header: mockcreds.User().Header(), want: "credentials{user user:default/mock}"},
		{name: "none is refused", allow: []core.PrincipalType{core.PrincipalUser}, wantErr: "AuthenticationError: Missing credentials"},
		{name: "a service is refused", header: mockcreds.ServiceCaller(mockcreds.ServiceOptions{}).Header(), allow: []core.PrincipalType{core.PrincipalUser}, wantErr: "NotAllowedError: This endpoint does not allow 'service' credentials"},
		{name: "an invalid token is refused", header: "Bearer " + mockcreds.InvalidUserToken, wantErr: "AuthenticationError: User token is invalid"},
		{name: "a limited token is refused without a user-cookie policy", header: mockcreds.LimitedUser().Header(), wantErr: "AuthenticationError: Limited user token is not allowed here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mockservices.HTTPAuth(mockservices.Auth("todo"), tt.opts...)
			r := httptest.NewRequest(http.MethodGet, "/api/todo/x", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			c, err := h.Credentials(r, tt.allow...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("Credentials = %v, %v; want error %q", c, err, tt.wantErr)
				}
			} else if err != nil || c.String() != tt.want {
				t.Errorf("Credentials = %v, %v; want %s", c, err, tt.want)
			}
			if calls := h.Calls("Credentials"); len(calls) != 1 || calls[0].Args[0] != "GET /api/todo/x" || calls[0].Err != err {
				t.Errorf("Calls(Credentials) = %v, want the one call", calls)
			}
		})
	}
}

func TestHTTPAuthIssueUserCookieFails(t *testing.T) {
	// An auth that cannot issue a limited token makes IssueUserCookie fail
	// and set no cookie.
	h := mockservices.HTTPAuth(mockservices.Auth("todo"))
	rec := httptest.NewRecorder()
	forged := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/a"}, time.Time{}, "")
	if _, err := h.IssueUserCookie(rec, httptest.NewRequest(http.MethodGet, "/", nil), forged); !errs.Is(err, errs.Authentication) {
		t.Errorf("IssueUserCookie(user without token) = %v, want an AuthenticationError", err)
	}
	if len(rec.Result().Cookies()) != 0 {
		t.Errorf("a cookie was set: %v", rec.Result().Cookies())
	}
	if c := h.Calls("IssueUserCookie"); len(c) != 1 || c[0].Err == nil {
		t.Errorf("Calls(IssueUserCookie) = %v", c)
	}
}

func TestUserInfoFake(t *testing.T) {
	ctx := context.Background()
	u := mockservices.UserInfo()
	d, err := u.Get(ctx, mockcreds.User("user:default/alice").WithOwnership().Credentials())
	if err != nil || !slices.Equal(d.OwnershipEntityRefs, []string{"user:default/alice"}) {
		t.Errorf("Get(user with no ownership refs) = %+v, %v; want the user itself", d, err)
	}
	_, err = u.Get(ctx, mockcreds.None().Credentials())
	if e, ok := errs.As(err); !ok || e.Name != errs.Input || e.Message != "Only user credentials are supported" {
		t.Errorf("Get(none) = %v, want InputError \"Only user credentials are supported\"", err)
	}
	if n := len(u.Calls()); n != 2 {
		t.Errorf("Calls() has %d calls, want 2", n)
	}
}

func TestDiscoveryFake(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		base, plugin, want string
		wantErr            bool
	}{
		{"", "todo", "http://localhost:0/api/todo", false},
		{"http://127.0.0.1:8080/", "todo", "http://127.0.0.1:8080/api/todo", false},
		{"https://example.com//", "catalog", "https://example.com/api/catalog", false},
		{"", "", "", true},
		{"", "a/b", "", true},
		{"", "a?b", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.plugin, func(t *testing.T) {
			d := mockservices.Discovery(tt.base)
			for _, fn := range []func(context.Context, string) (string, error){d.BaseURL, d.ExternalBaseURL} {
				got, err := fn(ctx, tt.plugin)
				if tt.wantErr {
					if !errs.Is(err, errs.Input) {
						t.Errorf("= %q, %v; want an InputError", got, err)
					}
					continue
				}
				if err != nil || got != tt.want {
					t.Errorf("= %q, %v; want %q", got, err, tt.want)
				}
			}
			if calls := d.Calls(); len(calls) != 2 || calls[0].Method != "BaseURL" || calls[1].Method != "ExternalBaseURL" {
				t.Errorf("Calls() = %v", calls)
			}
		})
	}
}

func TestHealthFake(t *testing.T) {
	ctx := context.Background()
	h := mockservices.RootHealth()
	if !h.Liveness(ctx).OK() || !h.Readiness(ctx).OK() {
		t.Errorf("a new RootHealth is not live and ready")
	}
	down := core.HealthStatus{Status: "error", Message: "maintenance"}
	h.SetReadiness(down)
	h.SetLiveness(down)
	if h.Readiness(ctx) != down || h.Liveness(ctx) != down {
		t.Errorf("after the setters: liveness %v, readiness %v; want %v", h.Liveness(ctx), h.Readiness(ctx), down)
	}
}

// A user ref longer than core.MaxEntityRefLength is refused when a mock
// token is read, as the production auth service refuses it, so that a
// plugin's tests see the 401 production gives rather than a database error.
func TestAuthRejectsOverlongUserRef(t *testing.T) {
	t.Parallel()
	long := "user:default/" + strings.Repeat("a", core.MaxEntityRefLength+1-len("user:default/"))
	for _, token := range []string{
		`mock-user-token:{"sub":"` + long + `"}`,
		`mock-limited-user-token:{"sub":"` + long + `"}`,
		`mock-service-token:{"obo":"` + long + `"}`,
	} {
		_, err := mockservices.Auth("todo").Authenticate(context.Background(), token)
		if !errs.Is(err, errs.Authentication) || !strings.Contains(err.Error(), "more than the maximum of 255") {
			t.Errorf("Authenticate(token with a %d-character ref) = %v, want an AuthenticationError naming the maximum", len(long), err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("mockcreds.User(%d-character ref) did not panic", len(long))
		}
	}()
	mockcreds.User(long)
}
