package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// TestAuthenticateRejects is the negative suite: every token is built by
// hand or with the library, and every one must be refused with a 401 and a
// message that says what is wrong.
func TestAuthenticateRejects(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	catalog := e.auth("catalog")
	search := e.auth("search")

	userKey := e.issuer.key
	pluginKey := search.signingKey(t)
	attacker, err := newSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	impostor := attacker // a key the backend does not know, claiming a known kid
	impostor.KeyID = userKey.KeyID
	impostorPlugin := attacker
	impostorPlugin.KeyID = pluginKey.KeyID
	unknownKid := attacker
	unknownKid.KeyID = "no-such-kid"
	noKid := pluginKey
	noKid.KeyID = ""

	userJWKS, _ := json.Marshal(e.issuer.JWKS())
	pluginJWK, _ := json.Marshal(pluginKey.Public())
	userPEMPub := mustPublicPEM(t, userKey)

	validUser := e.userToken("user:default/alice", nil, time.Hour)
	tampered := func(tok string) string {
		parts := strings.Split(tok, ".")
		sig := []byte(parts[2])
		if sig[3] == 'A' {
			sig[3] = 'B'
		} else {
			sig[3] = 'A'
		}
		return parts[0] + "." + parts[1] + "." + string(sig)
	}
	swapPayload := func(tok string, payload map[string]any) string {
		parts := strings.Split(tok, ".")
		p, _ := json.Marshal(payload)
		return parts[0] + "." + b64(p) + "." + parts[2]
	}
	expiredUser := signJWS(t, userKey, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "iat", testNow.Add(-2*time.Hour).Unix(), "exp", testNow.Add(-time.Hour).Unix()))

	cases := []struct {
		name  string
		token string
		msg   string
	}{
		{"empty", "", "Missing token"},
		{"garbage", "not a token at all", msgIllegalToken},
		{"garbage with dots", "a.b", msgIllegalToken},
		{"four segments", validUser + ".x", msgIllegalToken},
		{"bad base64 header", "!!!.e30.e30", msgMalformed},
		{"header not JSON", b64([]byte("foo")) + ".e30.e30", msgMalformed},
		{"oversized", strings.Repeat("a", maxTokenBytes) + ".b.c", msgMalformed},
		{"mock user token", "mock-user-token", msgIllegalToken},
		{"mock user token with claims", `mock-user-token:{"sub":"user:default/mock"}`, msgIllegalToken},
		{"mock limited user token", "mock-limited-user-token", msgIllegalToken},
		{"mock service token", "mock-service-token", msgIllegalToken},
		{"mock service token with claims", `mock-service-token:{"sub":"plugin:test","target":"catalog"}`, msgIllegalToken},

		{"user alg none", rawJWS(t, map[string]any{"alg": "none", "typ": TokenTypeUser, "kid": userKey.KeyID}, userClaims("user:default/alice"), nil), msgAlgorithm},
		{"plugin alg none", rawJWS(t, map[string]any{"alg": "none", "typ": TokenTypePlugin, "kid": pluginKey.KeyID}, pluginClaims("search", "catalog"), nil), msgAlgorithm},
		{"limited alg none", rawJWS(t, map[string]any{"alg": "none", "typ": TokenTypeLimitedUser, "kid": pluginKey.KeyID}, with(userClaims("user:default/alice"), "iss", "search"), nil), msgAlgorithm},
		{"user alg missing", rawJWS(t, map[string]any{"typ": TokenTypeUser, "kid": userKey.KeyID}, userClaims("user:default/alice"), nil), msgAlgorithm},
		{"user HS256 with JWKS as secret (key confusion)", rawJWS(t, map[string]any{"alg": "HS256", "typ": TokenTypeUser, "kid": userKey.KeyID}, userClaims("user:default/alice"), hs256(userJWKS)), msgAlgorithm},
		{"user HS256 with PEM as secret (key confusion)", rawJWS(t, map[string]any{"alg": "HS256", "typ": TokenTypeUser}, userClaims("user:default/alice"), hs256(userPEMPub)), msgAlgorithm},
		{"plugin HS256 with JWK as secret (key confusion)", rawJWS(t, map[string]any{"alg": "HS256", "typ": TokenTypePlugin, "kid": pluginKey.KeyID}, pluginClaims("search", "catalog"), hs256(pluginJWK)), msgAlgorithm},
		{"plugin RS256", rawJWS(t, map[string]any{"alg": "RS256", "typ": TokenTypePlugin, "kid": pluginKey.KeyID}, pluginClaims("search", "catalog"), nil), msgAlgorithm},
		{"user ES384", rawJWS(t, map[string]any{"alg": "ES384", "typ": TokenTypeUser, "kid": userKey.KeyID}, userClaims("user:default/alice"), nil), msgAlgorithm},

		{"user tampered signature", tampered(validUser), msgSignature},
		{"user tampered payload", swapPayload(validUser, userClaims("user:default/admin")), msgSignature},
		{"user signed by unknown key with known kid", signJWS(t, impostor, jose.ES256, TokenTypeUser, userClaims("user:default/alice")), msgSignature},
		{"user empty signature", func() string { p := strings.Split(validUser, "."); return p[0] + "." + p[1] + "." }(), msgSignature},
		{"plugin signed by unknown key with known kid", signJWS(t, impostorPlugin, jose.ES256, TokenTypePlugin, pluginClaims("search", "catalog")), msgSignature},
		{"plugin tampered payload", swapPayload(signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, pluginClaims("search", "other")), pluginClaims("search", "catalog")), msgSignature},

		{"user unknown kid", signJWS(t, unknownKid, jose.ES256, TokenTypeUser, userClaims("user:default/alice")), msgUnknownKey},
		{"plugin unknown kid", signJWS(t, unknownKid, jose.ES256, TokenTypePlugin, pluginClaims("search", "catalog")), msgUnknownKey},
		{"plugin without kid", signJWS(t, noKid, jose.ES256, TokenTypePlugin, pluginClaims("search", "catalog")), msgUnknownKey},
		{"plugin key used for a user token", signJWS(t, pluginKey, jose.ES256, TokenTypeUser, userClaims("user:default/alice")), msgUnknownKey},

		{"user expired", expiredUser, msgExpired},
		{"plugin expired", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "iat", testNow.Add(-2*time.Hour).Unix(), "exp", testNow.Add(-time.Minute).Unix())), msgExpired},
		{"user nbf in the future", signJWS(t, userKey, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "nbf", testNow.Add(5*time.Minute).Unix())), msgNotYetValid},
		{"user iat in the future", signJWS(t, userKey, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "iat", testNow.Add(2*time.Minute).Unix())), msgNotYetValid},
		{"plugin iat in the future", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "iat", testNow.Add(2*time.Minute).Unix())), msgNotYetValid},
		{"user without exp", signJWS(t, userKey, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "exp", nil)), "Token is missing the 'exp' claim"},
		{"user without iat", signJWS(t, userKey, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "iat", nil)), "Token is missing the 'iat' claim"},
		{"plugin without exp", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "exp", nil)), "Token is missing the 'exp' claim"},
		{"user exp not a number", signJWS(t, userKey, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "exp", "tomorrow")), msgMalformed},

		{"plugin wrong audience", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, pluginClaims("search", "scaffolder")), "Invalid token audience, expected plugin 'catalog'"},
		{"plugin two audiences", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, with(pluginClaims("search", ""), "aud", []string{"catalog", "scaffolder"})), "Invalid token audience, expected plugin 'catalog'"},
		{"plugin without audience", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, with(pluginClaims("search", ""), "aud", nil)), "Token is missing the 'aud' claim"},
		{"plugin token for itself sent elsewhere", mustToken(t)(catalog.PluginRequestToken(ctx, catalog.OwnServiceCredentials(), "search")), "Invalid token audience, expected plugin 'catalog'"},

		{"no typ", signJWS(t, userKey, jose.ES256, "", userClaims("user:default/alice")), msgType},
		{"typ JWT", signJWS(t, userKey, jose.ES256, "JWT", userClaims("user:default/alice")), msgType},
		{"typ of another system", signJWS(t, userKey, jose.ES256, "vnd.backstage.user", userClaims("user:default/alice")), msgType},

		{"plugin forbidden subject", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, pluginClaims("../../evil", "catalog")), msgForbiddenSubject},
		{"plugin subject is a user", signJWS(t, userKey, jose.ES256, TokenTypePlugin, pluginClaims("user:default/alice", "catalog")), msgForbiddenSubject},
		{"plugin without subject", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, with(pluginClaims("", "catalog"), "sub", nil)), "Token is missing the 'sub' claim"},
		{"limited forbidden issuer", signJWS(t, pluginKey, jose.ES256, TokenTypeLimitedUser, with(userClaims("user:default/alice"), "iss", "http://evil/")), msgForbiddenIssuer},
		{"limited without issuer", signJWS(t, pluginKey, jose.ES256, TokenTypeLimitedUser, userClaims("user:default/alice")), "Token is missing the 'iss' claim"},
		{"limited issuer of another plugin", signJWS(t, pluginKey, jose.ES256, TokenTypeLimitedUser, with(userClaims("user:default/alice"), "iss", "catalog")), msgUnknownKey},

		{"user subject not an entity ref", signJWS(t, userKey, jose.ES256, TokenTypeUser, userClaims("alice")), msgUserSubject},
		{"user subject of another kind", signJWS(t, userKey, jose.ES256, TokenTypeUser, userClaims("group:default/admins")), msgUserSubject},
		{"user without subject", signJWS(t, userKey, jose.ES256, TokenTypeUser, with(userClaims(""), "sub", nil)), "Token is missing the 'sub' claim"},
		{"user bad ownership ref", signJWS(t, userKey, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "ent", []string{"group:default/a", "nonsense"})), msgOwnership},
		{"user ownership not a list", signJWS(t, userKey, jose.ES256, TokenTypeUser, with(userClaims("user:default/alice"), "ent", "group:default/a")), msgMalformed},

		{"obo expired user token", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "obo", expiredUser)), msgOBO + ": " + msgExpired},
		{"obo forged user token", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "obo", tampered(validUser))), msgOBO + ": " + msgSignature},
		{"obo plugin token", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "obo", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, pluginClaims("search", "catalog")))), msgOBO + ": " + msgType},
		{"obo garbage", signJWS(t, pluginKey, jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "obo", "mock-user-token")), msgOBO + ": " + msgIllegalToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds, err := catalog.Authenticate(ctx, tc.token)
			wantErr(t, err, errs.Authentication, tc.msg)
			if errs.StatusCode(err) != 401 {
				t.Errorf("status = %d, want 401", errs.StatusCode(err))
			}
			if !creds.IsNone() || creds.Token() != "" {
				t.Errorf("credentials = %v with a token, want none", creds)
			}
		})
	}
}

// TestAuthenticateIssuer checks backend.auth.userTokens.issuer.
func TestAuthenticateIssuer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	k := e.k
	k.userIssuer = "https://idp.example.com"
	a := e.auth("catalog")

	_, err := a.Authenticate(ctx, e.userToken("user:default/alice", nil, time.Hour))
	wantErr(t, err, errs.Authentication, msgIssuer)

	_, err = a.Authenticate(ctx, mustToken(t)(e.issuer.WithIssuer("https://evil.example.com").Issue("user:default/alice", nil, time.Hour)))
	wantErr(t, err, errs.Authentication, msgIssuer)

	creds, err := a.Authenticate(ctx, mustToken(t)(e.issuer.WithIssuer("https://idp.example.com").Issue("user:default/alice", nil, time.Hour)))
	if err != nil || creds.Principal.UserEntityRef != "user:default/alice" {
		t.Fatalf("Authenticate = %v, %v; want alice", creds, err)
	}
}

func TestAuthenticateUserToken(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	a := e.auth("catalog")
	tests := []struct {
		name    string
		token   string
		wantRef string
		wantExp time.Time
	}{
		{"issued", e.userToken("user:default/alice", []string{"group:default/team-a"}, time.Hour), "user:default/alice", testNow.Add(time.Hour)},
		{"kind is case-insensitive", signJWS(t, e.issuer.key, jose.ES256, TokenTypeUser, userClaims("User:default/bob")), "user:default/bob", testNow.Add(time.Hour)},
		{"without kid", func() string {
			k := e.issuer.key
			k.KeyID = ""
			return signJWS(t, k, jose.ES256, TokenTypeUser, userClaims("user:default/carol"))
		}(), "user:default/carol", testNow.Add(time.Hour)},
		{"iat within the leeway", signJWS(t, e.issuer.key, jose.ES256, TokenTypeUser, with(userClaims("user:default/dan"), "iat", testNow.Add(10*time.Second).Unix())), "user:default/dan", testNow.Add(time.Hour)},
		{"expired within the leeway", signJWS(t, e.issuer.key, jose.ES256, TokenTypeUser, with(userClaims("user:default/erin"), "exp", testNow.Add(-10*time.Second).Unix())), "user:default/erin", testNow.Add(-10 * time.Second)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			creds, err := a.Authenticate(ctx, tc.token)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if !creds.IsUser() || creds.Principal.UserEntityRef != tc.wantRef || creds.Limited {
				t.Errorf("credentials = %+v, want full user %s", creds, tc.wantRef)
			}
			if !creds.ExpiresAt.Equal(tc.wantExp) {
				t.Errorf("ExpiresAt = %v, want %v", creds.ExpiresAt, tc.wantExp)
			}
			if creds.Token() != tc.token {
				t.Errorf("Token() is not the verified token")
			}
		})
	}
}

func TestPluginRequestTokenService(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	catalog, search := e.auth("catalog"), e.auth("search")

	tok, err := catalog.PluginRequestToken(ctx, catalog.OwnServiceCredentials(), "search")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := search.Authenticate(ctx, tok)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	want := core.Principal{Type: core.PrincipalService, Subject: "plugin:catalog"}
	if creds.Principal.Type != want.Type || creds.Principal.Subject != want.Subject || creds.Principal.AccessRestrictions != nil {
		t.Errorf("principal = %+v, want %+v", creds.Principal, want)
	}
	if !creds.ExpiresAt.Equal(testNow.Add(time.Hour)) {
		t.Errorf("ExpiresAt = %v, want +1h", creds.ExpiresAt)
	}

	// The header and claims are the documented ones.
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	if h.KeyID != catalog.signingKey(t).KeyID || h.ExtraHeaders[jose.HeaderType] != TokenTypePlugin || h.Algorithm != "ES256" {
		t.Errorf("header = kid %q typ %v alg %s", h.KeyID, h.ExtraHeaders[jose.HeaderType], h.Algorithm)
	}
	var c map[string]any
	_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c)
	if c["sub"] != "catalog" || c["aud"] != "search" || c["iat"] != float64(testNow.Unix()) || c["exp"] != float64(testNow.Add(time.Hour).Unix()) || c["obo"] != nil {
		t.Errorf("claims = %v", c)
	}

	// Service credentials of any kind delegate as the plugin itself.
	creds2, err := catalog.Authenticate(ctx, mustToken(t)(search.PluginRequestToken(ctx, creds, "catalog")))
	if err != nil || creds2.Principal.Subject != "plugin:search" {
		t.Errorf("delegated = %v, %v; want plugin:search", creds2, err)
	}
}

func TestPluginRequestTokenOnBehalfOfUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	catalog, search := e.auth("catalog"), e.auth("search")

	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		wantExp time.Time
	}{
		{"user outlives the plugin token", 3 * time.Hour, testNow.Add(time.Hour)},
		{"user expires first", 20 * time.Minute, testNow.Add(20 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			userTok := e.userToken("user:default/alice", []string{"group:default/team-a"}, tc.ttl)
			user, err := catalog.Authenticate(ctx, userTok)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := catalog.PluginRequestToken(ctx, user, "search")
			if err != nil {
				t.Fatal(err)
			}
			creds, err := search.Authenticate(ctx, tok)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if !creds.IsUser() || creds.Principal.UserEntityRef != "user:default/alice" || creds.Limited {
				t.Errorf("credentials = %+v, want full user alice", creds)
			}
			if !creds.ExpiresAt.Equal(tc.wantExp) {
				t.Errorf("ExpiresAt = %v, want %v", creds.ExpiresAt, tc.wantExp)
			}
			if creds.Token() != userTok {
				t.Errorf("Token() is not the user's token")
			}
			// The user can be passed on again, and keeps their groups.
			creds2, err := catalog.Authenticate(ctx, mustToken(t)(search.PluginRequestToken(ctx, creds, "catalog")))
			if err != nil || creds2.Principal.UserEntityRef != "user:default/alice" {
				t.Fatalf("second hop = %v, %v", creds2, err)
			}
			info, err := NewUserInfo().Get(ctx, creds2)
			if err != nil || len(info.OwnershipEntityRefs) != 1 || info.OwnershipEntityRefs[0] != "group:default/team-a" {
				t.Errorf("user info = %+v, %v", info, err)
			}
		})
	}
}

// TestOBOExpiryIsEnforcedByTheReceiver checks that the receiver caps the
// credentials at the user's expiry even when the plugin token outlives it.
func TestOBOExpiryIsEnforcedByTheReceiver(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	catalog, search := e.auth("catalog"), e.auth("search")
	userTok := e.userToken("user:default/alice", nil, 20*time.Minute)
	tok := signJWS(t, search.signingKey(t), jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "obo", userTok))
	creds, err := catalog.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !creds.ExpiresAt.Equal(testNow.Add(20 * time.Minute)) {
		t.Errorf("ExpiresAt = %v, want the user's %v", creds.ExpiresAt, testNow.Add(20*time.Minute))
	}
}

// TestRemoteJWKSIsFiltered checks that only public ES256 keys with a kid
// are taken from a fetched JWKS.
func TestRemoteJWKSIsFiltered(t *testing.T) {
	ctx := context.Background()
	remote := newEnv(t, "")
	scaffolder := remote.auth("scaffolder")
	good, err := scaffolder.PublicServiceKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaJWK := jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "rsa"}
	scaffolderKey := scaffolder.signingKey(t)
	noKid := scaffolderKey.Public()
	noKid.KeyID = ""
	private := scaffolder.signingKey(t) // a private key under another kid
	private.KeyID = "private"
	var set struct {
		Keys []any `json:"keys"`
	}
	for _, k := range []jose.JSONWebKey{rsaJWK, noKid, private} {
		set.Keys = append(set.Keys, k)
	}
	set.Keys = append(set.Keys, map[string]any{"kty": "EC", "kid": "broken"}, good.Keys[0])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)

	local := newEnv(t, "")
	local.disc.set("scaffolder", srv.URL)
	catalog := local.auth("catalog")
	keys, err := local.k.remote.fetch(ctx, srv.URL+jwksPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].KeyID != scaffolder.signingKey(t).KeyID {
		t.Fatalf("kept keys = %v, want only %s", keys, scaffolder.signingKey(t).KeyID)
	}
	tok := mustToken(t)(scaffolder.PluginRequestToken(ctx, scaffolder.OwnServiceCredentials(), "catalog"))
	if _, err := catalog.Authenticate(ctx, tok); err != nil {
		t.Errorf("Authenticate: %v", err)
	}
	priv := scaffolder.signingKey(t)
	priv.KeyID = "private"
	_, err = catalog.Authenticate(ctx, signJWS(t, priv, jose.ES256, TokenTypePlugin, pluginClaims("scaffolder", "catalog")))
	wantErr(t, err, errs.Authentication, msgUnknownKey)
}

func TestPluginRequestTokenErrors(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	a := e.auth("catalog")
	expired := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}, testNow.Add(-time.Second), "x.y.z")
	tokenless := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}, time.Time{}, "")

	tests := []struct {
		name   string
		creds  core.Credentials
		target string
		kind   errs.Name
		msg    string
	}{
		{"none", a.NoneCredentials(), "search", errs.Authentication, "Refused to issue service token for credential type 'none'"},
		{"zero credentials", core.Credentials{}, "search", errs.Authentication, "Refused to issue service token for credential type 'none'"},
		{"bad target", a.OwnServiceCredentials(), "../x", errs.Input, `Refused to issue service token for target plugin "../x": not a plugin id`},
		{"expired user", expired, "search", errs.Authentication, "Refused to issue service token for user 'user:default/alice': the user credentials have expired"},
		{"user without token", tokenless, "search", errs.Authentication, "Refused to issue service token for user 'user:default/alice': the credentials carry no token; use credentials from HTTPAuth.Credentials or Auth.Authenticate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := a.PluginRequestToken(ctx, tc.creds, tc.target)
			wantErr(t, err, tc.kind, tc.msg)
			if tok != "" {
				t.Errorf("token = %q, want none", tok)
			}
		})
	}

	t.Run("none with the default auth policy disabled", func(t *testing.T) {
		e := newEnv(t, "dangerouslyDisableDefaultAuthPolicy: true")
		if !e.k.DangerouslyDisableDefaultAuthPolicy() {
			t.Fatal("flag not read")
		}
		tok, err := e.auth("catalog").PluginRequestToken(ctx, core.Credentials{}, "search")
		if err != nil || tok != "" {
			t.Errorf("PluginRequestToken = %q, %v; want an empty token", tok, err)
		}
	})
}

func TestLimitedUserToken(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	catalog, search := e.auth("catalog"), e.auth("search")
	user, err := catalog.Authenticate(ctx, e.userToken("user:default/alice", []string{"group:default/team-a"}, 2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := catalog.LimitedUserToken(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(testNow.Add(2 * time.Hour)) {
		t.Errorf("expiry = %v, want the user's", exp)
	}
	// Any plugin of the backend accepts it, as limited credentials.
	limited, err := search.Authenticate(ctx, tok)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if !limited.IsUser() || !limited.Limited || limited.Principal.UserEntityRef != "user:default/alice" || !limited.ExpiresAt.Equal(exp) {
		t.Errorf("credentials = %+v, want limited alice", limited)
	}
	info, err := NewUserInfo().Get(ctx, limited)
	if err != nil || len(info.OwnershipEntityRefs) != 1 || info.OwnershipEntityRefs[0] != "group:default/team-a" {
		t.Errorf("user info = %+v, %v", info, err)
	}
	// Limited credentials pass through unchanged.
	tok2, exp2, err := search.LimitedUserToken(ctx, limited)
	if err != nil || tok2 != tok || !exp2.Equal(exp) {
		t.Errorf("LimitedUserToken(limited) = %q, %v, %v; want the same token", tok2, exp2, err)
	}
	// Delegating limited credentials keeps them limited.
	obo, err := catalog.Authenticate(ctx, mustToken(t)(search.PluginRequestToken(ctx, limited, "catalog")))
	if err != nil || !obo.Limited || obo.Principal.UserEntityRef != "user:default/alice" {
		t.Errorf("obo of limited = %+v, %v; want limited alice", obo, err)
	}
	// A limited token is not a user token: it cannot be passed off as one.
	parts := strings.Split(tok, ".")
	var h map[string]any
	raw, _ := b64decode(parts[0])
	_ = json.Unmarshal(raw, &h)
	h["typ"] = TokenTypeUser
	hb, _ := json.Marshal(h)
	_, err = search.Authenticate(ctx, b64(hb)+"."+parts[1]+"."+parts[2])
	wantErr(t, err, errs.Authentication, msgUnknownKey)

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			creds core.Credentials
			kind  errs.Name
			msg   string
		}{
			{"service", catalog.OwnServiceCredentials(), errs.NotAllowed, "Refused to issue limited user token for non-user principal 'service'"},
			{"none", catalog.NoneCredentials(), errs.NotAllowed, "Refused to issue limited user token for non-user principal 'none'"},
			{"tokenless", core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}, time.Time{}, ""), errs.Authentication, "Refused to issue limited user token for user 'user:default/alice': the credentials carry no token; use credentials from HTTPAuth.Credentials or Auth.Authenticate"},
			{"expired", core.NewCredentials(user.Principal, testNow.Add(-time.Minute), user.Token()), errs.Authentication, "Refused to issue limited user token for user 'user:default/alice': the user credentials have expired"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := catalog.LimitedUserToken(ctx, tc.creds)
				wantErr(t, err, tc.kind, tc.msg)
			})
		}
		_, _, err := catalog.LimitedUserToken(ctx, core.NewCredentials(user.Principal, time.Time{}, "not-a-jwt"))
		if err == nil || !strings.Contains(err.Error(), "plugin 'catalog': reading the claims of user 'user:default/alice'") {
			t.Errorf("error = %v", err)
		}
	})

	t.Run("user credentials without expiry", func(t *testing.T) {
		c := core.NewCredentials(user.Principal, time.Time{}, user.Token())
		_, exp, err := catalog.LimitedUserToken(ctx, c)
		if err != nil || !exp.Equal(testNow.Add(limitedTokenTTL)) {
			t.Errorf("LimitedUserToken = %v, %v; want +%s", exp, err, limitedTokenTTL)
		}
	})
}

func TestStaticTokens(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, `externalAccess:
  - type: static
    options: {token: open-sesame-1, subject: ci-bot}
  - type: static
    options: {token: "catalog.only.token", subject: catalog-reader}
    accessRestrictions:
      - plugin: catalog
        permission: [catalog.entity.read]
        permissionAttribute: {action: [read]}
      - plugin: search
  - type: static
    options: {token: todo-token-1, subject: todo-writer}
    accessRestrictions:
      - plugin: todo
        permission: todo.create
`)
	catalog, search, todo := e.auth("catalog"), e.auth("search"), e.auth("todo")

	tests := []struct {
		name         string
		a            *authService
		token        string
		subject      string
		restrictions *core.AccessRestrictions
		errMsg       string
	}{
		{"unrestricted", todo, "open-sesame-1", "ci-bot", nil, ""},
		{"restricted, allowed plugin with permissions", catalog, "catalog.only.token", "catalog-reader", &core.AccessRestrictions{PermissionNames: []string{"catalog.entity.read"}, PermissionActions: []string{"read"}}, ""},
		{"restricted, allowed plugin without permissions", search, "catalog.only.token", "catalog-reader", nil, ""},
		{"restricted, other plugin", todo, "catalog.only.token", "", nil, "This token's access is restricted to plugin(s) 'catalog', 'search'"},
		{"single permission", todo, "todo-token-1", "todo-writer", &core.AccessRestrictions{PermissionNames: []string{"todo.create"}}, ""},
		{"prefix of a token", todo, "open-sesame-", "", nil, msgIllegalToken},
		{"token with a suffix", todo, "open-sesame-12", "", nil, msgIllegalToken},
		{"different case", todo, "OPEN-SESAME-1", "", nil, msgIllegalToken},
		{"dotted token with a suffix", todo, "catalog.only.tokenx", "", nil, msgMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			creds, err := tc.a.Authenticate(ctx, tc.token)
			if tc.errMsg != "" {
				kind := errs.Authentication
				if strings.HasPrefix(tc.errMsg, "This token's") {
					kind = errs.NotAllowed
				}
				wantErr(t, err, kind, tc.errMsg)
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if !creds.IsService() || creds.Principal.Subject != tc.subject || !creds.ExpiresAt.IsZero() || creds.Token() != tc.token {
				t.Errorf("credentials = %+v, want service %s", creds, tc.subject)
			}
			got, _ := json.Marshal(creds.Principal.AccessRestrictions)
			want, _ := json.Marshal(tc.restrictions)
			if string(got) != string(want) {
				t.Errorf("restrictions = %s, want %s", got, want)
			}
		})
	}
}

func TestRemotePluginTokens(t *testing.T) {
	ctx := context.Background()
	// Two backends: "remote" runs plugin scaffolder, "local" runs catalog.
	remote := newEnv(t, "")
	scaffolder := remote.auth("scaffolder")
	srv := newJWKSServer(t, scaffolder, "scaffolder")

	local := newEnv(t, "")
	local.disc.set("scaffolder", srv.base("scaffolder"))
	catalog := local.auth("catalog")

	tok := mustToken(t)(scaffolder.PluginRequestToken(ctx, scaffolder.OwnServiceCredentials(), "catalog"))
	creds, err := catalog.Authenticate(ctx, tok)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if creds.Principal.Subject != "plugin:scaffolder" {
		t.Errorf("subject = %q", creds.Principal.Subject)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times, want 1", got)
	}

	// A user token of the remote backend's issuer is unknown here, even
	// carried in the obo claim of a valid remote plugin token.
	remoteUser, err := scaffolder.Authenticate(ctx, remote.userToken("user:default/alice", nil, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, err = catalog.Authenticate(ctx, mustToken(t)(scaffolder.PluginRequestToken(ctx, remoteUser, "catalog")))
	wantErr(t, err, errs.Authentication, msgOBO+": "+msgUnknownKey)

	// A limited token issued by the remote plugin is verified with its JWKS.
	ltok, _, err := scaffolder.LimitedUserToken(ctx, remoteUser)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := catalog.Authenticate(ctx, ltok)
	if err != nil || !lc.Limited || lc.Principal.UserEntityRef != "user:default/alice" {
		t.Errorf("remote limited token = %+v, %v", lc, err)
	}

	t.Run("issuer cannot be located", func(t *testing.T) {
		e := newEnv(t, "")
		e.disc.err = errors.New("no endpoint for scaffolder")
		_, err := e.auth("catalog").Authenticate(ctx, tok)
		wantErr(t, err, errs.Authentication, "Unable to verify token: plugin 'scaffolder' could not be located")
		if !strings.Contains(e.logger.String(), "no endpoint for scaffolder") {
			t.Errorf("cause not logged: %s", e.logger)
		}
	})
	t.Run("JWKS endpoint fails", func(t *testing.T) {
		e := newEnv(t, "")
		bad := newJWKSServer(t, scaffolder, "scaffolder")
		bad.status.Store(404)
		e.disc.set("scaffolder", bad.base("scaffolder"))
		_, err := e.auth("catalog").Authenticate(ctx, tok)
		wantErr(t, err, errs.Authentication, "Unable to verify token: the public keys of plugin 'scaffolder' could not be fetched")
		if !strings.Contains(e.logger.String(), "404") {
			t.Errorf("cause not logged: %s", e.logger)
		}
	})
	t.Run("JWKS endpoint answers garbage", func(t *testing.T) {
		e := newEnv(t, "")
		garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }))
		t.Cleanup(garbage.Close)
		e.disc.set("scaffolder", garbage.URL)
		_, err := e.auth("catalog").Authenticate(ctx, tok)
		wantErr(t, err, errs.Authentication, "Unable to verify token: the public keys of plugin 'scaffolder' could not be fetched")
	})
	t.Run("without discovery", func(t *testing.T) {
		e := newEnv(t, "")
		a, err := NewAuth(e.k, "catalog", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Authenticate(ctx, tok)
		wantErr(t, err, errs.Authentication, msgUnknownKey)
	})
}

// TestRemoteKeyCache checks the TTL, the refetch on an unknown kid and the
// memory of failures, with a fake clock.
func TestRemoteKeyCache(t *testing.T) {
	ctx := context.Background()
	remote := newEnv(t, "")
	scaffolder := remote.auth("scaffolder")
	srv := newJWKSServer(t, scaffolder, "scaffolder")

	local := newEnv(t, "")
	now := testNow
	local.k.now = func() time.Time { return now }
	local.disc.set("scaffolder", srv.base("scaffolder"))
	catalog := local.auth("catalog")

	sign := func(kid string) string {
		k := scaffolder.signingKey(t)
		k.KeyID = kid
		c := pluginClaims("scaffolder", "catalog")
		c["iat"], c["exp"] = now.Unix(), now.Add(time.Hour).Unix()
		return signJWS(t, k, jose.ES256, TokenTypePlugin, c)
	}
	step := func(name string, advance time.Duration, kid string, wantErrMsg string, wantHits int32) {
		t.Helper()
		now = now.Add(advance)
		_, err := catalog.Authenticate(ctx, sign(kid))
		if wantErrMsg == "" && err != nil {
			t.Fatalf("%s: Authenticate: %v", name, err)
		}
		if wantErrMsg != "" {
			wantErr(t, err, errs.Authentication, wantErrMsg)
		}
		if got := srv.hits.Load(); got != wantHits {
			t.Fatalf("%s: %d fetches, want %d", name, got, wantHits)
		}
	}
	good := scaffolder.signingKey(t).KeyID
	step("first use fetches", 0, good, "", 1)
	step("cached", 10*time.Second, good, "", 1)
	step("unknown kid soon after a fetch: no refetch", 0, "rotated", msgUnknownKey, 1)
	step("unknown kid later: refetch", jwksMinRefresh, "rotated", msgUnknownKey, 2)
	step("known kid still cached", jwksMinRefresh, good, "", 2)
	step("after the TTL: refetch", jwksCacheTTL, good, "", 3)

	srv.status.Store(500)
	failMsg := "Unable to verify token: the public keys of plugin 'scaffolder' could not be fetched"
	step("failure is fetched after the TTL", jwksCacheTTL, good, failMsg, 4)
	step("failure is remembered", jwksMinRefresh/2, good, failMsg, 4)
	srv.status.Store(0)
	step("failure is retried after minRefresh", jwksMinRefresh, good, "", 5)
}

func TestRemoteKeyCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	remote := newEnv(t, "")
	scaffolder := remote.auth("scaffolder")
	srv := newJWKSServer(t, scaffolder, "scaffolder")
	local := newEnv(t, "")
	local.disc.set("scaffolder", srv.base("scaffolder"))
	catalog := local.auth("catalog")
	tok := mustToken(t)(scaffolder.PluginRequestToken(ctx, scaffolder.OwnServiceCredentials(), "catalog"))

	const n = 16
	errc := make(chan error, n)
	for range n {
		go func() {
			_, err := catalog.Authenticate(ctx, tok)
			errc <- err
		}()
	}
	for range n {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if hits := srv.hits.Load(); hits != 1 {
		t.Errorf("%d fetches, want 1", hits)
	}
}

func TestRemoteKeyCacheEviction(t *testing.T) {
	r := &remoteKeys{maxEntries: 2, entries: make(map[string]*remoteEntry)}
	r.store("a", &remoteEntry{fetchedAt: testNow})
	r.store("b", &remoteEntry{fetchedAt: testNow.Add(time.Second)})
	r.store("c", &remoteEntry{fetchedAt: testNow.Add(2 * time.Second)})
	if _, ok := r.entries["a"]; ok || len(r.entries) != 2 {
		t.Errorf("entries = %v, want b and c", r.entries)
	}
}

func TestOwnCredentialsAndKeys(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	a := e.auth("catalog")
	if c := a.NoneCredentials(); !c.IsNone() || c.Token() != "" {
		t.Errorf("NoneCredentials = %v", c)
	}
	if c := a.OwnServiceCredentials(); !c.IsService() || c.Principal.Subject != "plugin:catalog" {
		t.Errorf("OwnServiceCredentials = %v", c)
	}
	set, err := a.PublicServiceKeys(ctx)
	if err != nil || len(set.Keys) != 1 {
		t.Fatalf("PublicServiceKeys = %v, %v", set, err)
	}
	k := set.Keys[0]
	if k["kid"] != a.signingKey(t).KeyID || k["kty"] != "EC" || k["crv"] != "P-256" || k["alg"] != "ES256" || k["use"] != "sig" {
		t.Errorf("key = %v", k)
	}
	if _, private := k["d"]; private {
		t.Fatal("PublicServiceKeys leaks the private key")
	}
	// Two plugins never share a key.
	if b := e.auth("search"); b.signingKey(t).KeyID == a.signingKey(t).KeyID {
		t.Error("plugins share a key")
	}
}

func TestNewAuthErrors(t *testing.T) {
	if _, err := NewAuth(nil, "catalog", nil, nil); err == nil || !strings.Contains(err.Error(), "NewKeyring") {
		t.Errorf("nil keyring: %v", err)
	}
	k := newTestKeyring(t, nil)
	if _, err := NewAuth(k, "bad id!", nil, nil); err == nil || !strings.Contains(err.Error(), `plugin id "bad id!"`) {
		t.Errorf("bad plugin id: %v", err)
	}
}

func mustToken(t testing.TB) func(string, error) string {
	return func(tok string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}
