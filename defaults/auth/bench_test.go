package auth

import (
	"context"
	"strings"
	"testing"
	"time"
)

// BenchmarkAuthenticate measures the verification of each token kind by a
// plugin of the issuing backend (no network).
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, "externalAccess: [{type: static, options: {token: static-token-1, subject: ci}}, {type: static, options: {token: static-token-2, subject: ci2}}]")
	k := e.k
	catalog, err := NewAuth(k, "catalog", e.disc, nil)
	if err != nil {
		b.Fatal(err)
	}
	search, err := NewAuth(k, "search", e.disc, nil)
	if err != nil {
		b.Fatal(err)
	}
	userTok, err := e.issuer.Issue("user:default/alice", []string{"group:default/a"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	user, err := catalog.Authenticate(ctx, userTok)
	if err != nil {
		b.Fatal(err)
	}
	serviceTok, err := search.PluginRequestToken(ctx, search.OwnServiceCredentials(), "catalog")
	if err != nil {
		b.Fatal(err)
	}
	oboTok, err := search.PluginRequestToken(ctx, user, "catalog")
	if err != nil {
		b.Fatal(err)
	}
	limitedTok, _, err := search.LimitedUserToken(ctx, user)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, token string
		fails       bool // the token is refused: the benchmark measures the refusal
	}{
		{"static", "static-token-2", false},
		{"user", userTok, false},
		{"limited", limitedTok, false},
		{"plugin", serviceTok, false},
		{"plugin-obo", oboTok, false},
		{"illegal", "mock-user-token", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_, err := catalog.Authenticate(ctx, bc.token)
				if bc.fails {
					if err == nil || !strings.Contains(err.Error(), msgIllegalToken) {
						b.Fatalf("Authenticate(%q) = %v, want %q", bc.token, err, msgIllegalToken)
					}
				} else if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("issue-plugin-token", func(b *testing.B) {
		for b.Loop() {
			if _, err := catalog.PluginRequestToken(ctx, user, "search"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
