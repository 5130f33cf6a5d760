package auth

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

type userInfo struct{}

// NewUserInfo returns the UserInfo service. It reads the user's ownership
// entity refs from the 'ent' claim of the token the credentials were
// verified from, without verifying it again; a token without that claim
// (or credentials built without a token) yields the user's own ref.
func NewUserInfo() core.UserInfo { return userInfo{} }

func (userInfo) Get(ctx context.Context, creds core.Credentials) (core.UserDetails, error) {
	if !creds.IsUser() {
		return core.UserDetails{}, errs.NewInput("Only user credentials are supported")
	}
	ref := creds.Principal.UserEntityRef
	d := core.UserDetails{UserEntityRef: ref, OwnershipEntityRefs: []string{ref}}
	if creds.Token() == "" {
		return d, nil
	}
	c, err := unverifiedClaims(creds.Token())
	if err != nil {
		return core.UserDetails{}, fmt.Errorf("auth: user info of '%s': %w", ref, err)
	}
	sub, err := core.ParseUserEntityRef(c.Subject)
	if err != nil || sub.String() != ref {
		return core.UserDetails{}, fmt.Errorf("auth: user info of '%s': the credentials' token belongs to %q; credentials must come from Auth.Authenticate", ref, c.Subject)
	}
	if len(c.Ent) > 0 {
		d.OwnershipEntityRefs = append([]string(nil), c.Ent...)
	}
	return d, nil
}
