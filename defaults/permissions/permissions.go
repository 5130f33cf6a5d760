package permissions

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/permspec"
)

// Options configure a [Service].
type Options struct {
	// PluginID is the plugin the service answers for; errors name it.
	PluginID string
	// Policy decides the requests; required.
	Policy core.PermissionPolicy
	// UserInfo gives the details of user callers to the policy; required.
	UserInfo core.UserInfo
	// Logger, if set, receives a debug record per decision.
	Logger core.Logger
}

// Service is the production [core.Permissions] of one plugin.
type Service struct {
	o Options
}

var _ core.Permissions = (*Service)(nil)

// New returns the permissions service of a plugin. [Factory] makes one per
// plugin; New is for code that builds a service by hand.
func New(o Options) (*Service, error) {
	if o.Policy == nil || o.UserInfo == nil {
		return nil, errors.New("permissions: New needs Options.Policy and Options.UserInfo")
	}
	return &Service{o: o}, nil
}

// Authorize implements [core.Permissions].
func (s *Service) Authorize(ctx context.Context, creds core.Credentials, reqs ...core.PermissionRequest) ([]core.PermissionDecision, error) {
	var observe func(core.PolicyQuery, core.PermissionDecision)
	if s.o.Logger != nil {
		observe = func(q core.PolicyQuery, d core.PermissionDecision) {
			s.o.Logger.Debug("permission decision", "permission", q.Request.Permission.Name,
				"resourceRef", q.Request.ResourceRef, "caller", q.Credentials.String(),
				"result", string(d.Result), "reason", d.Reason)
		}
	}
	return permspec.Authorize(ctx, s.o.PluginID, s.o.Policy, s.o.UserInfo, creds, reqs, observe)
}

// Factory returns the factory of the core.permissions service: a [Service]
// per plugin over the backend's core.permissionPolicy (the default of
// [PolicyFactory], or a policy module's), core.userInfo and the plugin's
// logger.
func Factory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(core.PermissionsRef, func(ctx context.Context, d struct {
		Policy   core.PermissionPolicy
		UserInfo core.UserInfo
		Logger   core.Logger
		Plugin   core.PluginMetadata
	}) (core.Permissions, error) {
		return New(Options{PluginID: d.Plugin.ID(), Policy: d.Policy, UserInfo: d.UserInfo, Logger: d.Logger})
	})
}

// PolicyFactory returns the factory of the default core.permissionPolicy:
// with permission.enabled false, [AllowAllPolicy]; otherwise (the default)
// [OwnershipPolicy] with the entity refs of permission.admins. An invalid
// admin ref fails the backend's start, naming the key.
func PolicyFactory() *backend.ServiceFactory {
	return backend.NewRootServiceFactory(core.PermissionPolicyRef, func(ctx context.Context, d struct {
		Config core.RootConfig
	}) (core.PermissionPolicy, error) {
		enabled, ok, err := d.Config.OptionalBool("permission.enabled")
		if err != nil {
			return nil, fmt.Errorf("permission policy: %w; set permission.enabled to true or false", err)
		}
		if ok && !enabled {
			return AllowAllPolicy(), nil
		}
		var admins []string
		if d.Config.Has("permission.admins") {
			if admins, err = d.Config.Strings("permission.admins"); err != nil {
				return nil, fmt.Errorf("permission policy: %w; set permission.admins to a list of entity refs such as [\"group:default/admins\"]", err)
			}
		}
		p, err := OwnershipPolicy(admins...)
		if err != nil {
			return nil, fmt.Errorf("permission policy: config key \"permission.admins\": %w", err)
		}
		return p, nil
	})
}

// AllowAllPolicy returns the policy that allows every request, the default
// policy with permission.enabled false.
func AllowAllPolicy() core.PermissionPolicy {
	return core.PermissionPolicyFunc(func(context.Context, core.PolicyQuery) (core.PermissionDecision, error) {
		return core.PermissionDecision{Result: core.Allow, Reason: "permissions are disabled (permission.enabled is false)"}, nil
	})
}

// Ownership is the default policy: services and admins are allowed
// everything; other users basic permissions, and resource permissions on
// what they own (a Conditional decision with [core.IsOwnerRule] whose
// "claims" are the user's ref and ownership refs). Make one with
// [OwnershipPolicy]; a policy module may wrap it, deciding some
// permissions itself and delegating the rest.
type Ownership struct {
	admins map[string]bool // canonical refs
}

var _ core.PermissionPolicy = (*Ownership)(nil)

// OwnershipPolicy returns the ownership policy with admins, entity refs
// such as "group:default/admins" or "user:default/root". An invalid ref is
// an error naming it.
func OwnershipPolicy(admins ...string) (*Ownership, error) {
	p := &Ownership{admins: make(map[string]bool, len(admins))}
	for i, a := range admins {
		r, err := core.ParseEntityRef(a)
		if err != nil {
			return nil, fmt.Errorf("admin %d: %w", i, err)
		}
		p.admins[r.String()] = true
	}
	return p, nil
}

// Decide implements [core.PermissionPolicy].
func (p *Ownership) Decide(ctx context.Context, q core.PolicyQuery) (core.PermissionDecision, error) {
	switch {
	case q.Credentials.IsService():
		return core.PermissionDecision{Result: core.Allow, Reason: "service callers are allowed everything"}, nil
	case q.User == nil:
		return core.PermissionDecision{Result: core.Deny, Reason: "neither a user nor a service"}, nil
	}
	claims := claimsOf(q.User)
	if len(p.admins) > 0 && slices.ContainsFunc(claims, p.isAdmin) {
		return core.PermissionDecision{Result: core.Allow, Reason: "admins are allowed everything"}, nil
	}
	if q.Request.Permission.ResourceType == "" {
		return core.PermissionDecision{Result: core.Allow, Reason: "users are allowed basic permissions"}, nil
	}
	return core.PermissionDecision{
		Result:     core.Conditional,
		Conditions: &core.PermissionCondition{Rule: core.IsOwnerRule, Params: map[string]any{"claims": claims}},
		Reason:     "users are allowed resource permissions on what they own",
	}, nil
}

func (p *Ownership) isAdmin(ref string) bool {
	if p.admins[ref] {
		return true
	}
	r, err := core.ParseEntityRef(ref)
	return err == nil && p.admins[r.String()]
}

// claimsOf returns the user's ref followed by its ownership refs, without
// duplicates.
func claimsOf(u *core.UserDetails) []string {
	claims := make([]string, 0, 1+len(u.OwnershipEntityRefs))
	if u.UserEntityRef != "" {
		claims = append(claims, u.UserEntityRef)
	}
	for _, r := range u.OwnershipEntityRefs {
		if !slices.Contains(claims, r) {
			claims = append(claims, r)
		}
	}
	return claims
}
