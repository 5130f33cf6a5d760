package auth

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// flipUnusedBit flips the lowest bit of the last character of part i of a
// compact JWS. When the part's length is not a multiple of 4 that bit is
// unused: the part decodes to the same bytes. ok is false when the part
// has no unused bits or tok is not a compact JWS.
func flipUnusedBit(tok string, i int) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	p := parts[i]
	if len(p)%4 == 0 || len(p) == 0 {
		return "", false
	}
	last := strings.IndexByte(b64Alphabet, p[len(p)-1])
	parts[i] = p[:len(p)-1] + string(b64Alphabet[last^1])
	return strings.Join(parts, "."), true
}

// padded signs claims with key and typ, adding a header "x" of n
// characters, so that the header's encoded length can be chosen.
func padded(t *testing.T, key jose.JSONWebKey, typ string, claims map[string]any, n int) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("x", strings.Repeat("x", n)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(with(claims, "pad", strings.Repeat("p", n)))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	return mustToken(t)(jws.CompactSerialize())
}

// TestNonCanonicalEncodingIsRejected checks that a token is accepted in
// exactly one spelling: the unused bits of the last character of each
// part must be zero and no CR or LF may be slipped in. go-jose alone
// accepts both, and the altered tokens authenticated.
func TestNonCanonicalEncodingIsRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "")
	catalog, search := e.auth("catalog"), e.auth("search")
	user, err := catalog.Authenticate(ctx, e.userToken("user:default/alice", nil, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	limited, _, err := search.LimitedUserToken(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string][]string{
		"plugin":  {mustToken(t)(search.PluginRequestToken(ctx, search.OwnServiceCredentials(), "catalog"))},
		"obo":     {mustToken(t)(search.PluginRequestToken(ctx, user, "catalog"))},
		"limited": {limited},
	}
	// Header and payload lengths depend on their content: sign with pads
	// of every length modulo 3 so that each part has unused bits in some
	// of them.
	for n := range 3 {
		tokens["user"] = append(tokens["user"], padded(t, e.issuer.key, TokenTypeUser, userClaims("user:default/alice"), n))
		tokens["plugin"] = append(tokens["plugin"], padded(t, search.signingKey(t), TokenTypePlugin, pluginClaims("search", "catalog"), n))
	}
	for kind, toks := range tokens {
		flipped := [3]bool{}
		for _, tok := range toks {
			if _, err := catalog.Authenticate(ctx, tok); err != nil {
				t.Fatalf("%s: valid token rejected: %v", kind, err)
			}
			for i := range 3 {
				alt, ok := flipUnusedBit(tok, i)
				if !ok {
					continue
				}
				flipped[i] = true
				_, err := catalog.Authenticate(ctx, alt)
				wantErr(t, err, errs.Authentication, msgMalformed)
			}
			for _, at := range []int{10, len(tok) - 5} {
				for _, ws := range []string{"\n", "\r"} {
					_, err := catalog.Authenticate(ctx, tok[:at]+ws+tok[at:])
					wantErr(t, err, errs.Authentication, msgMalformed)
				}
			}
		}
		if !flipped[2] {
			t.Errorf("%s: no token with unused bits in the signature", kind)
		}
		if kind == "user" || kind == "plugin" {
			if !flipped[0] || !flipped[1] {
				t.Errorf("%s: header or payload never had unused bits: %v", kind, flipped)
			}
		}
	}

	// The user token in an obo claim is held to the same rule.
	altUser, ok := flipUnusedBit(user.Token(), 2)
	if !ok {
		t.Fatal("the user token's signature has no unused bits")
	}
	obo := signJWS(t, search.signingKey(t), jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "obo", altUser))
	_, err = catalog.Authenticate(ctx, obo)
	wantErr(t, err, errs.Authentication, msgOBO+": "+msgMalformed)
}

// TestMaxTokenLifetime checks backend.auth.maxTokenLifetime: a token whose
// exp is further than that from its iat is refused, whatever its kind, and
// the tokens Greenroom issues fit. Before it, a token expiring in the year
// 9999 was accepted.
func TestMaxTokenLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	year9999 := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()

	t.Run("default", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, "")
		catalog, search := e.auth("catalog"), e.auth("search")
		if got := e.k.MaxTokenLifetime(); got != 24*time.Hour {
			t.Fatalf("MaxTokenLifetime = %s, want 24h", got)
		}
		lifetime := func(claims map[string]any, d time.Duration) map[string]any {
			return with(claims, "exp", testNow.Add(d).Unix())
		}
		for _, tc := range []struct {
			name  string
			token string
			ok    bool
		}{
			{"user 24h", e.userToken("user:default/alice", nil, 24*time.Hour), true},
			{"user 24h1s", e.userToken("user:default/alice", nil, 24*time.Hour+time.Second), false},
			{"user until 9999", signJWS(t, e.issuer.key, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "exp", year9999)), false},
			{"user issued long ago, expiring soon", signJWS(t, e.issuer.key, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "iat", testNow.Add(-48*time.Hour).Unix())), false},
			{"plugin 24h", signJWS(t, search.signingKey(t), jose.ES256, TokenTypePlugin, lifetime(pluginClaims("search", "catalog"), 24*time.Hour)), true},
			{"plugin until 9999", signJWS(t, search.signingKey(t), jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "exp", year9999)), false},
			{"limited 25h", signJWS(t, search.signingKey(t), jose.ES256, TokenTypeLimitedUser, lifetime(with(userClaims("user:default/alice"), "iss", "search"), 25*time.Hour)), false},
			{"obo user until 9999", signJWS(t, search.signingKey(t), jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "obo",
				signJWS(t, e.issuer.key, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "exp", year9999)))), false},
		} {
			_, err := catalog.Authenticate(ctx, tc.token)
			switch {
			case tc.ok && err != nil:
				t.Errorf("%s: %v", tc.name, err)
			case !tc.ok && err == nil:
				t.Errorf("%s: accepted", tc.name)
			case !tc.ok:
				e, _ := errs.As(err)
				if e == nil || e.Name != errs.Authentication || !strings.Contains(e.Message, msgLifetime) {
					t.Errorf("%s: error = %v, want %q", tc.name, err, msgLifetime)
				}
			}
		}
	})

	t.Run("configured shorter than the issued lifetimes", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, "maxTokenLifetime: 30m")
		catalog, search := e.auth("catalog"), e.auth("search")
		if _, err := catalog.Authenticate(ctx, e.userToken("user:default/alice", nil, time.Hour)); err == nil {
			t.Error("a 1h user token was accepted with a 30m maximum")
		}
		// Plugin tokens (1h by default) and limited tokens are issued
		// within the maximum, so they verify.
		tok := mustToken(t)(search.PluginRequestToken(ctx, search.OwnServiceCredentials(), "catalog"))
		creds, err := catalog.Authenticate(ctx, tok)
		if err != nil || !creds.ExpiresAt.Equal(testNow.Add(30*time.Minute)) {
			t.Errorf("plugin token: %v, expires %v; want +30m", err, creds.ExpiresAt)
		}
		user, err := catalog.Authenticate(ctx, e.userToken("user:default/alice", nil, 20*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		long := user
		long.ExpiresAt = time.Time{}
		ltok, exp, err := search.LimitedUserToken(ctx, long)
		if err != nil || !exp.Equal(testNow.Add(30*time.Minute)) {
			t.Fatalf("LimitedUserToken = %v, %v; want +30m", exp, err)
		}
		if _, err := catalog.Authenticate(ctx, ltok); err != nil {
			t.Errorf("limited token: %v", err)
		}
	})

	t.Run("config errors", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ yaml, want string }{
			{"maxTokenLifetime: forever", "invalid config backend.auth.maxTokenLifetime:"},
			{"maxTokenLifetime: 10s", "invalid config backend.auth.maxTokenLifetime: 10s is too short; give at least 1m0s"},
			{"maxTokenLifetime: -1h", "invalid config backend.auth.maxTokenLifetime: -1h0m0s is too short"},
		} {
			_, err := NewKeyring(newConfig(t, "backend:\n  auth:\n"+indent(tc.yaml, "    ")))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error = %v, want %q", tc.yaml, err, tc.want)
			}
		}
	})
}

// TestOverlongEntityRefs: a user token whose sub or ent holds an entity ref
// longer than core.MaxEntityRefLength is refused when it is read, so that
// no plugin stores a ref its database columns cannot hold (a 500 on
// PostgreSQL and MySQL before, 201 on SQLite).
func TestOverlongEntityRefs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "")
	catalog := e.auth("catalog")
	ref := func(n int) string {
		const prefix = "user:default/"
		return prefix + strings.Repeat("a", n-len(prefix))
	}
	for _, tc := range []struct {
		name string
		sub  string
		ent  []string
		ok   bool
	}{
		{"sub of the maximum length", ref(core.MaxEntityRefLength), nil, true},
		{"sub one over", ref(core.MaxEntityRefLength + 1), nil, false},
		{"ent one over", "user:default/alice", []string{"user:default/alice", ref(core.MaxEntityRefLength + 1)}, false},
	} {
		claims := userClaims(tc.sub)
		if tc.ent != nil {
			claims = with(claims, "ent", tc.ent)
		}
		tok := signJWS(t, e.issuer.key, jose.ES256, TokenTypeUser, claims)
		creds, err := catalog.Authenticate(ctx, tok)
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.ok && creds.Principal.UserEntityRef != tc.sub:
			t.Errorf("%s: authenticated as %v", tc.name, creds.Principal)
		case !tc.ok && err == nil:
			t.Errorf("%s: accepted", tc.name)
		case !tc.ok:
			if e, _ := errs.As(err); e == nil || e.Name != errs.Authentication || !strings.Contains(e.Message, "longer than the maximum entity ref length of 255") {
				t.Errorf("%s: error = %v, want a 401 naming the maximum", tc.name, err)
			}
		}
	}
}
