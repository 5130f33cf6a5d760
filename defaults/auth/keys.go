package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/httpcreds"
)

// The JWT "typ" header values of the three token kinds.
const (
	// TokenTypeUser is the typ of a user token, issued by the identity
	// provider (or a [UserTokenIssuer]) and verified against the keys of
	// backend.auth.userTokens.
	TokenTypeUser = "vnd.greenroom.user"
	// TokenTypeLimitedUser is the typ of a limited user token, issued by
	// Auth.LimitedUserToken for the auth cookie.
	TokenTypeLimitedUser = "vnd.greenroom.limited-user"
	// TokenTypePlugin is the typ of a plugin-to-plugin service token,
	// issued by Auth.PluginRequestToken.
	TokenTypePlugin = "vnd.greenroom.plugin"
)

// CookieName is the name of the cookie that carries a limited user token.
const CookieName = httpcreds.CookieName

// userTokenAlgorithms are the signature algorithms accepted for user tokens.
// The header's alg is only used to pick among these; a token whose alg is
// anything else (none, HS256, ...) is rejected before any key is touched.
var userTokenAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA}

// serviceTokenAlgorithms are the algorithms of the tokens Greenroom issues
// itself (plugin tokens and limited user tokens).
var serviceTokenAlgorithms = []jose.SignatureAlgorithm{jose.ES256}

// minRSABits is the smallest RSA modulus accepted for user token keys.
const minRSABits = 2048

// keyAlgorithm returns the one signature algorithm a public key may verify,
// or an error for key types and sizes that are not accepted.
func keyAlgorithm(pub crypto.PublicKey) (jose.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("EC key on curve %s is not supported, use P-256 (ES256)", k.Curve.Params().Name)
		}
		return jose.ES256, nil
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return "", fmt.Errorf("RSA key of %d bits is too small, use at least %d bits (RS256)", k.N.BitLen(), minRSABits)
		}
		return jose.RS256, nil
	case ed25519.PublicKey:
		return jose.EdDSA, nil
	default:
		return "", fmt.Errorf("key type %T is not supported, use an EC P-256 (ES256), RSA (RS256) or Ed25519 (EdDSA) public key", pub)
	}
}

// thumbprintKID returns the RFC 7638 thumbprint of a key, base64url
// encoded, which Greenroom uses as the kid of keys that have none.
func thumbprintKID(k jose.JSONWebKey) (string, error) {
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("computing key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// checkPublicKey validates a configured verification key and fills in its
// alg, use and kid.
func checkPublicKey(k jose.JSONWebKey) (jose.JSONWebKey, error) {
	if !k.Valid() {
		return k, errors.New("the key is not a valid JWK")
	}
	if !k.IsPublic() {
		return k, errors.New("the key is a private key; configure only the public key and keep the private key with the token issuer")
	}
	alg, err := keyAlgorithm(k.Key)
	if err != nil {
		return k, err
	}
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return k, fmt.Errorf("the key's alg is %q but the key can only verify %s", k.Algorithm, alg)
	}
	if k.Use != "" && k.Use != "sig" {
		return k, fmt.Errorf("the key's use is %q, expected \"sig\"", k.Use)
	}
	k.Algorithm = string(alg)
	k.Use = "sig"
	if k.KeyID == "" {
		if k.KeyID, err = thumbprintKID(k); err != nil {
			return k, err
		}
	}
	return k, nil
}

// parsePublicKeys parses public keys from a JWKS document, a single JWK, or
// PEM blocks (PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE). PEM keys get their
// thumbprint as kid.
func parsePublicKeys(data []byte) ([]jose.JSONWebKey, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("it is empty")
	}
	var keys []jose.JSONWebKey
	if data[0] == '{' {
		var probe struct {
			Keys json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(data, &probe); err != nil {
			return nil, fmt.Errorf("it is not valid JSON: %w", err)
		}
		if probe.Keys != nil {
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(data, &set); err != nil {
				return nil, fmt.Errorf("it is not a valid JWKS: %w", err)
			}
			keys = set.Keys
		} else {
			var k jose.JSONWebKey
			if err := json.Unmarshal(data, &k); err != nil {
				return nil, fmt.Errorf("it is not a valid JWK: %w", err)
			}
			keys = []jose.JSONWebKey{k}
		}
	} else {
		for rest := data; ; {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				if len(bytes.TrimSpace(rest)) > 0 {
					return nil, errors.New("it is neither JSON (JWK or JWKS) nor PEM")
				}
				break
			}
			pub, err := parsePEMPublicKey(block)
			if err != nil {
				return nil, err
			}
			keys = append(keys, jose.JSONWebKey{Key: pub})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("it holds no keys")
	}
	out := make([]jose.JSONWebKey, 0, len(keys))
	for i, k := range keys {
		k, err := checkPublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		out = append(out, k)
	}
	return out, nil
}

func parsePEMPublicKey(block *pem.Block) (crypto.PublicKey, error) {
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing PEM PUBLIC KEY: %w", err)
		}
		return pub, nil
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing PEM RSA PUBLIC KEY: %w", err)
		}
		return pub, nil
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing PEM CERTIFICATE: %w", err)
		}
		return cert.PublicKey, nil
	case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
		return nil, fmt.Errorf("PEM block %q is a private key; configure only the public key and keep the private key with the token issuer", block.Type)
	default:
		return nil, fmt.Errorf("PEM block %q is not supported, expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", block.Type)
	}
}

// toJWKS converts public JWKs to the core JWKS form.
func toJWKS(keys []jose.JSONWebKey) (core.JSONWebKeySet, error) {
	set := core.JSONWebKeySet{Keys: make([]map[string]any, 0, len(keys))}
	for _, k := range keys {
		b, err := json.Marshal(k.Public())
		if err != nil {
			return core.JSONWebKeySet{}, fmt.Errorf("encoding key %q: %w", k.KeyID, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return core.JSONWebKeySet{}, fmt.Errorf("encoding key %q: %w", k.KeyID, err)
		}
		set.Keys = append(set.Keys, m)
	}
	return set, nil
}

// newSigningKey generates an ES256 key pair with its thumbprint as kid.
func newSigningKey() (jose.JSONWebKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("generating ES256 key: %w", err)
	}
	return signingJWK(priv)
}

func signingJWK(priv *ecdsa.PrivateKey) (jose.JSONWebKey, error) {
	k := jose.JSONWebKey{Key: priv, Algorithm: string(jose.ES256), Use: "sig"}
	kid, err := thumbprintKID(k)
	if err != nil {
		return k, err
	}
	k.KeyID = kid
	return k, nil
}

// newSigner returns a signer that writes typ and kid into the header.
func newSigner(k jose.JSONWebKey, typ string) (jose.Signer, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return nil, fmt.Errorf("creating ES256 signer: %w", err)
	}
	return s, nil
}
