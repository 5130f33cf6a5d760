package auth

import (
	"context"
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
	search, _ := NewAuth(k, "search", e.disc, nil)
	userTok, _ := e.issuer.Issue("user:default/alice", []string{"group:default/a"}, time.Hour)
	user, err := catalog.Authenticate(ctx, userTok)
	if err != nil {
		b.Fatal(err)
	}
	serviceTok, _ := search.PluginRequestToken(ctx, search.OwnServiceCredentials(), "catalog")
	oboTok, _ := search.PluginRequestToken(ctx, user, "catalog")
	limitedTok, _, _ := search.LimitedUserToken(ctx, user)
	for _, bc := range []struct{ name, token string }{
		{"static", "static-token-2"},
		{"user", userTok},
		{"limited", limitedTok},
		{"plugin", serviceTok},
		{"plugin-obo", oboTok},
		{"illegal", "mock-user-token"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = catalog.Authenticate(ctx, bc.token)
			}
		})
	}
	b.Run("issue-plugin-token", func(b *testing.B) {
		for b.Loop() {
			_, _ = catalog.PluginRequestToken(ctx, user, "search")
		}
	})
}
