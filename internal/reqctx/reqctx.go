// Package reqctx carries per-request state between the HTTP router, which
// applies a plugin's auth policies, and the HTTPAuth service, which reads
// credentials. It is shared by the default and the mock implementations and
// promised to nobody outside Greenroom.
package reqctx

import (
	"context"
	"sync"

	"github.com/greenroom-dev/greenroom/core"
)

type key struct{}

// State is the per-request state.
type State struct {
	// LimitedAccess is set by the router when the request's path matches a
	// user-cookie auth policy: limited user tokens (and the auth cookie) are
	// then accepted.
	LimitedAccess bool
	// PluginID is the plugin whose mount the request entered.
	PluginID string
	// Logger is the plugin's logger, set by the router, for helpers that
	// log the causes of 5xx errors (such as package httpjson). It may be nil.
	Logger core.Logger

	mu    sync.Mutex
	creds *memo
}

type memo struct {
	creds core.Credentials
	err   error
}

// With returns a context carrying a new State.
func With(ctx context.Context, s *State) context.Context {
	return context.WithValue(ctx, key{}, s)
}

// From returns the request's State, or nil.
func From(ctx context.Context) *State {
	s, _ := ctx.Value(key{}).(*State)
	return s
}

// Credentials returns the memoized result of authenticating the request,
// computing it with fn the first time. A nil State computes every time.
func (s *State) Credentials(fn func() (core.Credentials, error)) (core.Credentials, error) {
	if s == nil {
		return fn()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.creds == nil {
		c, err := fn()
		s.creds = &memo{creds: c, err: err}
	}
	return s.creds.creds, s.creds.err
}
