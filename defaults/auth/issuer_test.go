package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestUserTokenIssuerRoundTrip(t *testing.T) {
	iss, err := NewUserTokenIssuer()
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := iss.MarshalJWK()
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := iss.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	ecPriv := iss.key.Key.(*ecdsa.PrivateKey)
	sec1, _ := x509.MarshalECPrivateKey(ecPriv)
	sec1PEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})
	custom, _ := json.Marshal(jose.JSONWebKey{Key: ecPriv, KeyID: "my-key"})

	for _, tc := range []struct {
		name, data, kid string
	}{
		{"JWK", string(jwk), iss.KeyID()},
		{"PKCS8 PEM", string(pemKey), iss.KeyID()},
		{"SEC1 PEM", string(sec1PEM), iss.KeyID()},
		{"JWK with its own kid", string(custom), "my-key"},
		{"surrounded by whitespace", "\n  " + string(jwk) + "\n\n", iss.KeyID()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseUserTokenIssuer([]byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if got.KeyID() != tc.kid {
				t.Errorf("kid = %q, want %q", got.KeyID(), tc.kid)
			}
			// Tokens of the parsed issuer verify with the original's JWKS
			// (the same key), under the parsed kid.
			jwks, _ := json.Marshal(got.JWKS())
			cfg := newConfig(t, "backend: {auth: {userTokens: {jwks: "+string(jwks)+"}}}")
			a, _ := NewAuth(newTestKeyring(t, cfg), "catalog", nil, nil)
			got.now = func() time.Time { return testNow }
			tok, err := got.Issue("user:default/alice", nil, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Authenticate(context.Background(), tok); err != nil {
				t.Errorf("Authenticate: %v", err)
			}
			if got.JWKS().Keys[0]["x"] != iss.JWKS().Keys[0]["x"] {
				t.Error("parsed a different key")
			}
		})
	}
}

func TestParseUserTokenIssuerErrors(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaJWK, _ := json.Marshal(jose.JSONWebKey{Key: rsaKey})
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384JWK, _ := json.Marshal(jose.JSONWebKey{Key: p384})
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: &ecKey.PublicKey})
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	pubDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)

	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", "neither a JWK nor PEM"},
		{"garbage", "hello", "neither a JWK nor PEM"},
		{"bad JSON", "{", "parsing private JWK"},
		{"RSA JWK", string(rsaJWK), "the JWK is not an EC private key"},
		{"public JWK", string(pubJWK), "the JWK is not an EC private key"},
		{"P-384", string(p384JWK), "EC key on curve P-384 cannot sign ES256 tokens"},
		{"RSA PEM", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER})), "expected an EC P-256 private key"},
		{"public PEM", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), `PEM block "PUBLIC KEY" is not a private key`},
		{"corrupt PEM", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1, 2}})), "parsing PEM private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseUserTokenIssuer([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestUserTokenIssuerIssue(t *testing.T) {
	iss, _ := NewUserTokenIssuer()
	iss.now = func() time.Time { return testNow }
	tok, err := iss.WithIssuer("https://idp").Issue("User:default/alice", []string{"group:default/a"}, 90*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	if h.KeyID != iss.KeyID() || h.ExtraHeaders[jose.HeaderType] != TokenTypeUser {
		t.Errorf("header = %+v", h)
	}
	var c map[string]any
	_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c)
	want := `{"ent":["group:default/a"],"exp":` + itoa(testNow.Add(90*time.Minute).Unix()) + `,"iat":` + itoa(testNow.Unix()) + `,"iss":"https://idp","sub":"user:default/alice"}`
	if got, _ := json.Marshal(c); string(got) != want {
		t.Errorf("claims = %s\nwant %s", got, want)
	}
	// WithIssuer returns a copy.
	tok2, _ := iss.Issue("user:default/alice", nil, time.Minute)
	jws2, _ := jose.ParseSignedCompact(tok2, []jose.SignatureAlgorithm{jose.ES256})
	if strings.Contains(string(jws2.UnsafePayloadWithoutVerification()), "iss") {
		t.Error("WithIssuer changed the original issuer")
	}

	for _, tc := range []struct {
		name, sub string
		ent       []string
		ttl       time.Duration
		want      string
	}{
		{"not a user", "group:default/a", nil, time.Hour, `invalid user entity reference "group:default/a": kind is "group"`},
		{"not a ref", "alice", nil, time.Hour, `invalid user entity reference "alice"`},
		{"bad ownership", "user:default/alice", []string{"team"}, time.Hour, "issuing user token for user:default/alice: ownership ref"},
		{"zero ttl", "user:default/alice", nil, 0, "ttl must be positive"},
		{"negative ttl", "user:default/alice", nil, -time.Minute, "ttl must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := iss.Issue(tc.sub, tc.ent, tc.ttl)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
	// JWKS returns a copy the caller may change.
	j := iss.JWKS()
	j.Keys[0]["kid"] = "changed"
	if iss.JWKS().Keys[0]["kid"] != iss.KeyID() {
		t.Error("JWKS shares its maps")
	}
	if _, private := j.Keys[0]["d"]; private {
		t.Error("JWKS leaks the private key")
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
