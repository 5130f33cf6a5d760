package mockservices

import (
	"context"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices/internal/mocktoken"
)

// UserInfoService is a fake [core.UserInfo] that records its calls.
type UserInfoService struct {
	recorder
}

var _ core.UserInfo = (*UserInfoService)(nil)

// UserInfo returns a fake user info service. For user credentials it
// reports the user entity ref and, as ownership, the "ent" refs of the mock
// token (see [mockcreds.Caller.WithOwnership]) or else the user ref alone. Other
// credentials are an [errs.Input] error, as in production.
func UserInfo() *UserInfoService { return &UserInfoService{} }

// Get implements [core.UserInfo].
func (u *UserInfoService) Get(ctx context.Context, creds core.Credentials) (core.UserDetails, error) {
	d, err := userDetails(creds)
	u.record(err, "Get", creds)
	return d, err
}

func userDetails(creds core.Credentials) (core.UserDetails, error) {
	if !creds.IsUser() {
		return core.UserDetails{}, errs.NewInput("Only user credentials are supported")
	}
	ref := creds.Principal.UserEntityRef
	d := core.UserDetails{UserEntityRef: ref, OwnershipEntityRefs: []string{ref}}
	if _, claims, err := mocktoken.Decode(creds.Token()); err == nil && claims.Ent != nil {
		d.OwnershipEntityRefs = append([]string(nil), claims.Ent...)
	}
	return d, nil
}
