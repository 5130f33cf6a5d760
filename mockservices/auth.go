package mockservices

import (
	"context"
	"regexp"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices/internal/mocktoken"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

// AuthService is a fake [core.Auth] for one plugin that accepts only mock
// tokens (see [mockcreds.Caller]) and records its calls. It needs no keys: a mock
// service token names its target plugin in clear, and the fake checks it,
// so tests can verify plugin-to-plugin token scoping without crypto.
type AuthService struct {
	recorder
	pluginID string
	// disableDefaultAuthPolicy makes PluginRequestToken answer "" for none
	// credentials (config backend.auth.dangerouslyDisableDefaultAuthPolicy).
	disableDefaultAuthPolicy bool
}

var _ core.Auth = (*AuthService)(nil)

// pluginIDPattern is what production accepts as a target plugin id.
var pluginIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Auth returns a fake auth service for the plugin pluginID.
//
// Authenticate accepts "mock-user-token", `mock-user-token:{"sub":...,
// "ent":[...]}`, `mock-limited-user-token:{"sub":...}` (credentials with
// Limited set), "mock-service-token" and `mock-service-token:{"sub":...,
// "target":...,"obo":...}`; the JSON may also be base64url-encoded.
// Everything else is an [errs.Authentication] error: "Token is empty",
// "User token is invalid", "Limited user token is invalid", "Service token
// is invalid", "Invalid mock token target plugin ID, got '<t>' but
// expected '<pluginId>'" and, for any other token (including a real JWT),
// "Unknown mock token '<token>'".
//
// PluginRequestToken issues a mock service token with subject
// "plugin:<pluginId>" and the target plugin, carrying the user for user
// credentials; PublicServiceKeys is an empty set.
func Auth(pluginID string) *AuthService {
	return &AuthService{pluginID: pluginID}
}

// Authenticate implements [core.Auth].
func (a *AuthService) Authenticate(ctx context.Context, token string) (core.Credentials, error) {
	c, err := a.authenticate(token)
	a.record(err, "Authenticate", token)
	return c, err
}

func (a *AuthService) authenticate(token string) (core.Credentials, error) {
	user := func(ref string) core.Credentials {
		return core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: ref}, noExpiry, token)
	}
	switch token {
	case "":
		return core.Credentials{}, errs.NewAuthentication("Token is empty")
	case mocktoken.UserPrefix:
		return user(mockcreds.DefaultUserEntityRef), nil
	case mocktoken.ServicePrefix:
		return mockcreds.ServiceCaller(mockcreds.ServiceOptions{}).Credentials(), nil
	case mockcreds.InvalidUserToken:
		return core.Credentials{}, errs.NewAuthentication("User token is invalid")
	case mockcreds.InvalidLimitedUserToken:
		return core.Credentials{}, errs.NewAuthentication("Limited user token is invalid")
	case mockcreds.InvalidServiceToken:
		return core.Credentials{}, errs.NewAuthentication("Service token is invalid")
	}
	prefix, claims, err := mocktoken.Decode(token)
	switch {
	case err != nil:
		return core.Credentials{}, err
	case prefix == mocktoken.UserPrefix || prefix == mocktoken.LimitedPrefix:
		if _, err := core.ParseUserEntityRef(claims.Sub); err != nil {
			return core.Credentials{}, errs.Wrap(errs.Authentication, err, "Mock user token has an invalid sub claim %q", claims.Sub)
		}
		c := user(claims.Sub)
		c.Limited = prefix == mocktoken.LimitedPrefix
		return c, nil
	default: // mocktoken.ServicePrefix
		if claims.Target != "" && claims.Target != a.pluginID {
			return core.Credentials{}, errs.NewAuthentication("Invalid mock token target plugin ID, got '%s' but expected '%s'", claims.Target, a.pluginID)
		}
		if claims.OBO != "" {
			if _, err := core.ParseUserEntityRef(claims.OBO); err != nil {
				return core.Credentials{}, errs.Wrap(errs.Authentication, err, "Mock service token has an invalid obo claim %q", claims.OBO)
			}
			return user(claims.OBO), nil
		}
		sub := claims.Sub
		if sub == "" {
			sub = mockcreds.DefaultServiceSubject
		}
		return core.NewCredentials(core.Principal{Type: core.PrincipalService, Subject: sub}, noExpiry, token), nil
	}
}

// NoneCredentials implements [core.Auth].
func (a *AuthService) NoneCredentials() core.Credentials { return mockcreds.None().Credentials() }

// OwnServiceCredentials implements [core.Auth]: subject "plugin:<pluginId>".
func (a *AuthService) OwnServiceCredentials() core.Credentials {
	return core.NewCredentials(core.Principal{Type: core.PrincipalService, Subject: "plugin:" + a.pluginID}, noExpiry, "")
}

// PluginRequestToken implements [core.Auth]. For user credentials the
// token carries the user (and the ownership refs of its token); for service
// credentials its subject is "plugin:<pluginId>", as in production.
func (a *AuthService) PluginRequestToken(ctx context.Context, onBehalfOf core.Credentials, targetPluginID string) (string, error) {
	token, err := a.pluginRequestToken(onBehalfOf, targetPluginID)
	a.record(err, "PluginRequestToken", onBehalfOf, targetPluginID)
	return token, err
}

func (a *AuthService) pluginRequestToken(onBehalfOf core.Credentials, target string) (string, error) {
	if !pluginIDPattern.MatchString(target) {
		return "", errs.NewInput("Refused to issue service token for target plugin %q: not a plugin id", target)
	}
	c := mocktoken.Claims{Sub: "plugin:" + a.pluginID, Target: target}
	switch onBehalfOf.Type() {
	case core.PrincipalUser:
		if err := checkUserToken("service token", onBehalfOf); err != nil {
			return "", err
		}
		c.OBO = onBehalfOf.Principal.UserEntityRef
		if _, claims, err := mocktoken.Decode(onBehalfOf.Token()); err == nil {
			c.Ent = claims.Ent
		}
	case core.PrincipalService:
	default:
		if a.disableDefaultAuthPolicy {
			return "", nil
		}
		return "", errs.NewAuthentication("Refused to issue service token for credential type '%s'", onBehalfOf.Type())
	}
	return mocktoken.Encode(mocktoken.ServicePrefix, c), nil
}

// checkUserToken refuses, as production does, user credentials that were
// not verified from a token or that have expired.
func checkUserToken(what string, user core.Credentials) error {
	ref := user.Principal.UserEntityRef
	if user.Token() == "" {
		return errs.NewAuthentication("Refused to issue %s for user '%s': the credentials carry no token; use credentials from HTTPAuth.Credentials or Auth.Authenticate", what, ref)
	}
	if !user.ExpiresAt.IsZero() && !user.ExpiresAt.After(time.Now()) {
		return errs.NewAuthentication("Refused to issue %s for user '%s': the user credentials have expired", what, ref)
	}
	return nil
}

// LimitedUserToken implements [core.Auth]; the token expires in an hour,
// or when the user's credentials do if that is sooner. Limited credentials
// are passed through unchanged.
func (a *AuthService) LimitedUserToken(ctx context.Context, user core.Credentials) (string, time.Time, error) {
	token, exp, err := limitedUserToken(user)
	a.record(err, "LimitedUserToken", user)
	return token, exp, err
}

func limitedUserToken(user core.Credentials) (string, time.Time, error) {
	switch {
	case !user.IsUser():
		return "", time.Time{}, errs.NewNotAllowed("Refused to issue limited user token for non-user principal '%s'", user.Type())
	case user.Limited:
		return user.Token(), user.ExpiresAt, nil
	}
	if err := checkUserToken("limited user token", user); err != nil {
		return "", time.Time{}, err
	}
	exp := time.Now().Add(time.Hour)
	if !user.ExpiresAt.IsZero() && user.ExpiresAt.Before(exp) {
		exp = user.ExpiresAt
	}
	return mocktoken.Encode(mocktoken.LimitedPrefix, mocktoken.Claims{Sub: user.Principal.UserEntityRef}), exp, nil
}

// PublicServiceKeys implements [core.Auth]: mock tokens are not signed, so
// the set is empty.
func (a *AuthService) PublicServiceKeys(ctx context.Context) (core.JSONWebKeySet, error) {
	return core.JSONWebKeySet{Keys: []map[string]any{}}, nil
}
