package auth

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/errs"
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// flipUnusedBit flips the lowest bit of the last character of part i of a
// compact JWS. When the part's length is not a multiple of 4 that bit is
// unused: the part decodes to the same bytes. ok is false when the part
// has no unused bits.
func flipUnusedBit(tok string, i int) (string, bool) {
	parts := strings.Split(tok, ".")
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
		tokens["plugin"] = append(tokens["plugin"], padded(t, search.key, TokenTypePlugin, pluginClaims("search", "catalog"), n))
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
	obo := signJWS(t, search.key, jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "obo", altUser))
	_, err = catalog.Authenticate(ctx, obo)
	wantErr(t, err, errs.Authentication, msgOBO+": "+msgMalformed)
}
