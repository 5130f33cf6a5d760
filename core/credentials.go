package core

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PrincipalType is the kind of caller behind a request.
type PrincipalType string

const (
	// PrincipalUser is a signed-in user, identified by a user entity ref.
	PrincipalUser PrincipalType = "user"
	// PrincipalService is another plugin or an external service.
	PrincipalService PrincipalType = "service"
	// PrincipalNone is an anonymous caller: no credentials were presented.
	PrincipalNone PrincipalType = "none"
)

// AccessRestrictions narrows what a service principal may do, as configured
// for an external access token.
type AccessRestrictions struct {
	// PermissionNames, if not empty, are the only permissions allowed.
	PermissionNames []string `json:"permissionNames,omitempty" yaml:"permissionNames,omitempty"`
	// PermissionActions, if not empty, are the only actions allowed
	// ("create", "read", "update", "delete").
	PermissionActions []string `json:"permissionActions,omitempty" yaml:"permissionActions,omitempty"`
}

// Principal is the caller that credentials stand for.
type Principal struct {
	Type PrincipalType `json:"type"`
	// UserEntityRef is set for user principals, such as "user:default/alice".
	UserEntityRef string `json:"userEntityRef,omitempty"`
	// Subject is set for service principals: "plugin:<pluginId>" for
	// plugin-to-plugin calls, the configured subject for external tokens.
	Subject string `json:"subject,omitempty"`
	// AccessRestrictions is set for restricted service principals.
	AccessRestrictions *AccessRestrictions `json:"accessRestrictions,omitempty"`
}

// Credentials are the verified identity of a caller. Build them with
// [NewCredentials]; the zero value is the none principal.
type Credentials struct {
	Principal Principal
	// ExpiresAt is when the credentials stop being valid; zero means never.
	ExpiresAt time.Time
	// Limited reports that they came from a limited user token (a cookie),
	// which only endpoints with a user-cookie auth policy accept.
	Limited bool
	token   string
}

// NewCredentials returns credentials for p that were verified from token.
// Auth service implementations call it; plugins receive credentials from
// [HTTPAuth] and [Auth].
func NewCredentials(p Principal, expiresAt time.Time, token string) Credentials {
	if p.Type == "" {
		p.Type = PrincipalNone
	}
	return Credentials{Principal: p, ExpiresAt: expiresAt, token: token}
}

// Token returns the token the credentials were verified from, or "" for
// credentials that were not built from a token. Auth implementations use it
// to issue on-behalf-of tokens; plugins should not forward it.
func (c Credentials) Token() string { return c.token }

// Type returns the principal type, treating the zero value as none.
func (c Credentials) Type() PrincipalType {
	if c.Principal.Type == "" {
		return PrincipalNone
	}
	return c.Principal.Type
}

// IsUser reports whether the credentials belong to a user.
func (c Credentials) IsUser() bool { return c.Type() == PrincipalUser }

// IsService reports whether the credentials belong to a service.
func (c Credentials) IsService() bool { return c.Type() == PrincipalService }

// IsNone reports whether the credentials are anonymous.
func (c Credentials) IsNone() bool { return c.Type() == PrincipalNone }

// String describes the credentials without revealing the token.
func (c Credentials) String() string {
	switch c.Type() {
	case PrincipalUser:
		return fmt.Sprintf("credentials{user %s}", c.Principal.UserEntityRef)
	case PrincipalService:
		return fmt.Sprintf("credentials{service %s}", c.Principal.Subject)
	default:
		return "credentials{none}"
	}
}

// EntityRef is a parsed entity reference of the form kind:namespace/name.
type EntityRef struct {
	Kind, Namespace, Name string
}

// String returns kind:namespace/name.
func (r EntityRef) String() string { return r.Kind + ":" + r.Namespace + "/" + r.Name }

// MaxEntityRefLength is the longest entity reference, in bytes, that
// [ParseEntityRef] and [ParseUserEntityRef] accept. The grammar allows only
// ASCII, so bytes and characters are the same.
//
// Every ref that Backstage's catalog accepts fits: it limits kind,
// namespace and name to 63 characters each. And every ref fits a
// VARCHAR(255) column on SQLite, PostgreSQL and MySQL/MariaDB, the usual
// column for a ref, so a plugin storing the caller's ref never sees a
// "value too long" database error for a verified caller. Credentials with a
// longer user ref are rejected when their token is verified (401).
const MaxEntityRefLength = 255

// ParseEntityRef parses a full entity reference such as
// "user:default/alice". The kind is lower-cased. A ref longer than
// [MaxEntityRefLength] is an error.
func ParseEntityRef(ref string) (EntityRef, error) {
	if len(ref) > MaxEntityRefLength {
		return EntityRef{}, fmt.Errorf("invalid entity reference %s: it is %d characters long, more than the maximum of %d", quoteStart(ref), len(ref), MaxEntityRefLength)
	}
	// The grammar is ^([a-zA-Z][a-zA-Z0-9_-]*):([a-zA-Z0-9][a-zA-Z0-9._-]*)/([a-zA-Z0-9][a-zA-Z0-9._@-]*)$.
	// No part may hold ':' or '/', so the first of each separates the
	// parts. It is read by hand: every request with user credentials
	// parses a ref, and the regular expression cost a few microseconds.
	kind, rest, ok1 := strings.Cut(ref, ":")
	namespace, name, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !isRefPart(kind, isLetter, "_-") || !isRefPart(namespace, isAlnum, "._-") || !isRefPart(name, isAlnum, "._@-") {
		return EntityRef{}, fmt.Errorf("invalid entity reference %q, expected <kind>:<namespace>/<name> such as \"user:default/alice\"", ref)
	}
	return EntityRef{Kind: lower(kind), Namespace: namespace, Name: name}, nil
}

// isRefPart reports whether s is a first byte for which first is true
// followed by ASCII letters, digits and bytes of more.
func isRefPart(s string, first func(byte) bool, more string) bool {
	if s == "" || !first(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && strings.IndexByte(more, c) < 0 {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool  { return isLetter(c) || '0' <= c && c <= '9' }

// ParseUserEntityRef parses a user entity reference; its kind must be user
// and it must be at most [MaxEntityRefLength] long.
func ParseUserEntityRef(ref string) (EntityRef, error) {
	if len(ref) > MaxEntityRefLength {
		return EntityRef{}, fmt.Errorf("invalid user entity reference %s: it is %d characters long, more than the maximum of %d", quoteStart(ref), len(ref), MaxEntityRefLength)
	}
	r, err := ParseEntityRef(ref)
	if err != nil {
		return r, fmt.Errorf("invalid user entity reference %q, expected user:<namespace>/<name> such as \"user:default/alice\"", ref)
	}
	if r.Kind != "user" {
		return r, fmt.Errorf("invalid user entity reference %q: kind is %q, expected \"user\"", ref, r.Kind)
	}
	return r, nil
}

// quoteStart quotes the start of a ref too long to repeat in full in an
// error message that may reach a caller or a log.
func quoteStart(ref string) string {
	const keep = 40
	if len(ref) <= keep {
		return strconv.Quote(ref)
	}
	return strconv.Quote(ref[:keep]) + "..."
}

func lower(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
