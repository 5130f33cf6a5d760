package testbackend

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// defaultUserRef is the user of AsUser("") and of WithInvalidToken alone,
// as in Backstage's mock credentials.
const defaultUserRef = "user:default/mock"

// defaultServiceSubject is the subject of AsService(""): an external caller.
const defaultServiceSubject = "external:test-service"

// cookieName is the name of the auth cookie, shared by the real and mock
// HTTPAuth services.
const cookieName = "greenroom-auth"

type callerKind int

const (
	callerDefault     callerKind = iota // the backend's default user, or none
	callerNone                          // explicitly no credentials
	callerUser                          // a full user token
	callerLimitedUser                   // a limited user token in the cookie
	callerService                       // a service token
)

// caller is who a request is sent as.
type caller struct {
	kind       callerKind
	ref        string // user entity ref of callerUser and callerLimitedUser
	subject    string // subject of callerService
	onBehalfOf string // user entity ref a service calls for
	invalid    bool   // send an invalid token of the kind instead
}

// tokenMinter issues tokens that the backend's auth services accept: the
// mock auth's tokens, or real signed tokens. Tokens for services are bound
// to the plugin they call (target).
type tokenMinter interface {
	userToken(ctx context.Context, ref string) (string, error)
	limitedUserToken(ctx context.Context, ref, target string) (string, error)
	serviceToken(ctx context.Context, subject, onBehalfOf, target string) (string, error)
	// invalidate turns a token of the minter into an invalid token of
	// the same kind, which its auth rejects.
	invalidate(token string) string
}

// attach adds the credentials of c to req.
func (tb *Backend) attach(ctx context.Context, req *http.Request, c caller) error {
	var tok string
	var err error
	switch c.kind {
	case callerDefault, callerNone:
		return nil
	case callerUser:
		tok, err = tb.auth.userToken(ctx, orDefault(c.ref, defaultUserRef))
	case callerLimitedUser:
		tok, err = tb.auth.limitedUserToken(ctx, orDefault(c.ref, defaultUserRef), targetPlugin(req))
	case callerService:
		tok, err = tb.auth.serviceToken(ctx, orDefault(c.subject, defaultServiceSubject), c.onBehalfOf, targetPlugin(req))
	}
	if err != nil {
		return err
	}
	if c.invalid {
		tok = tb.auth.invalidate(tok)
	}
	if c.kind == callerLimitedUser {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// targetPlugin returns the plugin id of a request path /api/<pluginId>/...,
// or "" for paths outside plugins.
func targetPlugin(req *http.Request) string {
	rest, ok := strings.CutPrefix(req.URL.Path, "/api/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// errNoTarget is returned for tokens bound to a plugin when the request
// path names none.
func errNoTarget(what string) error {
	return fmt.Errorf("%s is bound to the plugin it calls, but the request path is not under /api/<pluginId>/", what)
}
