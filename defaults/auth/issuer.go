package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/greenroom-dev/greenroom/core"
)

// UserTokenIssuer mints user tokens signed with an ES256 private key. It is
// the identity provider of development setups and tests: configure its
// public keys ([UserTokenIssuer.JWKS]) under backend.auth.userTokens and the
// backend accepts the tokens it issues. The greenroom command wraps it
// ("greenroom keygen", "greenroom token").
//
// A UserTokenIssuer is safe for concurrent use.
type UserTokenIssuer struct {
	key    jose.JSONWebKey // private
	signer jose.Signer
	jwks   core.JSONWebKeySet
	issuer string
	now    func() time.Time
}

// NewUserTokenIssuer returns an issuer with a new ES256 (P-256) key.
func NewUserTokenIssuer() (*UserTokenIssuer, error) {
	k, err := newSigningKey()
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return newUserTokenIssuer(k)
}

// ParseUserTokenIssuer returns an issuer for a private P-256 key given as a
// JWK (the format [UserTokenIssuer.MarshalJWK] writes) or as PEM ("PRIVATE
// KEY" in PKCS #8 or "EC PRIVATE KEY" in SEC 1).
func ParseUserTokenIssuer(data []byte) (*UserTokenIssuer, error) {
	data = bytes.TrimSpace(data)
	var priv *ecdsa.PrivateKey
	kid := ""
	switch {
	case len(data) > 0 && data[0] == '{':
		var k jose.JSONWebKey
		if err := json.Unmarshal(data, &k); err != nil {
			return nil, fmt.Errorf("auth: parsing private JWK: %w", err)
		}
		p, ok := k.Key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("auth: the JWK is not an EC private key (got %T); user tokens are signed with ES256 P-256 keys, create one with 'greenroom keygen'", k.Key)
		}
		priv, kid = p, k.KeyID
	default:
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, errors.New("auth: the key is neither a JWK nor PEM; create one with 'greenroom keygen'")
		}
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			var key any
			if key, err = x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
				var ok bool
				if priv, ok = key.(*ecdsa.PrivateKey); !ok {
					return nil, fmt.Errorf("auth: the PEM key is a %T, expected an EC P-256 private key", key)
				}
			}
		case "EC PRIVATE KEY":
			priv, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			return nil, fmt.Errorf("auth: PEM block %q is not a private key, expected PRIVATE KEY or EC PRIVATE KEY", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("auth: parsing PEM private key: %w", err)
		}
	}
	if priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("auth: EC key on curve %s cannot sign ES256 tokens; use a P-256 key", priv.Curve.Params().Name)
	}
	k, err := signingJWK(priv)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if kid != "" {
		k.KeyID = kid
	}
	return newUserTokenIssuer(k)
}

func newUserTokenIssuer(k jose.JSONWebKey) (*UserTokenIssuer, error) {
	s, err := newSigner(k, TokenTypeUser)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	jwks, err := toJWKS([]jose.JSONWebKey{k})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &UserTokenIssuer{key: k, signer: s, jwks: jwks, now: time.Now}, nil
}

// WithIssuer returns a copy of the issuer that writes iss into its tokens,
// to match backend.auth.userTokens.issuer.
func (i *UserTokenIssuer) WithIssuer(iss string) *UserTokenIssuer {
	c := *i
	c.issuer = iss
	return &c
}

// Issue returns a user token for the user entity ref sub (such as
// "user:default/alice") with ownership entity refs ent (nil means just the
// user) that expires after ttl.
func (i *UserTokenIssuer) Issue(sub string, ent []string, ttl time.Duration) (string, error) {
	ref, err := core.ParseUserEntityRef(sub)
	if err != nil {
		return "", fmt.Errorf("auth: issuing user token: %w", err)
	}
	for _, e := range ent {
		if _, err := core.ParseEntityRef(e); err != nil {
			return "", fmt.Errorf("auth: issuing user token for %s: ownership ref: %w", sub, err)
		}
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: issuing user token for %s: ttl must be positive, got %s", sub, ttl)
	}
	now := i.now()
	c := claims{
		Claims: jwt.Claims{
			Issuer:   i.issuer,
			Subject:  ref.String(),
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(ttl)),
		},
		Ent: ent,
	}
	return sign(i.signer, c)
}

// KeyID returns the kid of the issuer's key.
func (i *UserTokenIssuer) KeyID() string { return i.key.KeyID }

// JWKS returns the public key set that verifies the issuer's tokens, for
// backend.auth.userTokens.jwks or a file named by
// backend.auth.userTokens.publicKeys.
func (i *UserTokenIssuer) JWKS() core.JSONWebKeySet {
	out := core.JSONWebKeySet{Keys: make([]map[string]any, len(i.jwks.Keys))}
	for n, k := range i.jwks.Keys {
		m := make(map[string]any, len(k))
		for key, v := range k {
			m[key] = v
		}
		out.Keys[n] = m
	}
	return out
}

// MarshalJWK returns the private key as a JWK, which
// [ParseUserTokenIssuer] reads back. Keep it secret.
func (i *UserTokenIssuer) MarshalJWK() ([]byte, error) {
	b, err := json.MarshalIndent(i.key, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("auth: encoding private JWK: %w", err)
	}
	return append(b, '\n'), nil
}

// MarshalPEM returns the private key as PKCS #8 PEM, which
// [ParseUserTokenIssuer] reads back. Keep it secret.
func (i *UserTokenIssuer) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(i.key.Key)
	if err != nil {
		return nil, fmt.Errorf("auth: encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
