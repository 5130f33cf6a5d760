package core

import (
	"context"
	"fmt"
)

// The references of the permission services.
var (
	// PermissionsRef is the reference of the permissions service (plugin
	// scope), which plugins ask for decisions.
	PermissionsRef = NewServiceRef[Permissions]("core.permissions")
	// PermissionPolicyRef is the reference of the policy that decides
	// (root scope). A policy module replaces the default by adding a root
	// service factory for this ref to the backend.
	//
	// The production default is the ownership policy, configured by
	// permission.enabled (default true) and permission.admins (entity
	// refs, default none): with permission.enabled false every request
	// is allowed; otherwise service callers and users who own or are
	// members of one of the admin refs are allowed everything, other
	// users are allowed basic permissions, and resource permissions on
	// what they own: a Conditional decision with the [IsOwnerRule]
	// whose claims are the user's ref and ownership refs.
	PermissionPolicyRef = NewServiceRef[PermissionPolicy]("core.permissionPolicy", WithScope(RootScope))
)

// PermissionAction is what a permission allows to do to a resource.
type PermissionAction string

const (
	ActionCreate PermissionAction = "create"
	ActionRead   PermissionAction = "read"
	ActionUpdate PermissionAction = "update"
	ActionDelete PermissionAction = "delete"
)

// Permission is something a caller may or may not do, declared by the
// plugin that checks it.
type Permission struct {
	// Name is unique across plugins, such as "todo.item.delete".
	Name string `json:"name"`
	// Action is the action the permission allows, if it is one of the
	// four; "" otherwise.
	Action PermissionAction `json:"action,omitempty"`
	// ResourceType is the kind of resource the permission is checked on,
	// such as "todo-item"; "" for a basic permission, which is not about
	// one resource.
	ResourceType string `json:"resourceType,omitempty"`
}

// PermissionRequest asks whether the caller has a permission, on a
// resource for a resource permission.
type PermissionRequest struct {
	Permission Permission `json:"permission"`
	// ResourceRef identifies the resource, such as "todo-item:42"; only
	// for a resource permission, and optional there.
	ResourceRef string `json:"resourceRef,omitempty"`
}

// PermissionResult is the outcome of a decision.
type PermissionResult string

const (
	// Allow: the caller has the permission.
	Allow PermissionResult = "ALLOW"
	// Deny: the caller does not have it.
	Deny PermissionResult = "DENY"
	// Conditional: the caller has it on the resources that satisfy the
	// decision's conditions, which the plugin owning the resource type
	// evaluates with its rules. Only for resource permissions.
	Conditional PermissionResult = "CONDITIONAL"
)

// IsOwnerRule is the name of the rule that the production default policy
// puts in its conditions: a resource satisfies it when its owner is one
// of the entity refs in the "claims" parameter (a []string). A plugin that
// declares a resource type implements it.
const IsOwnerRule = "IS_OWNER"

// PermissionCondition is a tree of rules a resource must satisfy: exactly
// one of Rule, AllOf, AnyOf and Not is set.
type PermissionCondition struct {
	// Rule names a rule of the resource type, with its parameters.
	Rule   string         `json:"rule,omitempty"`
	Params map[string]any `json:"params,omitempty"`
	// AllOf is satisfied when every condition is; AnyOf when one is.
	AllOf []PermissionCondition `json:"allOf,omitempty"`
	AnyOf []PermissionCondition `json:"anyOf,omitempty"`
	// Not is satisfied when its condition is not.
	Not *PermissionCondition `json:"not,omitempty"`
}

// Eval evaluates the condition on one resource: rule is called for each
// Rule leaf with its name and parameters. An unknown rule should be an
// error, which Eval returns wrapped. An empty AllOf is satisfied, an empty
// AnyOf is not.
func (c PermissionCondition) Eval(rule func(name string, params map[string]any) (bool, error)) (bool, error) {
	n := 0
	if c.Rule != "" {
		n++
	}
	if c.AllOf != nil {
		n++
	}
	if c.AnyOf != nil {
		n++
	}
	if c.Not != nil {
		n++
	}
	if n != 1 {
		return false, fmt.Errorf("permissions: a condition must set exactly one of rule, allOf, anyOf and not; this one sets %d", n)
	}
	switch {
	case c.Rule != "":
		ok, err := rule(c.Rule, c.Params)
		if err != nil {
			return false, fmt.Errorf("permissions: rule %q: %w", c.Rule, err)
		}
		return ok, nil
	case c.AllOf != nil:
		for _, s := range c.AllOf {
			if ok, err := s.Eval(rule); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case c.AnyOf != nil:
		for _, s := range c.AnyOf {
			if ok, err := s.Eval(rule); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	default:
		ok, err := c.Not.Eval(rule)
		return !ok && err == nil, err
	}
}

// PermissionDecision is the answer to one [PermissionRequest].
type PermissionDecision struct {
	Result PermissionResult `json:"result"`
	// Conditions are set when Result is Conditional.
	Conditions *PermissionCondition `json:"conditions,omitempty"`
	// Reason optionally says why, for logs and error messages.
	Reason string `json:"reason,omitempty"`
}

// Allowed evaluates the decision on one resource: true for Allow, false
// for Deny, and the conditions for Conditional (see
// [PermissionCondition.Eval]).
func (d PermissionDecision) Allowed(rule func(name string, params map[string]any) (bool, error)) (bool, error) {
	switch d.Result {
	case Allow:
		return true, nil
	case Deny:
		return false, nil
	case Conditional:
		if d.Conditions == nil {
			return false, fmt.Errorf("permissions: a conditional decision without conditions")
		}
		return d.Conditions.Eval(rule)
	}
	return false, fmt.Errorf("permissions: unknown decision result %q", d.Result)
}

// PolicyQuery is what a [PermissionPolicy] decides on.
type PolicyQuery struct {
	Request PermissionRequest
	// Credentials are the caller's: a user or a service.
	Credentials Credentials
	// User is set for user credentials: the user's entity ref and the
	// entity refs they own or are a member of (from core.userInfo).
	User *UserDetails
}

// PermissionPolicy decides permission requests (service
// "core.permissionPolicy", root scope). A policy module provides one with
// a root service factory for [PermissionPolicyRef].
type PermissionPolicy interface {
	Decide(ctx context.Context, q PolicyQuery) (PermissionDecision, error)
}

// PermissionPolicyFunc adapts a function to [PermissionPolicy].
type PermissionPolicyFunc func(ctx context.Context, q PolicyQuery) (PermissionDecision, error)

// Decide calls f.
func (f PermissionPolicyFunc) Decide(ctx context.Context, q PolicyQuery) (PermissionDecision, error) {
	return f(ctx, q)
}

// Permissions answers permission requests for a caller (service
// "core.permissions"). A request with credentials that are neither user
// nor service credentials is denied; an invalid request (no permission
// name, a resource ref on a basic permission) is an errs.Input error.
type Permissions interface {
	// Authorize returns one decision per request, in order. A
	// Conditional decision is returned as is: the plugin evaluates its
	// conditions on the resource with [PermissionDecision.Allowed].
	Authorize(ctx context.Context, creds Credentials, reqs ...PermissionRequest) ([]PermissionDecision, error)
}
