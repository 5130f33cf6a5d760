package mockservices

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/permissions"
	"github.com/greenroom-dev/greenroom/internal/permspec"
)

// PermissionsService is a fake [core.Permissions] that decides by rule, or
// with a real policy, and records every question asked. It answers as
// production does apart from where its decisions come from: invalid
// requests are errs.Input errors, none and limited credentials are denied
// without consulting the rules, and a rule or policy that gives a
// conditional decision for a basic permission is an error. One fake can
// serve every plugin of a backend: each sees a view bound to its id,
// through [PermissionsFactory] or [PermissionsService.ForPlugin].
type PermissionsService struct {
	policy core.PermissionPolicy
	rules  []PermissionRule
	// unmatched decides the requests no rule matches: the production
	// default policy unless an option says otherwise.
	unmatched core.PermissionPolicy

	mu    sync.Mutex
	calls []PermissionCall
}

// PermissionCall is one question asked of a [PermissionsService] and its
// answer.
type PermissionCall struct {
	PluginID    string
	Credentials core.Credentials
	Request     core.PermissionRequest
	Decision    core.PermissionDecision
}

// String formats the call as "<plugin>: <caller> <permission>[ <resource>] = <result>",
// such as "todo: credentials{user user:default/alice} todo.item.delete todo-item:42 = DENY".
func (c PermissionCall) String() string {
	s := c.PluginID + ": " + c.Credentials.String() + " " + c.Request.Permission.Name
	if c.Request.ResourceRef != "" {
		s += " " + c.Request.ResourceRef
	}
	return s + " = " + string(c.Decision.Result)
}

// PermissionsOption configures a [Permissions] fake: a [PermissionRule] or
// [DenyUnmatched].
type PermissionsOption interface {
	applyPermissions(*PermissionsService)
}

type permissionsOptionFunc func(*PermissionsService)

func (f permissionsOptionFunc) applyPermissions(p *PermissionsService) { f(p) }

// DenyUnmatched makes a [Permissions] fake deny the requests no rule
// matches.
func DenyUnmatched() PermissionsOption {
	return permissionsOptionFunc(func(p *PermissionsService) {
		p.unmatched = core.PermissionPolicyFunc(func(context.Context, core.PolicyQuery) (core.PermissionDecision, error) {
			return core.PermissionDecision{Result: core.Deny, Reason: "mockservices: no rule matched and DenyUnmatched is set"}, nil
		})
	})
}

// AllowUnmatched makes a [Permissions] fake allow the requests no rule
// matches, as Backstage's mock does.
func AllowUnmatched() PermissionsOption {
	return permissionsOptionFunc(func(p *PermissionsService) {
		p.unmatched = core.PermissionPolicyFunc(func(context.Context, core.PolicyQuery) (core.PermissionDecision, error) {
			return core.PermissionDecision{Result: core.Allow, Reason: "mockservices: no rule matched and AllowUnmatched is set"}, nil
		})
	})
}

// PermissionAdmins makes a [Permissions] fake decide the requests no rule
// matches with the production default policy with these admins, as a
// backend configured with permission.admins does. It panics on an invalid
// entity ref.
func PermissionAdmins(refs ...string) PermissionsOption {
	pol, err := permissions.OwnershipPolicy(refs...)
	if err != nil {
		panic("mockservices: PermissionAdmins: " + err.Error())
	}
	return permissionsOptionFunc(func(p *PermissionsService) { p.unmatched = pol })
}

// PermissionRule decides the requests for one permission, for every caller
// or, narrowed with ForUser or ForService, for one.
type PermissionRule struct {
	name     string
	decision core.PermissionDecision
	user     string
	service  string
}

func (r PermissionRule) applyPermissions(p *PermissionsService) { p.rules = append(p.rules, r) }

// AllowPermission returns a rule that allows the permission name.
func AllowPermission(name string) PermissionRule {
	return PermissionRule{name: name, decision: core.PermissionDecision{Result: core.Allow, Reason: "mockservices: AllowPermission rule"}}
}

// DenyPermission returns a rule that denies the permission name.
func DenyPermission(name string) PermissionRule {
	return PermissionRule{name: name, decision: core.PermissionDecision{Result: core.Deny, Reason: "mockservices: DenyPermission rule"}}
}

// ConditionalPermission returns a rule that answers the resource
// permission name with a conditional decision. Asking it for a basic
// permission is an error, as with a production policy that does so.
func ConditionalPermission(name string, cond core.PermissionCondition) PermissionRule {
	return PermissionRule{name: name, decision: core.PermissionDecision{Result: core.Conditional, Conditions: &cond, Reason: "mockservices: ConditionalPermission rule"}}
}

// ForUser narrows the rule to the user with the entity ref ref.
func (r PermissionRule) ForUser(ref string) PermissionRule { r.user = ref; return r }

// ForService narrows the rule to the service with the subject subject,
// such as "plugin:catalog".
func (r PermissionRule) ForService(subject string) PermissionRule { r.service = subject; return r }

func (r PermissionRule) matches(q core.PolicyQuery) bool {
	switch {
	case r.name != q.Request.Permission.Name:
		return false
	case r.user != "" && (!q.Credentials.IsUser() || q.Credentials.Principal.UserEntityRef != r.user):
		return false
	case r.service != "" && (!q.Credentials.IsService() || q.Credentials.Principal.Subject != r.service):
		return false
	}
	return true
}

// Permissions returns a fake permissions service that decides by rule: the
// last rule that matches a request decides it, so that a narrowed rule
// given after a general one overrides it; a request that no rule matches
// is decided as production decides it by default (the ownership policy of
// package defaults/permissions, without admins: services and users are
// allowed basic permissions, users resource permissions on what they own),
// or with [PermissionAdmins], [AllowUnmatched] or [DenyUnmatched]. So a
// test backend, whose default fake this is, enforces a plugin's ownership
// rules as production does.
//
//	p := mockservices.Permissions(
//		mockservices.DenyPermission("todo.item.delete"),
//		mockservices.AllowPermission("todo.item.delete").ForUser("user:default/admin"),
//	)
func Permissions(opts ...PermissionsOption) *PermissionsService {
	def, _ := permissions.OwnershipPolicy() // no refs, no error
	p := &PermissionsService{unmatched: def}
	for _, o := range opts {
		o.applyPermissions(p)
	}
	p.policy = core.PermissionPolicyFunc(p.decideByRule)
	return p
}

// PermissionsWithPolicy returns a fake permissions service whose decisions
// come from policy, such as the production ownership policy
// (permissions.OwnershipPolicy of package defaults/permissions) or a
// policy module's, recording them as [Permissions] does.
func PermissionsWithPolicy(policy core.PermissionPolicy) *PermissionsService {
	return &PermissionsService{policy: policy}
}

func (p *PermissionsService) decideByRule(ctx context.Context, q core.PolicyQuery) (core.PermissionDecision, error) {
	for _, r := range slices.Backward(p.rules) {
		if r.matches(q) {
			return r.decision, nil
		}
	}
	return p.unmatched.Decide(ctx, q)
}

// Authorize implements [core.Permissions] for a plugin with the id "test",
// with the user details of a [UserInfo] fake.
func (p *PermissionsService) Authorize(ctx context.Context, creds core.Credentials, reqs ...core.PermissionRequest) ([]core.PermissionDecision, error) {
	return p.authorize(ctx, "test", UserInfo(), creds, reqs)
}

// ForPlugin returns the permissions service that the plugin pluginID sees,
// with the user details of a [UserInfo] fake.
func (p *PermissionsService) ForPlugin(pluginID string) core.Permissions {
	return pluginPermissions{p: p, pluginID: pluginID, userInfo: UserInfo()}
}

// Calls returns the questions asked so far, one per request, in order.
func (p *PermissionsService) Calls() []PermissionCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

func (p *PermissionsService) authorize(ctx context.Context, pluginID string, userInfo core.UserInfo, creds core.Credentials, reqs []core.PermissionRequest) ([]core.PermissionDecision, error) {
	return permspec.Authorize(ctx, pluginID, p.policy, userInfo, creds, reqs, func(q core.PolicyQuery, d core.PermissionDecision) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.calls = append(p.calls, PermissionCall{PluginID: pluginID, Credentials: q.Credentials, Request: q.Request, Decision: d})
	})
}

type pluginPermissions struct {
	p        *PermissionsService
	pluginID string
	userInfo core.UserInfo
}

func (v pluginPermissions) Authorize(ctx context.Context, creds core.Credentials, reqs ...core.PermissionRequest) ([]core.PermissionDecision, error) {
	return v.p.authorize(ctx, v.pluginID, v.userInfo, creds, reqs)
}

// PermissionsFactory returns a factory of the core.permissions service that
// gives each plugin a view of p bound to its id, with the plugin's
// core.userInfo. With a nil p, each backend gets a fake of its own that
// decides as the production default policy does ([Permissions] with no
// options), made when a plugin first depends on it: that is the
// factory of [DefaultFactories]. A test that sets rules or reads the calls
// passes its own.
func PermissionsFactory(p *PermissionsService) *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.PermissionsRef,
		func(context.Context, struct{}) (*PermissionsService, error) {
			if p == nil {
				return Permissions(), nil
			}
			return p, nil
		},
		func(ctx context.Context, p *PermissionsService, d struct {
			Plugin   core.PluginMetadata
			UserInfo core.UserInfo
		}) (core.Permissions, error) {
			if p == nil {
				return nil, fmt.Errorf("mockservices: permissions of plugin '%s': no fake", d.Plugin.ID())
			}
			return pluginPermissions{p: p, pluginID: d.Plugin.ID(), userInfo: d.UserInfo}, nil
		})
}
