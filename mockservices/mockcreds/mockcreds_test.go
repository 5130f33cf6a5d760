package mockcreds_test

import (
	"context"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

func TestCallers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		caller      mockcreds.Caller
		wantToken   string
		wantType    core.PrincipalType
		wantID      string // user entity ref or service subject
		wantLimited bool
	}{
		{"default user", mockcreds.User(), "mock-user-token", core.PrincipalUser, "user:default/mock", false},
		{"named user", mockcreds.User("user:default/alice"), `mock-user-token:{"sub":"user:default/alice"}`, core.PrincipalUser, "user:default/alice", false},
		{"user with ownership", mockcreds.User("user:default/alice").WithOwnership("group:default/team"), `mock-user-token:{"sub":"user:default/alice","ent":["group:default/team"]}`, core.PrincipalUser, "user:default/alice", false},
		{"default limited user", mockcreds.LimitedUser(), "mock-limited-user-token:eyJzdWIiOiJ1c2VyOmRlZmF1bHQvbW9jayJ9", core.PrincipalUser, "user:default/mock", true},
		{"default service", mockcreds.ServiceCaller(mockcreds.ServiceOptions{}), "mock-service-token", core.PrincipalService, "external:test-service", false},
		{"service with target", mockcreds.ServiceCaller(mockcreds.ServiceOptions{TargetPluginID: "todo"}), `mock-service-token:{"target":"todo"}`, core.PrincipalService, "external:test-service", false},
		{"service with subject", mockcreds.ServiceCaller(mockcreds.ServiceOptions{Subject: "plugin:catalog", TargetPluginID: "todo"}), `mock-service-token:{"sub":"plugin:catalog","target":"todo"}`, core.PrincipalService, "plugin:catalog", false},
		{"service on behalf of a user", mockcreds.ServiceCaller(mockcreds.ServiceOptions{TargetPluginID: "todo", OnBehalfOf: "user:default/bob"}), `mock-service-token:{"target":"todo","obo":"user:default/bob"}`, core.PrincipalUser, "user:default/bob", false},
		{"none", mockcreds.None(), "", core.PrincipalNone, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.caller
			if c.Token() != tt.wantToken {
				t.Errorf("Token() = %q, want %q", c.Token(), tt.wantToken)
			}
			wantHeader := ""
			if tt.wantToken != "" {
				wantHeader = "Bearer " + tt.wantToken
			}
			if c.Header() != wantHeader {
				t.Errorf("Header() = %q, want %q", c.Header(), wantHeader)
			}
			ck := c.Cookie()
			if ck.Name != "greenroom-auth" || ck.String() != "greenroom-auth="+ck.Value {
				t.Errorf("Cookie() = %v, want greenroom-auth with a value net/http keeps", ck)
			}
			if cc, err := mockservices.Auth("todo").Authenticate(context.Background(), ck.Value); tt.wantToken != "" && (err != nil || cc.Principal != c.Credentials().Principal) {
				t.Errorf("Authenticate(Cookie().Value) = %v, %v; want %v", cc, err, c.Credentials())
			}
			creds := c.Credentials()
			id := creds.Principal.UserEntityRef + creds.Principal.Subject
			if creds.Type() != tt.wantType || id != tt.wantID || creds.Limited != tt.wantLimited {
				t.Errorf("Credentials() = %v (limited %v), want %s %s (limited %v)", creds, creds.Limited, tt.wantType, tt.wantID, tt.wantLimited)
			}
			if !strings.HasPrefix(c.String(), "mock credentials{") {
				t.Errorf("String() = %q", c.String())
			}
			// What the caller says its credentials are is what the auth fake
			// makes of its token.
			if tt.wantToken != "" {
				got, err := mockservices.Auth("todo").Authenticate(context.Background(), c.Token())
				if err != nil || got.Principal != creds.Principal || got.Limited != creds.Limited {
					t.Errorf("Auth(todo).Authenticate(Token()) = %v, %v; want %v", got, err, creds)
				}
			}
		})
	}
}

func TestCookieSurvivesHTTP(t *testing.T) {
	t.Parallel()
	// net/http drops bytes a cookie value cannot hold: the limited token
	// must not have any.
	ck := mockcreds.LimitedUser("user:default/alice").Cookie()
	if got := ck.String(); got != "greenroom-auth="+ck.Value {
		t.Errorf("Cookie().String() = %q, want the token unchanged", got)
	}
}

func TestCallerPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func()
		want string
	}{
		{"User with a group ref", func() { mockcreds.User("group:default/team") }, `mockcreds: User: invalid user entity reference "group:default/team": kind is "group"`},
		{"User with a malformed ref", func() { mockcreds.User("alice") }, `mockcreds: User: invalid user entity reference "alice"`},
		{"User with two refs", func() { mockcreds.User("user:default/a", "user:default/b") }, "mockcreds: User: at most one user entity ref, got 2"},
		{"LimitedUser with a malformed ref", func() { mockcreds.LimitedUser("x") }, `mockcreds: LimitedUser: invalid user entity reference "x"`},
		{"ServiceCaller on behalf of a malformed ref", func() { mockcreds.ServiceCaller(mockcreds.ServiceOptions{OnBehalfOf: "bob"}) }, `mockcreds: ServiceCaller: invalid user entity reference "bob"`},
		{"WithOwnership on a service", func() { mockcreds.ServiceCaller(mockcreds.ServiceOptions{}).WithOwnership("group:default/a") }, "mockcreds: WithOwnership: credentials{service external:test-service} is not a User caller"},
		{"WithOwnership on a limited user", func() { mockcreds.LimitedUser().WithOwnership("group:default/a") }, "is not a User caller"},
		{"WithOwnership with a malformed ref", func() { mockcreds.User().WithOwnership("team") }, `mockcreds: WithOwnership: invalid entity reference "team"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tt.want) {
					t.Errorf("panic %v, want one containing %q", r, tt.want)
				}
			}()
			tt.fn()
		})
	}
}
