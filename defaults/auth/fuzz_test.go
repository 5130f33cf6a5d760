package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/defaults/discovery"
	"github.com/greenroom-dev/greenroom/errs"
)

// FuzzAuthenticate sends arbitrary token strings to a production Auth with
// configured user keys and a static token. Authenticate never panics,
// refuses everything with a 401 (or a 403 for the restricted static
// token) and authenticates only the valid tokens it was seeded with,
// byte for byte: no other spelling of a valid token gets in. Run it with
//
//	go test -fuzz FuzzAuthenticate ./defaults/auth
func FuzzAuthenticate(f *testing.F) {
	ctx := context.Background()
	e := newEnv(f, `externalAccess:
  - type: static
    options: {token: fuzz-static-token, subject: ci}
  - type: static
    options: {token: fuzz-restricted-token, subject: ci}
    accessRestrictions: [{plugin: search}]`)
	// The default discovery lists no remote plugins, so no token makes
	// the fuzzer fetch anything.
	disc, err := discovery.New(newConfig(f, ""), nil)
	if err != nil {
		f.Fatal(err)
	}
	newAuth := func(id string) *authService {
		a, err := NewAuth(e.k, id, disc, nil)
		if err != nil {
			f.Fatal(err)
		}
		return a.(*authService)
	}
	catalog, search := newAuth("catalog"), newAuth("search")

	userTok := e.userToken("user:default/alice", []string{"group:default/team"}, time.Hour)
	user, err := catalog.Authenticate(ctx, userTok)
	if err != nil {
		f.Fatal(err)
	}
	limited, _, err := search.LimitedUserToken(ctx, user)
	if err != nil {
		f.Fatal(err)
	}
	valid := map[string]bool{
		userTok: true,
		limited: true,
		mustToken(f)(search.PluginRequestToken(ctx, search.OwnServiceCredentials(), "catalog")): true,
		mustToken(f)(search.PluginRequestToken(ctx, user, "catalog")):                           true,
		"fuzz-static-token": true,
	}
	for tok := range valid {
		if _, err := catalog.Authenticate(ctx, tok); err != nil {
			f.Fatalf("seed %q: %v", tok, err)
		}
		f.Add(tok)
		f.Add(tok[:len(tok)/2])
		f.Add(tok + "A")
		f.Add(strings.ToUpper(tok))
		for i := range 3 {
			if alt, ok := flipUnusedBit(tok, i); ok {
				f.Add(alt)
			}
		}
	}
	for _, s := range []string{
		"", "fuzz-restricted-token", "mock-user-token", `mock-service-token:{"sub":"plugin:test","target":"catalog"}`,
		"a.b.c", "..", "e30.e30.",
		rawJWS(f, map[string]any{"alg": "none", "typ": TokenTypeUser}, userClaims("user:default/alice"), nil),
		rawJWS(f, map[string]any{"alg": "HS256", "typ": TokenTypePlugin, "kid": search.signingKey(f).KeyID}, pluginClaims("search", "catalog"), hs256([]byte("k"))),
		signJWS(f, search.signingKey(f), jose.ES256, TokenTypePlugin, pluginClaims("forged", "catalog")),
		signJWS(f, search.signingKey(f), jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "exp", int64(253402214400))),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		creds, err := catalog.Authenticate(ctx, tok)
		if err == nil {
			if !valid[tok] {
				t.Fatalf("authenticated a token that is not one of the valid seeds: %q as %+v", tok, creds.Principal)
			}
			return
		}
		if !creds.IsNone() || creds.Token() != "" {
			t.Fatalf("credentials %+v returned with error %v", creds, err)
		}
		switch st := errs.StatusCode(err); {
		case st == 401:
		case st == 403 && tok == "fuzz-restricted-token":
		default:
			t.Fatalf("Authenticate(%q) = %v, status %d; want a 401", tok, err, st)
		}
	})
}
