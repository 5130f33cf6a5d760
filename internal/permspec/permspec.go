// Package permspec is the one definition of how a permission request is
// answered, shared by the production permissions service
// (defaults/permissions) and its fake (mockservices): the validation of
// requests, the denial of none and limited credentials, the user details
// given to the policy and the checks of the policy's decisions. The fake
// differs from production only in where its decisions come from and in
// that it records them.
package permspec

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// Reasons of the decisions made without asking the policy.
const (
	ReasonNone    = "the caller is not authenticated (none credentials): permissions are only granted to users and services"
	ReasonLimited = "the caller's credentials are limited (a user cookie token): permissions are only granted to full user or service credentials"
)

// Validate returns an errs.Input error if the i-th request of plugin
// pluginID is invalid.
func Validate(pluginID string, i int, req core.PermissionRequest) error {
	switch {
	case req.Permission.Name == "":
		return errs.NewInput("permissions: plugin '%s': request %d has no permission name; name the permission, such as \"todo.item.delete\"", pluginID, i)
	case req.Permission.ResourceType == "" && req.ResourceRef != "":
		return errs.NewInput("permissions: plugin '%s': request %d for the basic permission %q has the resource ref %q; a resource ref is only for a resource permission (one with a ResourceType)", pluginID, i, req.Permission.Name, req.ResourceRef)
	}
	return nil
}

// CheckDecision returns an error naming the permission if d is not a
// decision a policy may give for req.
func CheckDecision(pluginID string, req core.PermissionRequest, d core.PermissionDecision) error {
	name := req.Permission.Name
	switch d.Result {
	case core.Allow, core.Deny:
		return nil
	case core.Conditional:
		if req.Permission.ResourceType == "" {
			return fmt.Errorf("permissions: plugin '%s': the permission policy answered CONDITIONAL for the basic permission %q; conditions are only for resource permissions: fix the policy (core.permissionPolicy) to answer ALLOW or DENY", pluginID, name)
		}
		if d.Conditions == nil {
			return fmt.Errorf("permissions: plugin '%s': the permission policy answered CONDITIONAL without conditions for the permission %q: fix the policy (core.permissionPolicy) to set Conditions", pluginID, name)
		}
		return nil
	}
	return fmt.Errorf("permissions: plugin '%s': the permission policy answered the unknown result %q for the permission %q: fix the policy (core.permissionPolicy) to answer ALLOW, DENY or CONDITIONAL", pluginID, d.Result, name)
}

// Authorize answers reqs for creds as the core.Permissions contract says:
// every request is validated first; none and limited credentials are
// denied without asking policy; otherwise policy decides each request once,
// in order, with the user's details from userInfo for user credentials.
// observe, if not nil, is called with each decision.
func Authorize(ctx context.Context, pluginID string, policy core.PermissionPolicy, userInfo core.UserInfo, creds core.Credentials, reqs []core.PermissionRequest, observe func(core.PolicyQuery, core.PermissionDecision)) ([]core.PermissionDecision, error) {
	for i, r := range reqs {
		if err := Validate(pluginID, i, r); err != nil {
			return nil, err
		}
	}
	out := make([]core.PermissionDecision, 0, len(reqs))
	if reason := deniedReason(creds); reason != "" {
		for _, r := range reqs {
			d := core.PermissionDecision{Result: core.Deny, Reason: reason}
			if observe != nil {
				observe(core.PolicyQuery{Request: r, Credentials: creds}, d)
			}
			out = append(out, d)
		}
		return out, nil
	}
	var user *core.UserDetails
	if creds.IsUser() && len(reqs) > 0 {
		u, err := userInfo.Get(ctx, creds)
		if err != nil {
			return nil, fmt.Errorf("permissions: plugin '%s': reading the details of %s from core.userInfo: %w", pluginID, creds.Principal.UserEntityRef, err)
		}
		user = &u
	}
	for _, r := range reqs {
		q := core.PolicyQuery{Request: r, Credentials: creds, User: user}
		d, err := policy.Decide(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("permissions: plugin '%s': the permission policy failed on the permission %q: %w", pluginID, r.Permission.Name, err)
		}
		if err := CheckDecision(pluginID, r, d); err != nil {
			return nil, err
		}
		if observe != nil {
			observe(q, d)
		}
		out = append(out, d)
	}
	return out, nil
}

func deniedReason(creds core.Credentials) string {
	switch {
	case !creds.IsUser() && !creds.IsService():
		return ReasonNone
	case creds.Limited:
		return ReasonLimited
	}
	return ""
}
