package mockcreds

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/httpcreds"
	"github.com/greenroom-dev/greenroom/mockservices/internal/mocktoken"
)

// Default identities of the mock callers.
const (
	// DefaultUserEntityRef is the user of [User] when no ref is given.
	DefaultUserEntityRef = mocktoken.DefaultUserEntityRef
	// DefaultServiceSubject is the subject of [ServiceCaller] when none is
	// given.
	DefaultServiceSubject = mocktoken.DefaultServiceSubject
)

// Tokens that the mock auth service always rejects, each with its own
// message, for testing how code handles bad credentials.
const (
	InvalidUserToken        = mocktoken.InvalidUser        // "User token is invalid"
	InvalidLimitedUserToken = mocktoken.InvalidLimitedUser // "Limited user token is invalid"
	InvalidServiceToken     = mocktoken.InvalidService     // "Service token is invalid"
)

// noExpiry is the expiry of mock credentials: mock tokens do not expire.
var noExpiry time.Time

// Caller is a mock caller: the credentials the mock auth service yields for
// it, the token it presents and the Authorization header carrying that
// token. Build one with [User], [LimitedUser], [ServiceCaller] or [None].
type Caller struct {
	creds core.Credentials
}

// User returns a user caller; its token is "mock-user-token" for the
// default user and `mock-user-token:{"sub":"<ref>"}` for any other. ref must
// be a user entity ref such as "user:default/alice"; User panics otherwise,
// like regexp.MustCompile, since a malformed ref in a test is a bug in the
// test.
func User(ref ...string) Caller {
	r := userRef("User", ref)
	token := mocktoken.UserPrefix
	if r != DefaultUserEntityRef {
		token = mocktoken.Encode(mocktoken.UserPrefix, mocktoken.Claims{Sub: r})
	}
	return Caller{creds: core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: r}, noExpiry, token)}
}

// LimitedUser returns a user caller with a limited token, as found in the
// auth cookie: `mock-limited-user-token:<payload>`, where the payload is the
// JSON {"sub":"<ref>"} base64url-encoded, since a cookie cannot hold '"';
// only paths with a [core.AllowUserCookie] policy accept it. ref is checked
// as for [User].
func LimitedUser(ref ...string) Caller {
	r := userRef("LimitedUser", ref)
	c := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: r}, noExpiry,
		mocktoken.Encode(mocktoken.LimitedPrefix, mocktoken.Claims{Sub: r}))
	c.Limited = true
	return Caller{creds: c}
}

// ServiceOptions describes the token of a [ServiceCaller].
type ServiceOptions struct {
	// Subject is the service's subject; "" means [DefaultServiceSubject].
	Subject string
	// TargetPluginID, if set, is the only plugin that accepts the token.
	TargetPluginID string
	// OnBehalfOf, if set, is the user entity ref the service calls for: the
	// receiving plugin then sees that user's credentials.
	OnBehalfOf string
}

// ServiceCaller returns a service caller. With zero options its token is
// "mock-service-token" and its subject [DefaultServiceSubject]; otherwise
// the token is `mock-service-token:{"sub":...,"target":...,"obo":...}`. An
// OnBehalfOf user makes its credentials those of that user, as the mock
// auth service does. ServiceCaller panics if OnBehalfOf is not a user
// entity ref.
func ServiceCaller(o ServiceOptions) Caller {
	if o == (ServiceOptions{}) {
		return Caller{creds: core.NewCredentials(core.Principal{Type: core.PrincipalService, Subject: DefaultServiceSubject}, noExpiry, mocktoken.ServicePrefix)}
	}
	token := mocktoken.Encode(mocktoken.ServicePrefix, mocktoken.Claims{Sub: o.Subject, Target: o.TargetPluginID, OBO: o.OnBehalfOf})
	if o.OnBehalfOf != "" {
		r := userRef("ServiceCaller", []string{o.OnBehalfOf})
		return Caller{creds: core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: r}, noExpiry, token)}
	}
	sub := o.Subject
	if sub == "" {
		sub = DefaultServiceSubject
	}
	return Caller{creds: core.NewCredentials(core.Principal{Type: core.PrincipalService, Subject: sub}, noExpiry, token)}
}

// None returns the anonymous caller: no token, no header.
func None() Caller {
	return Caller{creds: core.NewCredentials(core.Principal{Type: core.PrincipalNone}, noExpiry, "")}
}

// WithOwnership returns a copy of a user caller whose token also carries the
// given ownership entity refs (the "ent" claim), which the mock user info
// service reports. It panics for a caller that is not a full user.
func (c Caller) WithOwnership(refs ...string) Caller {
	if !c.creds.IsUser() || c.creds.Limited || !strings.HasPrefix(c.creds.Token(), mocktoken.UserPrefix) {
		panic(fmt.Sprintf("mockcreds: WithOwnership: %s is not a User caller", c.creds))
	}
	for _, r := range refs {
		if _, err := core.ParseEntityRef(r); err != nil {
			panic("mockcreds: WithOwnership: " + err.Error())
		}
	}
	p := c.creds.Principal
	token := mocktoken.Encode(mocktoken.UserPrefix, mocktoken.Claims{Sub: p.UserEntityRef, Ent: append([]string(nil), refs...)})
	return Caller{creds: core.NewCredentials(p, noExpiry, token)}
}

// Credentials returns the caller's credentials, as the mock auth service
// yields them for [Caller.Token].
func (c Caller) Credentials() core.Credentials { return c.creds }

// Token returns the caller's mock token ("" for [None]).
func (c Caller) Token() string { return c.creds.Token() }

// Header returns the value of an Authorization header carrying the token,
// "Bearer <token>", or "" for [None].
func (c Caller) Header() string {
	if c.creds.Token() == "" {
		return ""
	}
	return "Bearer " + c.creds.Token()
}

// Cookie returns the auth cookie carrying the caller's token, for paths with
// a [core.AllowUserCookie] policy; use it with a [LimitedUser]. A JSON
// payload is base64url-encoded, since a cookie cannot hold '"'; the auth
// fake accepts both forms.
func (c Caller) Cookie() *http.Cookie {
	token := c.creds.Token()
	if prefix, payload, ok := strings.Cut(token, ":"); ok && strings.HasPrefix(payload, "{") {
		token = prefix + ":" + base64.RawURLEncoding.EncodeToString([]byte(payload))
	}
	return &http.Cookie{Name: httpcreds.CookieName, Value: token}
}

// String describes the caller, such as "mock user user:default/alice".
func (c Caller) String() string {
	s := "mock " + c.creds.String()
	if c.creds.Limited {
		s += " (limited)"
	}
	return s
}

func userRef(fn string, ref []string) string {
	switch len(ref) {
	case 0:
		return DefaultUserEntityRef
	case 1:
		if _, err := core.ParseUserEntityRef(ref[0]); err != nil {
			panic(fmt.Sprintf("mockcreds: %s: %v", fn, err))
		}
		return ref[0]
	default:
		panic(fmt.Sprintf("mockcreds: %s: at most one user entity ref, got %d", fn, len(ref)))
	}
}
