package core

import (
	"fmt"
	"regexp"
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

var entityRefPattern = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9_-]*):([a-zA-Z0-9][a-zA-Z0-9._-]*)/([a-zA-Z0-9][a-zA-Z0-9._@-]*)$`)

// EntityRef is a parsed entity reference of the form kind:namespace/name.
type EntityRef struct {
	Kind, Namespace, Name string
}

// String returns kind:namespace/name.
func (r EntityRef) String() string { return r.Kind + ":" + r.Namespace + "/" + r.Name }

// ParseEntityRef parses a full entity reference such as
// "user:default/alice". The kind is lower-cased.
func ParseEntityRef(ref string) (EntityRef, error) {
	m := entityRefPattern.FindStringSubmatch(ref)
	if m == nil {
		return EntityRef{}, fmt.Errorf("invalid entity reference %q, expected <kind>:<namespace>/<name> such as \"user:default/alice\"", ref)
	}
	return EntityRef{Kind: lower(m[1]), Namespace: m[2], Name: m[3]}, nil
}

// ParseUserEntityRef parses a user entity reference; its kind must be user.
func ParseUserEntityRef(ref string) (EntityRef, error) {
	r, err := ParseEntityRef(ref)
	if err != nil {
		return r, fmt.Errorf("invalid user entity reference %q, expected user:<namespace>/<name> such as \"user:default/alice\"", ref)
	}
	if r.Kind != "user" {
		return r, fmt.Errorf("invalid user entity reference %q: kind is %q, expected \"user\"", ref, r.Kind)
	}
	return r, nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
