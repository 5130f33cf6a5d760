package mockservices

import (
	"net/http"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/httpcreds"
)

// HTTPAuthService is a fake [core.HTTPAuth] that reads mock tokens through
// an auth service and records its calls. It follows the production rules:
// the token comes from "Authorization: Bearer <token>" or, on paths with a
// [core.AllowUserCookie] policy, from the auth cookie; the result is
// memoized per request; a request without a token has none credentials
// (there is no implicit user: secure by default).
type HTTPAuthService struct {
	recorder
	auth        core.Auth
	defaultCred *core.Credentials
}

var _ core.HTTPAuth = (*HTTPAuthService)(nil)

// HTTPAuthOption configures an [HTTPAuthService].
type HTTPAuthOption func(*HTTPAuthService)

// WithDefaultCredentials makes requests without a token authenticate as
// creds instead of none, for tests that do not care about auth. Requests
// with a token are unaffected.
func WithDefaultCredentials(creds core.Credentials) HTTPAuthOption {
	return func(h *HTTPAuthService) { h.defaultCred = &creds }
}

// HTTPAuth returns a fake HTTP auth service that verifies tokens with auth,
// typically [Auth] of the same plugin.
func HTTPAuth(auth core.Auth, opts ...HTTPAuthOption) *HTTPAuthService {
	h := &HTTPAuthService{auth: auth}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Credentials implements [core.HTTPAuth]. A disallowed none principal is
// an [errs.Authentication] error "Missing credentials"; a disallowed user or
// service an [errs.NotAllowed] error "This endpoint does not allow '<type>'
// credentials".
func (h *HTTPAuthService) Credentials(r *http.Request, allow ...core.PrincipalType) (core.Credentials, error) {
	noToken := h.auth.NoneCredentials()
	if h.defaultCred != nil {
		noToken = *h.defaultCred
	}
	c, err := httpcreds.Credentials(r, h.auth, noToken, allow)
	args := []any{r.Method + " " + r.URL.RequestURI()}
	for _, a := range allow {
		args = append(args, a)
	}
	h.record(err, "Credentials", args...)
	if err != nil {
		return core.Credentials{}, err
	}
	return c, nil
}

// IssueUserCookie implements [core.HTTPAuth]: it sets the auth cookie to a
// limited token for a user, clears it for none credentials and refuses
// service credentials.
func (h *HTTPAuthService) IssueUserCookie(w http.ResponseWriter, r *http.Request, creds core.Credentials) (time.Time, error) {
	exp, err := h.issueUserCookie(w, r, creds)
	h.record(err, "IssueUserCookie", creds)
	return exp, err
}

func (h *HTTPAuthService) issueUserCookie(w http.ResponseWriter, r *http.Request, creds core.Credentials) (time.Time, error) {
	switch creds.Type() {
	case core.PrincipalNone:
		http.SetCookie(w, &http.Cookie{Name: httpcreds.CookieName, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		return time.Time{}, nil
	case core.PrincipalUser:
		token, exp, err := h.auth.LimitedUserToken(r.Context(), creds)
		if err != nil {
			return time.Time{}, err
		}
		http.SetCookie(w, &http.Cookie{Name: httpcreds.CookieName, Value: token, Path: "/", Expires: exp, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		return exp, nil
	default:
		return time.Time{}, errs.NewNotAllowed("Refused to issue cookie for non-user principal '%s'", creds.Type())
	}
}
