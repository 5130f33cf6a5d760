// Package mocktoken is the format of the mock tokens, compatible with
// Backstage's mockCredentials, shared by the callers of package
// mockservices/mockcreds, which mint them, and the auth fakes of package
// mockservices, which read them.
package mocktoken

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/greenroom-dev/greenroom/errs"
)

// The prefixes of the mock tokens; a token is a prefix alone or a prefix,
// ':' and a JSON (or base64url-encoded JSON) payload of [Claims].
const (
	UserPrefix    = "mock-user-token"
	LimitedPrefix = "mock-limited-user-token"
	ServicePrefix = "mock-service-token"
)

// Default identities of the mock callers.
const (
	DefaultUserEntityRef  = "user:default/mock"
	DefaultServiceSubject = "external:test-service"
)

// Tokens that the mock auth service always rejects.
const (
	InvalidUser        = "mock-invalid-user-token"
	InvalidLimitedUser = "mock-invalid-limited-user-token"
	InvalidService     = "mock-invalid-service-token"
)

// Claims is the JSON payload of a mock token after its prefix and ':'.
type Claims struct {
	Sub    string   `json:"sub,omitempty"`
	Ent    []string `json:"ent,omitempty"`
	Target string   `json:"target,omitempty"`
	OBO    string   `json:"obo,omitempty"`
}

// Encode returns the token of prefix with the payload c.
func Encode(prefix string, c Claims) string {
	b, err := json.Marshal(c)
	if err != nil { // a struct of strings always marshals
		panic(err)
	}
	if prefix == LimitedPrefix {
		// Limited tokens travel in the auth cookie, where '"' is not
		// allowed (net/http drops it), so their JSON is base64url-encoded.
		return prefix + ":" + base64.RawURLEncoding.EncodeToString(b)
	}
	return prefix + ":" + string(b)
}

// Decode splits a "<prefix>:<payload>" mock token. Its errors are
// [errs.Authentication] errors, as the auth fake reports them.
func Decode(token string) (string, Claims, error) {
	var c Claims
	prefix, payload, ok := strings.Cut(token, ":")
	if !ok || (prefix != UserPrefix && prefix != LimitedPrefix && prefix != ServicePrefix) {
		return "", c, errs.NewAuthentication("Unknown mock token '%s'", token)
	}
	if !strings.HasPrefix(payload, "{") {
		b, err := base64.RawURLEncoding.DecodeString(payload)
		if err != nil {
			return "", c, errs.Wrap(errs.Authentication, err, "Mock token '%s' has a payload that is neither JSON nor base64url-encoded JSON", token)
		}
		payload = string(b)
	}
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return "", c, errs.Wrap(errs.Authentication, err, "Mock token '%s' has an invalid JSON payload", token)
	}
	return prefix, c, nil
}
