package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/httpcreds"
)

type httpAuth struct {
	auth   core.Auth
	secure bool
}

// NewHTTPAuth returns the HTTPAuth service of a plugin that verifies tokens
// with auth. externalBaseURL is the plugin's external base URL (see
// core.Discovery.ExternalBaseURL); when it is https the auth cookie is
// Secure and SameSite=None, else SameSite=Lax.
func NewHTTPAuth(auth core.Auth, externalBaseURL string) (core.HTTPAuth, error) {
	if auth == nil {
		return nil, errors.New("auth: NewHTTPAuth needs the plugin's Auth service")
	}
	u, err := url.Parse(externalBaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("auth: external base URL %q is not an absolute http(s) URL; check backend.baseUrl and discovery.endpoints", externalBaseURL)
	}
	return &httpAuth{auth: auth, secure: u.Scheme == "https"}, nil
}

// Credentials returns the caller's credentials, verified once per request.
// The token comes from the Authorization header; on paths with a
// user-cookie auth policy, from the auth cookie when there is no header.
// Limited user tokens are accepted only on those paths.
func (h *httpAuth) Credentials(r *http.Request, allow ...core.PrincipalType) (core.Credentials, error) {
	return httpcreds.Credentials(r, h.auth, h.auth.NoneCredentials(), allow)
}

// IssueUserCookie sets the auth cookie to a limited token for the user and
// returns when it expires. For none credentials it clears the cookie and
// returns the zero time; service credentials are refused.
func (h *httpAuth) IssueUserCookie(w http.ResponseWriter, r *http.Request, creds core.Credentials) (time.Time, error) {
	c := &http.Cookie{
		Name:     CookieName,
		Path:     "/",
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	}
	if h.secure {
		c.SameSite = http.SameSiteNoneMode
	}
	switch creds.Type() {
	case core.PrincipalUser:
	case core.PrincipalNone:
		c.MaxAge = -1
		http.SetCookie(w, c)
		return time.Time{}, nil
	default:
		return time.Time{}, errs.NewNotAllowed("Refused to issue cookie for non-user principal '%s'", creds.Type())
	}
	token, exp, err := h.auth.LimitedUserToken(r.Context(), creds)
	if err != nil {
		return time.Time{}, err
	}
	c.Value = token
	c.Expires = exp
	http.SetCookie(w, c)
	return exp, nil
}
