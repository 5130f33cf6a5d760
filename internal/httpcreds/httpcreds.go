// Package httpcreds reads a request's credentials the way every HTTPAuth
// implementation of Greenroom must: the production service of
// defaults/auth and the fake of mockservices share it, so the fake cannot
// drift from the real rules. It is promised to nobody outside Greenroom.
package httpcreds

import (
	"net/http"
	"slices"
	"strings"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/reqctx"
)

// CookieName is the auth cookie, which carries a limited user token.
const CookieName = "greenroom-auth"

// Credentials returns the caller's credentials, verified with auth once
// per request: the token of the Authorization header ("Bearer <token>"),
// or on paths with a user-cookie auth policy the auth cookie. A request
// without a token gets noToken. Limited user tokens are accepted only on
// user-cookie paths. If allow is not empty the principal must be one of
// them: a disallowed none principal is an AuthenticationError "Missing
// credentials", a disallowed user or service a NotAllowedError.
func Credentials(r *http.Request, auth core.Auth, noToken core.Credentials, allow []core.PrincipalType) (core.Credentials, error) {
	st := reqctx.From(r.Context())
	limitedAccess := st != nil && st.LimitedAccess
	c, err := st.Credentials(func() (core.Credentials, error) {
		token, ok := BearerToken(r.Header.Get("Authorization"))
		if !ok && limitedAccess {
			if ck, err := r.Cookie(CookieName); err == nil {
				token = ck.Value
			}
		}
		if token == "" {
			return noToken, nil
		}
		c, err := auth.Authenticate(r.Context(), token)
		if err != nil {
			return core.Credentials{}, err
		}
		if c.Limited && !limitedAccess {
			return core.Credentials{}, errs.NewAuthentication("Limited user token is not allowed here")
		}
		return c, nil
	})
	if err != nil {
		return core.Credentials{}, err
	}
	if len(allow) > 0 && !slices.Contains(allow, c.Type()) {
		if c.IsNone() {
			return core.Credentials{}, errs.NewAuthentication("Missing credentials")
		}
		return core.Credentials{}, errs.NewNotAllowed("This endpoint does not allow '%s' credentials", c.Type())
	}
	return c, nil
}

// BearerToken returns the token of an Authorization header of the form
// "Bearer <token>" (the scheme in any case, one or more spaces, a token
// without white space), as the pattern `(?i)^Bearer +(\S+)$` would, but
// without a regular expression on every request.
func BearerToken(header string) (string, bool) {
	const scheme = "Bearer"
	if len(header) <= len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) || header[len(scheme)] != ' ' {
		return "", false
	}
	token := strings.TrimLeft(header[len(scheme):], " ")
	// \S is everything but the ASCII white space \t \n \f \r and space.
	if token == "" || strings.ContainsAny(token, "\t\n\f\r ") {
		return "", false
	}
	return token, true
}
