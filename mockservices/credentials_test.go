package mockservices_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
)

// fakeTB is a testing.TB whose failure and cleanups a test controls, to
// check what helpers do when a test fails. Only the methods below may be
// called; the embedded nil interface makes any other one panic.
type fakeTB struct {
	testing.TB
	real     *testing.T
	failed   bool
	logs     []string
	cleanups []func()
}

func newFakeTB(t *testing.T) *fakeTB { return &fakeTB{real: t} }

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Failed() bool      { return f.failed }
func (f *fakeTB) Log(args ...any)   { f.logs = append(f.logs, fmt.Sprint(args...)) }
func (f *fakeTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Errorf(format string, args ...any) { f.failed = true; f.Logf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	panic("Fatalf")
}
func (f *fakeTB) TempDir() string { return f.real.TempDir() }

// finish runs the cleanups, last registered first, as the testing package
// does when a test ends.
func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.cleanups = nil
}

func TestCallers(t *testing.T) {
	tests := []struct {
		name        string
		caller      mockservices.Caller
		wantToken   string
		wantType    core.PrincipalType
		wantID      string // user entity ref or service subject
		wantLimited bool
	}{
		{"default user", mockservices.User(), "mock-user-token", core.PrincipalUser, "user:default/mock", false},
		{"named user", mockservices.User("user:default/alice"), `mock-user-token:{"sub":"user:default/alice"}`, core.PrincipalUser, "user:default/alice", false},
		{"user with ownership", mockservices.User("user:default/alice").WithOwnership("group:default/team"), `mock-user-token:{"sub":"user:default/alice","ent":["group:default/team"]}`, core.PrincipalUser, "user:default/alice", false},
		{"default limited user", mockservices.LimitedUser(), "mock-limited-user-token:eyJzdWIiOiJ1c2VyOmRlZmF1bHQvbW9jayJ9", core.PrincipalUser, "user:default/mock", true},
		{"default service", mockservices.Service(mockservices.ServiceOptions{}), "mock-service-token", core.PrincipalService, "external:test-service", false},
		{"service with target", mockservices.Service(mockservices.ServiceOptions{TargetPluginID: "todo"}), `mock-service-token:{"target":"todo"}`, core.PrincipalService, "external:test-service", false},
		{"service with subject", mockservices.Service(mockservices.ServiceOptions{Subject: "plugin:catalog", TargetPluginID: "todo"}), `mock-service-token:{"sub":"plugin:catalog","target":"todo"}`, core.PrincipalService, "plugin:catalog", false},
		{"service on behalf of a user", mockservices.Service(mockservices.ServiceOptions{TargetPluginID: "todo", OnBehalfOf: "user:default/bob"}), `mock-service-token:{"target":"todo","obo":"user:default/bob"}`, core.PrincipalUser, "user:default/bob", false},
		{"none", mockservices.None(), "", core.PrincipalNone, "", false},
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
	// net/http drops bytes a cookie value cannot hold: the limited token
	// must not have any.
	ck := mockservices.LimitedUser("user:default/alice").Cookie()
	if got := ck.String(); got != "greenroom-auth="+ck.Value {
		t.Errorf("Cookie().String() = %q, want the token unchanged", got)
	}
}

func TestCallerPanics(t *testing.T) {
	tests := []struct {
		name string
		fn   func()
		want string
	}{
		{"User with a group ref", func() { mockservices.User("group:default/team") }, `mockservices: User: invalid user entity reference "group:default/team": kind is "group"`},
		{"User with a malformed ref", func() { mockservices.User("alice") }, `mockservices: User: invalid user entity reference "alice"`},
		{"User with two refs", func() { mockservices.User("user:default/a", "user:default/b") }, "mockservices: User: at most one user entity ref, got 2"},
		{"LimitedUser with a malformed ref", func() { mockservices.LimitedUser("x") }, `mockservices: LimitedUser: invalid user entity reference "x"`},
		{"Service on behalf of a malformed ref", func() { mockservices.Service(mockservices.ServiceOptions{OnBehalfOf: "bob"}) }, `mockservices: Service: invalid user entity reference "bob"`},
		{"WithOwnership on a service", func() { mockservices.Service(mockservices.ServiceOptions{}).WithOwnership("group:default/a") }, "mockservices: WithOwnership: credentials{service external:test-service} is not a User caller"},
		{"WithOwnership on a limited user", func() { mockservices.LimitedUser().WithOwnership("group:default/a") }, "is not a User caller"},
		{"WithOwnership with a malformed ref", func() { mockservices.User().WithOwnership("team") }, `mockservices: WithOwnership: invalid entity reference "team"`},
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
