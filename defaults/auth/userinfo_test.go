package auth

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

func TestUserInfo(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	a := e.auth("catalog")
	auth := func(tok string) core.Credentials {
		t.Helper()
		c, err := a.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	alice := core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}
	tests := []struct {
		name  string
		creds core.Credentials
		want  []string
	}{
		{"ent claim", auth(e.userToken("user:default/alice", []string{"user:default/alice", "group:default/team-a"}, time.Hour)), []string{"user:default/alice", "group:default/team-a"}},
		{"no ent claim", auth(e.userToken("user:default/alice", nil, time.Hour)), []string{"user:default/alice"}},
		{"empty ent claim", auth(signJWS(t, e.issuer.key, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "ent", []string{}))), []string{"user:default/alice"}},
		{"kind written in capitals", auth(signJWS(t, e.issuer.key, jose.ES256, TokenTypeUser, userClaims("USER:default/alice"))), []string{"user:default/alice"}},
		{"credentials without token", core.NewCredentials(alice, time.Time{}, ""), []string{"user:default/alice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewUserInfo().Get(ctx, tc.creds)
			if err != nil {
				t.Fatal(err)
			}
			if d.UserEntityRef != "user:default/alice" || !slices.Equal(d.OwnershipEntityRefs, tc.want) {
				t.Errorf("details = %+v, want ownership %v", d, tc.want)
			}
		})
	}

	t.Run("non-user credentials", func(t *testing.T) {
		for _, c := range []core.Credentials{a.NoneCredentials(), a.OwnServiceCredentials(), {}} {
			_, err := NewUserInfo().Get(ctx, c)
			wantErr(t, err, errs.Input, "Only user credentials are supported")
		}
	})
	t.Run("token of another user", func(t *testing.T) {
		c := core.NewCredentials(alice, time.Time{}, e.userToken("user:default/mallory", nil, time.Hour))
		_, err := NewUserInfo().Get(ctx, c)
		if err == nil || !strings.Contains(err.Error(), `the credentials' token belongs to "user:default/mallory"`) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("token that is not a JWT", func(t *testing.T) {
		_, err := NewUserInfo().Get(ctx, core.NewCredentials(alice, time.Time{}, "mock-user-token"))
		if err == nil || !strings.Contains(err.Error(), "user info of 'user:default/alice'") {
			t.Errorf("error = %v", err)
		}
	})
}
