package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/core"
)

func TestNewKeyringConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecPriv)
	privatePEM := write("private.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	privJWK, _ := json.Marshal(jose.JSONWebKey{Key: ecPriv, KeyID: "k1"})
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384JWK, _ := json.Marshal(jose.JSONWebKey{Key: &p384.PublicKey})
	rsaSmall, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsaSmallJWK, _ := json.Marshal(jose.JSONWebKey{Key: &rsaSmall.PublicKey})
	pubJWK := func(alg, use, kid string) string {
		b, _ := json.Marshal(jose.JSONWebKey{Key: &ecPriv.PublicKey, Algorithm: alg, Use: use, KeyID: kid})
		return string(b)
	}
	symJWK := `{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ","kid":"s"}`
	garbage := write("garbage.txt", []byte("hello"))
	certPEM := write("cert.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	csrPEM := write("csr.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{1}}))
	emptyFile := write("empty.json", nil)
	emptySet := write("empty-set.json", []byte(`{"keys":[]}`))
	goodJWKS := write("good.json", []byte(`{"keys":[`+pubJWK("", "", "dup")+`]}`))

	tests := []struct {
		name string
		yaml string
		want string // substrings of the error, in order
	}{
		{"disable flag not a bool", "dangerouslyDisableDefaultAuthPolicy: maybe", "backend.auth.dangerouslyDisableDefaultAuthPolicy"},
		{"externalAccess not a list", "externalAccess: {type: static}", "invalid config backend.auth.externalAccess:"},
		{"unknown type", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n  - type: legacy\n    options: {secret: x}", "invalid config backend.auth.externalAccess[1].type: unknown type 'legacy', expected 'static'"},
		{"missing type", "externalAccess:\n  - options: {token: abcdefgh, subject: a}", "invalid config backend.auth.externalAccess[0].type:"},
		{"unknown key", "externalAccess:\n  - type: static\n    option: {token: abcdefgh, subject: a}", "invalid config backend.auth.externalAccess[0].option: unknown key, expected one of type, options, accessRestrictions"},
		{"missing options", "externalAccess:\n  - type: static", "invalid config backend.auth.externalAccess[0].options:"},
		{"unknown option", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a, secret: x}", "invalid config backend.auth.externalAccess[0].options.secret: unknown key"},
		{"short token", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n  - type: static\n    options: {token: short, subject: b}", "invalid config backend.auth.externalAccess[1].options.token: the token must be at least 8 characters long"},
		{"token with a space", "externalAccess:\n  - type: static\n    options: {token: 'abcd efgh', subject: a}", "invalid config backend.auth.externalAccess[0].options.token: the token must not contain whitespace"},
		{"token with a tab", "externalAccess:\n  - type: static\n    options: {token: \"abcd\\tefgh\", subject: a}", "backend.auth.externalAccess[0].options.token: the token must not contain whitespace"},
		{"token not a string", "externalAccess:\n  - type: static\n    options: {token: 123456789, subject: a}", "invalid config backend.auth.externalAccess[0].options.token:"},
		{"missing token", "externalAccess:\n  - type: static\n    options: {subject: a}", "invalid config backend.auth.externalAccess[0].options.token:"},
		{"duplicate token", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n  - type: static\n    options: {token: abcdefgh, subject: b}", "invalid config backend.auth.externalAccess[1].options.token: the same static token is already declared at backend.auth.externalAccess[0].options.token"},
		{"missing subject", "externalAccess:\n  - type: static\n    options: {token: abcdefgh}", "invalid config backend.auth.externalAccess[0].options.subject:"},
		{"empty subject", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: ' '}", "invalid config backend.auth.externalAccess[0].options.subject: the subject must not be empty"},
		{"restrictions not a list", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n    accessRestrictions: {plugin: catalog}", "invalid config backend.auth.externalAccess[0].accessRestrictions:"},
		{"restriction without plugin", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n    accessRestrictions: [{permission: x}]", "invalid config backend.auth.externalAccess[0].accessRestrictions[0].plugin:"},
		{"restriction bad plugin", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n    accessRestrictions: [{plugin: 'api/x'}]", `invalid config backend.auth.externalAccess[0].accessRestrictions[0].plugin: "api/x" is not a plugin id`},
		{"restriction duplicate plugin", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n    accessRestrictions: [{plugin: a}, {plugin: a}]", "invalid config backend.auth.externalAccess[0].accessRestrictions[1].plugin: plugin 'a' is listed twice"},
		{"restriction unknown key", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n    accessRestrictions: [{plugins: a}]", "invalid config backend.auth.externalAccess[0].accessRestrictions[0].plugins: unknown key"},
		{"restriction bad permission", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n    accessRestrictions: [{plugin: a, permission: {x: 1}}]", "invalid config backend.auth.externalAccess[0].accessRestrictions[0].permission: expected a string or a list of strings"},
		{"restriction bad action", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n    accessRestrictions: [{plugin: a, permissionAttribute: {action: [read, destroy]}}]", `invalid config backend.auth.externalAccess[0].accessRestrictions[0].permissionAttribute.action: unknown action "destroy"`},
		{"restriction bad attribute key", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n    accessRestrictions: [{plugin: a, permissionAttribute: {verb: read}}]", "invalid config backend.auth.externalAccess[0].accessRestrictions[0].permissionAttribute.verb: unknown key, expected one of action"},
		{"restriction attribute not an object", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n    accessRestrictions: [{plugin: a, permissionAttribute: read}]", "invalid config backend.auth.externalAccess[0].accessRestrictions[0].permissionAttribute:"},
		{"restriction action not strings", "externalAccess:\n  - type: static\n    options: {token: abcdefgh, subject: a}\n    accessRestrictions: [{plugin: a, permissionAttribute: {action: {x: 1}}}]", "invalid config backend.auth.externalAccess[0].accessRestrictions[0].permissionAttribute.action:"},

		{"userTokens not an object", "userTokens: [a]", "invalid config backend.auth.userTokens:"},
		{"userTokens without keys", "userTokens: {issuer: x}", "invalid config backend.auth.userTokens: no public keys; set backend.auth.userTokens.publicKeys or backend.auth.userTokens.jwks"},
		{"userTokens unknown key", "userTokens: {keys: []}", "invalid config backend.auth.userTokens.keys: unknown key, expected one of issuer, publicKeys, jwks"},
		{"issuer not a string", "userTokens: {issuer: [x], jwks: {keys: []}}", "invalid config backend.auth.userTokens.issuer:"},
		{"publicKeys not a list", "userTokens: {publicKeys: x}", "invalid config backend.auth.userTokens.publicKeys:"},
		{"publicKeys unknown key", "userTokens: {publicKeys: [{path: x}]}", "invalid config backend.auth.userTokens.publicKeys[0].path: unknown key, expected one of file"},
		{"publicKeys without file", "userTokens: {publicKeys: [{}]}", "invalid config backend.auth.userTokens.publicKeys[0].file:"},
		{"missing file", "userTokens: {publicKeys: [{file: " + filepath.Join(dir, "nope.json") + "}]}", "invalid config backend.auth.userTokens.publicKeys[0].file: reading the key file:"},
		{"private PEM", "userTokens: {publicKeys: [{file: " + privatePEM + "}]}", `invalid config backend.auth.userTokens.publicKeys[0].file: ` + privatePEM + `: PEM block "PRIVATE KEY" is a private key; configure only the public key`},
		{"garbage file", "userTokens: {publicKeys: [{file: " + garbage + "}]}", "it is neither JSON (JWK or JWKS) nor PEM"},
		{"bad certificate", "userTokens: {publicKeys: [{file: " + certPEM + "}]}", "parsing PEM CERTIFICATE"},
		{"unsupported PEM", "userTokens: {publicKeys: [{file: " + csrPEM + "}]}", `PEM block "CERTIFICATE REQUEST" is not supported`},
		{"empty file", "userTokens: {publicKeys: [{file: " + emptyFile + "}]}", "it is empty"},
		{"empty set", "userTokens: {publicKeys: [{file: " + emptySet + "}]}", "it holds no keys"},
		{"private JWK", "userTokens: {jwks: {keys: [" + string(privJWK) + "]}}", "invalid config backend.auth.userTokens.jwks: key 0: the key is a private key"},
		{"symmetric JWK", "userTokens: {jwks: {keys: [" + symJWK + "]}}", "invalid config backend.auth.userTokens.jwks: key 0:"},
		{"P-384 key", "userTokens: {jwks: {keys: [" + string(p384JWK) + "]}}", "key 0: EC key on curve P-384 is not supported, use P-256 (ES256)"},
		{"small RSA key", "userTokens: {jwks: {keys: [" + string(rsaSmallJWK) + "]}}", "key 0: RSA key of 1024 bits is too small, use at least 2048 bits (RS256)"},
		{"alg mismatch", "userTokens: {jwks: {keys: [" + pubJWK("RS256", "", "") + "]}}", `key 0: the key's alg is "RS256" but the key can only verify ES256`},
		{"alg HS256", "userTokens: {jwks: {keys: [" + pubJWK("HS256", "", "") + "]}}", `the key's alg is "HS256"`},
		{"use enc", "userTokens: {jwks: {keys: [" + pubJWK("", "enc", "") + "]}}", `key 0: the key's use is "enc", expected "sig"`},
		{"bad JSON file", "userTokens: {publicKeys: [{file: " + write("bad.json", []byte("{nope")) + "}]}", "it is not valid JSON"},
		{"bad single JWK", "userTokens: {publicKeys: [{file: " + write("bad.jwk", []byte(`{"kty":"EC","crv":"P-256"}`)) + "}]}", "it is not a valid JWK"},
		{"bad JWKS file", "userTokens: {publicKeys: [{file: " + write("bad.jwks", []byte(`{"keys":{}}`)) + "}]}", "it is not a valid JWKS"},
		{"duplicate kid in files", "userTokens: {publicKeys: [{file: " + goodJWKS + "}, {file: " + goodJWKS + "}]}", `invalid config backend.auth.userTokens.publicKeys[1].file: key id "dup" is also used by a key from backend.auth.userTokens.publicKeys[0].file`},
		{"jwks not an object", "userTokens: {jwks: [1]}", "invalid config backend.auth.userTokens.jwks:"},
		{"jwks bad JWK", "userTokens: {jwks: {keys: [{kty: EC}]}}", "invalid config backend.auth.userTokens.jwks: it is not a valid JWKS"},
		{"duplicate kid", "userTokens:\n  publicKeys: [{file: " + goodJWKS + "}]\n  jwks: {keys: [" + pubJWK("", "", "dup") + "]}", `invalid config backend.auth.userTokens.jwks: key id "dup" is also used by a key from backend.auth.userTokens.publicKeys[0].file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := newConfig(t, "backend:\n  auth:\n"+indent(tc.yaml, "    "))
			k, err := NewKeyring(cfg)
			if err == nil {
				t.Fatalf("NewKeyring succeeded, want an error containing %q", tc.want)
			}
			if k != nil {
				t.Error("NewKeyring returned a keyring with its error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "abcdefgh") {
				t.Errorf("error reveals a token: %v", err)
			}
		})
	}
}

func TestNewKeyringEmpty(t *testing.T) {
	for name, cfg := range map[string]core.Config{
		"nil":          nil,
		"empty":        newConfig(t, ""),
		"empty auth":   newConfig(t, "backend: {auth: {}}"),
		"empty access": newConfig(t, "backend: {auth: {externalAccess: []}}"),
	} {
		t.Run(name, func(t *testing.T) {
			k := newTestKeyring(t, cfg)
			if k.DangerouslyDisableDefaultAuthPolicy() || len(k.userKeys) != 0 || len(k.static) != 0 {
				t.Errorf("keyring = %+v", k)
			}
			// No user token is accepted without keys.
			iss, err := NewUserTokenIssuer()
			if err != nil {
				t.Fatal(err)
			}
			tok, err := iss.Issue("user:default/alice", nil, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			a, err := NewAuth(k, "catalog", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Authenticate(context.Background(), tok); err == nil {
				t.Error("a user token was accepted without configured keys")
			} else if strings.Contains(err.Error(), "Missing token") {
				t.Errorf("the token was not sent: %v", err)
			}
		})
	}
}

// TestUserTokenKeyFormats configures keys of every supported type and
// format and checks that tokens signed with them verify.
func TestUserTokenKeyFormats(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsa2, _ := rsa.GenerateKey(rand.Reader, 2048)

	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	rsaPEM := write("rsa.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER}))
	pkcs1PEM := write("rsa2.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsa2.PublicKey)}))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"}, NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, edPub, edPriv)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := write("ed.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}))
	ecJWK, _ := json.Marshal(jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "ec-1", Algorithm: "ES256", Use: "sig"})
	singleJWK := write("ec.jwk", ecJWK)

	cfg := newConfig(t, `backend:
  auth:
    userTokens:
      publicKeys:
        - file: `+rsaPEM+`
        - file: `+pkcs1PEM+`
        - file: `+certPEM+`
        - file: `+singleJWK+`
`)
	k := newTestKeyring(t, cfg)
	if len(k.userKeys) != 4 {
		t.Fatalf("%d keys, want 4", len(k.userKeys))
	}
	a, err := NewAuth(k, "catalog", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	kidOf := func(pub any) string {
		kid, _ := thumbprintKID(jose.JSONWebKey{Key: pub})
		return kid
	}
	tests := []struct {
		name string
		key  jose.JSONWebKey
		alg  jose.SignatureAlgorithm
	}{
		{"RS256 from PKIX PEM", jose.JSONWebKey{Key: rsaKey, KeyID: kidOf(&rsaKey.PublicKey)}, jose.RS256},
		{"RS256 from PKCS1 PEM", jose.JSONWebKey{Key: rsa2, KeyID: kidOf(&rsa2.PublicKey)}, jose.RS256},
		{"RS256 without kid", jose.JSONWebKey{Key: rsa2}, jose.RS256},
		{"EdDSA from certificate", jose.JSONWebKey{Key: edPriv, KeyID: kidOf(edPub)}, jose.EdDSA},
		{"ES256 from a single JWK", jose.JSONWebKey{Key: ecKey, KeyID: "ec-1"}, jose.ES256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := signJWS(t, tc.key, tc.alg, TokenTypeUser, userClaims("user:default/alice"))
			creds, err := a.Authenticate(ctx, tok)
			if err != nil || creds.Principal.UserEntityRef != "user:default/alice" {
				t.Fatalf("Authenticate = %v, %v", creds, err)
			}
		})
	}
	// A kid names one key: a token signed by another configured key under
	// that kid fails, and so does a token whose alg does not fit the key.
	wrong := signJWS(t, jose.JSONWebKey{Key: rsa2, KeyID: kidOf(&rsaKey.PublicKey)}, jose.RS256, TokenTypeUser, userClaims("user:default/alice"))
	_, err = a.Authenticate(ctx, wrong)
	if err == nil || !strings.Contains(err.Error(), msgSignature) {
		t.Errorf("other key under a kid: %v", err)
	}
	algMismatch := signJWS(t, jose.JSONWebKey{Key: edPriv, KeyID: "ec-1"}, jose.EdDSA, TokenTypeUser, userClaims("user:default/alice"))
	_, err = a.Authenticate(ctx, algMismatch)
	if err == nil || !strings.Contains(err.Error(), msgSignature) {
		t.Errorf("alg not matching the key: %v", err)
	}
}
