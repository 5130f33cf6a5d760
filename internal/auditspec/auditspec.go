// Package auditspec is the one definition of what an audit event records,
// shared by the production auditor (defaults/auditor) and its fake
// (mockservices): the validation of events, the actor and the request's
// URL with its credentials removed.
package auditspec

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// Statuses of an event.
const (
	StatusInitiated = "initiated"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

var eventID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Validate checks opts and returns its severity, SeverityLow by default.
func Validate(pluginID string, opts core.AuditEventOptions) (core.AuditSeverity, error) {
	switch {
	case opts.EventID == "":
		return "", errs.NewInput("auditor: plugin '%s': an audit event needs an EventID in kebab-case, such as \"todo-delete\"", pluginID)
	case len(opts.EventID) > 255 || !eventID.MatchString(opts.EventID):
		return "", errs.NewInput("auditor: plugin '%s': the audit event ID %q is not kebab-case; use lower-case letters and digits separated by single hyphens, such as \"todo-delete\"", pluginID, opts.EventID)
	}
	switch opts.Severity {
	case "":
		return core.SeverityLow, nil
	case core.SeverityLow, core.SeverityMedium, core.SeverityHigh, core.SeverityCritical:
		return opts.Severity, nil
	}
	return "", errs.NewInput("auditor: plugin '%s': audit event %q has the unknown severity %q; use low, medium, high or critical", pluginID, opts.EventID, opts.Severity)
}

// Actor returns the actor of an event: opts.Credentials if set, else the
// caller of opts.Request as httpAuth reads it, else none. An unreadable
// caller is none: an audit never fails because of it.
func Actor(opts core.AuditEventOptions, httpAuth core.HTTPAuth) core.Principal {
	switch {
	case opts.Credentials != nil:
		return opts.Credentials.Principal
	case opts.Request != nil && httpAuth != nil:
		if c, err := httpAuth.Credentials(opts.Request); err == nil {
			return c.Principal
		}
	}
	return core.Principal{Type: core.PrincipalNone}
}

// ActorSubject is the subject an event records for p: the user's entity
// ref or the service's subject.
func ActorSubject(p core.Principal) string {
	if p.Type == core.PrincipalUser {
		return p.UserEntityRef
	}
	return p.Subject
}

// RequestURL is the path and query of r without the query parameters that
// may carry credentials (see [Sensitive]); the scheme, host and user
// information are left out too. The path is the request's target as the
// client sent it (r.RequestURI), not r.URL.Path, which a plugin's router
// has stripped of /api/<pluginId>.
func RequestURL(r *http.Request) string {
	if r == nil || r.URL == nil {
		return ""
	}
	target := r.URL
	if r.RequestURI != "" {
		if t, err := url.ParseRequestURI(r.RequestURI); err == nil {
			target = t
		}
	}
	u := target.EscapedPath()
	if target.RawQuery == "" {
		return u
	}
	q, err := url.ParseQuery(target.RawQuery)
	if err != nil {
		return u // an unparsable query might hide anything
	}
	for k := range q {
		if Sensitive(k) {
			q.Del(k)
		}
	}
	if enc := q.Encode(); enc != "" {
		u += "?" + enc
	}
	return u
}

// sensitiveParts are the parts of a query parameter's name that mark it
// as a credential wherever they occur (X-Amz-Security-Token, client_secret,
// api_key, sessionid, X-Goog-Signature, ...).
var sensitiveParts = []string{"token", "key", "secret", "passw", "auth", "credential", "signature", "session"}

// sensitiveNames are names that mark a credential only as the whole name:
// as parts they would match innocent names (design, codec).
var sensitiveNames = []string{"sig", "pwd", "jwt", "code"}

// Sensitive reports whether a query parameter of this name (in any case)
// may carry a credential: a name containing token, key, secret, passw,
// auth, credential, signature or session, or one of sig, pwd, jwt and
// code.
func Sensitive(name string) bool {
	n := strings.ToLower(name)
	for _, s := range sensitiveParts {
		if strings.Contains(n, s) {
			return true
		}
	}
	return slices.Contains(sensitiveNames, n)
}

// Merge returns the union of base and more, more winning: a new map, or
// base itself when more is empty (so Merge(nil, m) copies m).
func Merge(base, more map[string]any) map[string]any {
	if len(more) == 0 {
		return base
	}
	m := make(map[string]any, len(base)+len(more))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range more {
		m[k] = v
	}
	return m
}
