package httprouter

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/greenroom-dev/greenroom/core"
)

// policy is a parsed auth policy. Its path is matched against request
// paths relative to the plugin's mount, segment by segment: a policy
// matches a path it is a prefix of, so "/health" matches "/health" and
// "/health/x" but not "/healthz". A ":name" segment matches any one
// segment; "/" and "*" match every path.
//
// This is the subset of path-to-regexp that Backstage's auth policies use
// ({end: false} prefix matching with named parameters); the few lines here
// keep its semantics exactly, which a general router library would not.
type policy struct {
	path  string
	allow core.AuthPolicy
	all   bool
	segs  []string
}

func parsePolicy(p string, allow core.AuthPolicy) (policy, error) {
	if allow != core.AllowUnauthenticated && allow != core.AllowUserCookie {
		return policy{}, fmt.Errorf("unknown auth policy %q; use core.AllowUnauthenticated (%q) or core.AllowUserCookie (%q)",
			allow, core.AllowUnauthenticated, core.AllowUserCookie)
	}
	if p == "*" || p == "/" {
		return policy{path: p, allow: allow, all: true}, nil
	}
	if !strings.HasPrefix(p, "/") {
		return policy{}, fmt.Errorf("the path must start with \"/\" and be relative to the plugin's mount, such as \"/health\"")
	}
	clean := path.Clean(p)
	segs := strings.Split(clean[1:], "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	return policy{path: p, allow: allow, segs: segs}, nil
}

func isParam(seg string) bool { return len(seg) > 1 && seg[0] == ':' }

// matches reports whether the policy opens a request path, given as its
// unescaped segments.
func (p policy) matches(segs []string) bool {
	if p.all {
		return true
	}
	if len(segs) < len(p.segs) {
		return false
	}
	for i, ps := range p.segs {
		if isParam(ps) {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if segs[i] != ps {
			return false
		}
	}
	return true
}

// pathSegments splits an escaped path such as "/a%2Fb/c" into unescaped
// segments ("a/b", "c"), the way net/http.ServeMux sees them, so that an
// escaped slash cannot make a policy match a path the mux routes
// elsewhere.
func pathSegments(escaped string) []string {
	segs := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	return segs
}

// relaxed ranks policies: the most relaxed one that matches wins.
func relaxed(a core.AuthPolicy) int {
	switch a {
	case core.AllowUnauthenticated:
		return 2
	case core.AllowUserCookie:
		return 1
	}
	return 0
}

// routeSeg is one segment of a ServeMux pattern.
type routeSeg struct {
	lit   string
	wild  bool // {name}: any one segment
	multi bool // {name...} or a trailing slash: any rest of the path
}

// patternSegments parses the path of a ServeMux pattern
// ("[METHOD ][HOST]/[PATH]"). A "{$}" ends the segments.
func patternSegments(pattern string) ([]routeSeg, bool) {
	i := strings.Index(pattern, "/")
	if i < 0 {
		return nil, false
	}
	p := pattern[i:]
	if p == "/" {
		return []routeSeg{{multi: true}}, true
	}
	parts := strings.Split(p[1:], "/")
	var segs []routeSeg
	for j, s := range parts {
		switch {
		case s == "{$}":
			return segs, true
		case s == "" && j == len(parts)-1:
			segs = append(segs, routeSeg{multi: true})
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "...}"):
			segs = append(segs, routeSeg{multi: true})
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			segs = append(segs, routeSeg{wild: true})
		default:
			if u, err := url.PathUnescape(s); err == nil {
				s = u
			}
			segs = append(segs, routeSeg{lit: s})
		}
	}
	return segs, true
}

// covers reports whether the policy opens every path the route serves.
func (p policy) covers(segs []routeSeg) bool {
	if p.all {
		return true
	}
	for i, ps := range p.segs {
		if i >= len(segs) || segs[i].multi {
			return false
		}
		if isParam(ps) {
			continue
		}
		if segs[i].wild || segs[i].lit != ps {
			return false
		}
	}
	return true
}
