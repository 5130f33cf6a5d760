package mockservices_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/permissions"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
	"github.com/greenroom-dev/greenroom/testbackend"
)

var deleteItem = core.Permission{Name: "todo.item.delete", Action: core.ActionDelete, ResourceType: "todo-item"}

// guardedPlugin checks todo.item.delete and audits DELETE /items/{id}.
var guardedPlugin = backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d struct {
	Router      core.HTTPRouter
	HTTPAuth    core.HTTPAuth
	Permissions core.Permissions
	Auditor     core.Auditor
}) error {
	d.Router.HandleFunc("DELETE /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		ev, err := d.Auditor.CreateEvent(r.Context(), core.AuditEventOptions{EventID: "todo-delete", Request: r, Meta: map[string]any{"id": r.PathValue("id")}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		creds, _ := d.HTTPAuth.Credentials(r)
		ds, err := d.Permissions.Authorize(r.Context(), creds, core.PermissionRequest{Permission: deleteItem, ResourceRef: "todo-item:" + r.PathValue("id")})
		if err != nil || ds[0].Result != core.Allow {
			ev.Fail(r.Context(), errors.New("not allowed"), nil)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		ev.Success(r.Context(), nil)
		w.WriteHeader(http.StatusNoContent)
	})
	return nil
}))

func ExamplePermissions() {
	ctx := context.Background()
	p := mockservices.Permissions(
		mockservices.DenyPermission("todo.item.delete"),
		mockservices.AllowPermission("todo.item.delete").ForUser("user:default/admin"),
	)
	req := core.PermissionRequest{Permission: deleteItem, ResourceRef: "todo-item:1"}
	for _, who := range []string{"user:default/alice", "user:default/admin"} {
		ds, _ := p.Authorize(ctx, mockcreds.User(who).Credentials(), req)
		fmt.Println(who, ds[0].Result)
	}
	fmt.Println(len(p.Calls()), "questions; first:", p.Calls()[0])
	// Output:
	// user:default/alice DENY
	// user:default/admin ALLOW
	// 2 questions; first: test: credentials{user user:default/alice} todo.item.delete todo-item:1 = DENY
}

func ExampleDenyUnmatched() {
	p := mockservices.Permissions(mockservices.AllowPermission("todo.list.read"), mockservices.DenyUnmatched())
	ds, _ := p.Authorize(context.Background(), mockcreds.User().Credentials(),
		core.PermissionRequest{Permission: core.Permission{Name: "todo.list.read"}},
		core.PermissionRequest{Permission: core.Permission{Name: "todo.list.export"}})
	fmt.Println(ds[0].Result, ds[1].Result)
	// Output: ALLOW DENY
}

func ExampleConditionalPermission() {
	p := mockservices.Permissions(mockservices.ConditionalPermission("todo.item.delete",
		core.PermissionCondition{Rule: core.IsOwnerRule, Params: map[string]any{"claims": []string{"user:default/alice"}}}))
	ds, _ := p.Authorize(context.Background(), mockcreds.User("user:default/alice").Credentials(),
		core.PermissionRequest{Permission: deleteItem, ResourceRef: "todo-item:1"})
	fmt.Println(ds[0].Result, ds[0].Conditions.Rule)
	// Output: CONDITIONAL IS_OWNER
}

func ExampleAllowPermission() {
	p := mockservices.Permissions(mockservices.DenyUnmatched(), mockservices.AllowPermission("todo.item.delete").ForService("plugin:catalog"))
	svc := mockcreds.ServiceCaller(mockcreds.ServiceOptions{Subject: "plugin:catalog"}).Credentials()
	ds, _ := p.Authorize(context.Background(), svc, core.PermissionRequest{Permission: deleteItem})
	fmt.Println(ds[0].Result)
	// Output: ALLOW
}

func ExamplePermissionsWithPolicy() {
	// The production ownership policy, recorded by the fake.
	own, _ := permissions.OwnershipPolicy("group:default/admins")
	p := mockservices.PermissionsWithPolicy(own)
	bob := mockcreds.User("user:default/bob").WithOwnership("user:default/bob", "group:default/admins")
	ds, _ := p.Authorize(context.Background(), bob.Credentials(), core.PermissionRequest{Permission: deleteItem})
	fmt.Println(ds[0].Result, ds[0].Reason)
	// Output: ALLOW admins are allowed everything
}

func ExamplePermissionsFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()
	p := mockservices.Permissions(mockservices.DenyPermission("todo.item.delete"))
	a := mockservices.Auditor()
	tb := testbackend.Start(t, guardedPlugin, mockservices.PermissionsFactory(p), mockservices.AuditorFactory(a))

	tb.Delete("/api/todo/items/42").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusForbidden)
	fmt.Println(p.Calls()[0])
	ev := a.EventsWithID("todo-delete")[0]
	fmt.Println(ev.Status, ev.ActorSubject, ev.Method, ev.URL, ev.Meta["id"], ev.Err)
	// Output:
	// todo: credentials{user user:default/alice} todo.item.delete todo-item:42 = DENY
	// failed user:default/alice DELETE /api/todo/items/42 42 not allowed
}

func ExampleAuditor() {
	ctx := context.Background()
	a := mockservices.Auditor()
	alice := mockcreds.User("user:default/alice").Credentials()
	ev, _ := a.ForPlugin("todo").CreateEvent(ctx, core.AuditEventOptions{EventID: "todo-export", Credentials: &alice})
	fmt.Println(a.Events()[0].Status)
	ev.Success(ctx, map[string]any{"rows": 3})
	ev.Fail(ctx, errors.New("ignored: the event has ended"), nil)
	e := a.Events()[0]
	fmt.Println(e.PluginID, e.EventID, e.Severity, e.ActorSubject, e.Status, e.Meta)
	// Output:
	// open
	// todo todo-export low user:default/alice succeeded map[rows:3]
}

func ExampleAuditorFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()
	a := mockservices.Auditor()
	tb := testbackend.Start(t, guardedPlugin, mockservices.AuditorFactory(a)) // permissions: the fake allowing everything
	tb.Delete("/api/todo/items/7").AsService("plugin:catalog").Do(t).ExpectStatus(t, http.StatusNoContent)
	for _, e := range a.EventsWithID("todo-delete") {
		fmt.Println(e.Status, e.Actor.Type, e.ActorSubject)
	}
	// Output: succeeded service plugin:catalog
}

func ExampleDenyPermission() {
	p := mockservices.Permissions(mockservices.DenyPermission("todo.item.delete"))
	ds, _ := p.Authorize(context.Background(), mockcreds.User().Credentials(), core.PermissionRequest{Permission: deleteItem})
	fmt.Println(ds[0].Result, ds[0].Reason)
	// Output: DENY mockservices: DenyPermission rule
}

func ExamplePermissionRule_ForUser() {
	// Bob is denied; alice, whom no rule matches, gets what production's
	// default policy gives a user: the permission on what she owns.
	p := mockservices.Permissions(mockservices.DenyPermission("todo.item.delete").ForUser("user:default/bob"))
	for _, who := range []string{"user:default/alice", "user:default/bob"} {
		ds, _ := p.Authorize(context.Background(), mockcreds.User(who).Credentials(), core.PermissionRequest{Permission: deleteItem})
		fmt.Println(who, ds[0].Result)
	}
	// Output:
	// user:default/alice CONDITIONAL
	// user:default/bob DENY
}

func ExamplePermissionRule_ForService() {
	p := mockservices.Permissions(mockservices.DenyPermission("todo.item.delete").ForService("plugin:search"))
	svc := mockcreds.ServiceCaller(mockcreds.ServiceOptions{Subject: "plugin:search"}).Credentials()
	ds, _ := p.Authorize(context.Background(), svc, core.PermissionRequest{Permission: deleteItem})
	fmt.Println(ds[0].Result)
	// Output: DENY
}

func ExamplePermissionsService_ForPlugin() {
	p := mockservices.Permissions()
	// The core.Permissions a plugin sees, for a unit test without a backend.
	perms := p.ForPlugin("todo")
	_, err := perms.Authorize(context.Background(), mockcreds.User().Credentials(), core.PermissionRequest{})
	fmt.Println(err)
	// Output: InputError: permissions: plugin 'todo': request 0 has no permission name; name the permission, such as "todo.item.delete"
}

func ExamplePermissionsService_Calls() {
	p := mockservices.Permissions()
	_, _ = p.ForPlugin("todo").Authorize(context.Background(), mockcreds.None().Credentials(), core.PermissionRequest{Permission: deleteItem})
	for _, c := range p.Calls() {
		fmt.Println(c)
		fmt.Println(c.Decision.Reason)
	}
	// Output:
	// todo: credentials{none} todo.item.delete = DENY
	// the caller is not authenticated (none credentials): permissions are only granted to users and services
}

func ExampleAuditorService_EventsWithID() {
	ctx := context.Background()
	a := mockservices.Auditor()
	for _, id := range []string{"todo-create", "todo-delete", "todo-create"} {
		_, _ = a.CreateEvent(ctx, core.AuditEventOptions{EventID: id})
	}
	fmt.Println(len(a.Events()), len(a.EventsWithID("todo-create")))
	// Output: 3 2
}

func ExampleAuditorService_ForPlugin() {
	a := mockservices.Auditor()
	_, err := a.ForPlugin("todo").CreateEvent(context.Background(), core.AuditEventOptions{EventID: "todo-delete", Severity: "extreme"})
	fmt.Println(err)
	// Output: InputError: auditor: plugin 'todo': audit event "todo-delete" has the unknown severity "extreme"; use low, medium, high or critical
}

func ExampleAuditorService_Events() {
	ctx := context.Background()
	a := mockservices.Auditor()
	r := httptest.NewRequest("GET", "/api/todo/export?format=csv&access_token=secret", nil)
	r.Header.Set("Authorization", mockcreds.User("user:default/alice").Header())
	ev, _ := a.ForPlugin("todo").CreateEvent(ctx, core.AuditEventOptions{EventID: "todo-export", Request: r})
	ev.Fail(ctx, errors.New("disk full"), nil)
	e := a.Events()[0]
	fmt.Println(e.ActorSubject, e.Method, e.URL, e.Status, e.Err)
	// Output: user:default/alice GET /api/todo/export?format=csv failed disk full
}
