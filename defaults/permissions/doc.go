// Package permissions is the production permissions service
// ("core.permissions") and its default policy ("core.permissionPolicy").
//
// [Factory] provides core.permissions to every plugin: it validates each
// request, denies none and limited credentials without asking the policy,
// gives the policy the user's details (from core.userInfo) for user
// credentials, asks the policy once per request, in order, and checks that
// the policy's decisions make sense.
//
// [PolicyFactory] provides the default policy, the ownership policy of
// [OwnershipPolicy], configured by
//
//	permission:
//	  enabled: true                 # default true; false allows every request
//	  admins: [group:default/admins] # entity refs allowed everything
//
// A policy module replaces it by adding a root service factory for
// core.PermissionPolicyRef to the backend:
//
//	b.Add(backend.NewRootServiceFactory(core.PermissionPolicyRef, func(ctx context.Context, _ struct{}) (core.PermissionPolicy, error) {
//		return myPolicy{}, nil
//	}))
package permissions
