package permissions_test

import (
	"context"
	"fmt"
	"io"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults"
	"github.com/greenroom-dev/greenroom/defaults/permissions"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

var deleteItem = core.PermissionRequest{
	Permission:  core.Permission{Name: "todo.item.delete", Action: core.ActionDelete, ResourceType: "todo-item"},
	ResourceRef: "todo-item:42",
}

func ExampleOwnershipPolicy() {
	p, err := permissions.OwnershipPolicy("group:default/admins")
	if err != nil {
		fmt.Println(err)
		return
	}
	alice := mockcreds.User("user:default/alice").Credentials()
	d, _ := p.Decide(context.Background(), core.PolicyQuery{
		Request:     deleteItem,
		Credentials: alice,
		User:        &core.UserDetails{UserEntityRef: "user:default/alice", OwnershipEntityRefs: []string{"group:default/team"}},
	})
	fmt.Println(d.Result, d.Conditions.Rule, d.Conditions.Params["claims"])

	// The plugin owning todo items evaluates the condition on an item.
	owner := "group:default/team"
	ok, _ := d.Allowed(func(rule string, params map[string]any) (bool, error) {
		for _, c := range params["claims"].([]string) {
			if c == owner {
				return true, nil
			}
		}
		return false, nil
	})
	fmt.Println("allowed on an item owned by", owner+":", ok)
	// Output:
	// CONDITIONAL IS_OWNER [user:default/alice group:default/team]
	// allowed on an item owned by group:default/team: true
}

func ExampleAllowAllPolicy() {
	d, _ := permissions.AllowAllPolicy().Decide(context.Background(), core.PolicyQuery{Request: deleteItem})
	fmt.Println(d.Result)
	// Output: ALLOW
}

func ExampleNew() {
	p, err := permissions.New(permissions.Options{
		PluginID: "todo",
		Policy:   permissions.AllowAllPolicy(),
		UserInfo: mockservices.UserInfo(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ds, _ := p.Authorize(context.Background(), mockcreds.None().Credentials(), deleteItem)
	fmt.Println(ds[0].Result)
	// Output: DENY
}

func ExampleService_Authorize() {
	own, _ := permissions.OwnershipPolicy()
	p, _ := permissions.New(permissions.Options{PluginID: "todo", Policy: own, UserInfo: mockservices.UserInfo()})
	read := core.PermissionRequest{Permission: core.Permission{Name: "todo.list.read"}}
	ds, err := p.Authorize(context.Background(), mockcreds.User("user:default/alice").Credentials(), read, deleteItem)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range ds {
		fmt.Println(d.Result)
	}
	// Output:
	// ALLOW
	// CONDITIONAL
}

// A policy module replaces the default policy of PolicyFactory: it is a
// root service factory for core.PermissionPolicyRef added to the backend.
// This one denies deletions and leaves the rest to the ownership policy.
func ExampleFactory() {
	module := backend.NewRootServiceFactory(core.PermissionPolicyRef, func(ctx context.Context, d struct {
		Config core.RootConfig
	}) (core.PermissionPolicy, error) {
		own, err := permissions.OwnershipPolicy()
		if err != nil {
			return nil, err
		}
		return core.PermissionPolicyFunc(func(ctx context.Context, q core.PolicyQuery) (core.PermissionDecision, error) {
			if q.Request.Permission.Action == core.ActionDelete {
				return core.PermissionDecision{Result: core.Deny, Reason: "deletions are disabled"}, nil
			}
			return own.Decide(ctx, q)
		}), nil
	})
	b := defaults.New(defaults.ConfigYAML("built-in", "backend:\n  listen:\n    host: 127.0.0.1\n    port: 0\n"),
		defaults.Env(nil), defaults.LogOutput(io.Discard))
	plugin := backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d struct {
		Permissions core.Permissions
		Auth        core.Auth
	}) error {
		// A service caller: the ownership policy would allow it everything.
		creds := d.Auth.OwnServiceCredentials()
		ds, err := d.Permissions.Authorize(ctx, creds, deleteItem)
		if err != nil {
			return err
		}
		fmt.Println(ds[0].Result, ds[0].Reason)
		return nil
	}))
	if err := b.Add(plugin, module); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer b.Stop(context.Background())
	// Output: DENY deletions are disabled
}

func ExamplePolicyFactory() {
	// The default policy, from configuration: with permission.enabled false
	// every request is allowed.
	b := defaults.New(defaults.ConfigYAML("built-in", "backend:\n  listen:\n    host: 127.0.0.1\n    port: 0\npermission:\n  enabled: false\n"),
		defaults.Env(nil), defaults.LogOutput(io.Discard))
	// The fake user info reads the mock callers' tokens; production reads
	// real ones.
	_ = b.Add(mockservices.UserInfoFactory())
	_ = b.Add(backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d struct{ Permissions core.Permissions }) error {
		alice := mockcreds.User("user:default/alice").Credentials()
		ds, err := d.Permissions.Authorize(ctx, alice, deleteItem)
		if err != nil {
			return err
		}
		fmt.Println(ds[0].Result)
		return nil
	})))
	if err := b.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer b.Stop(context.Background())
	// Output: ALLOW
}

func ExampleOwnership_Decide() {
	own, _ := permissions.OwnershipPolicy("group:default/admins")
	svc := mockcreds.ServiceCaller(mockcreds.ServiceOptions{Subject: "plugin:catalog"}).Credentials()
	d, _ := own.Decide(context.Background(), core.PolicyQuery{Request: deleteItem, Credentials: svc})
	fmt.Println(d.Result, d.Reason)
	// Output: ALLOW service callers are allowed everything
}
