package servicetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// TestPermissions checks an implementation of [core.Permissions]: invalid
// requests are errs.Input errors and ask the policy nothing, each request
// gets one decision from the policy, in order, none and limited
// credentials are denied without asking it, the policy sees the user's
// details for user credentials, and a policy that errs or answers what it
// must not (a conditional decision for a basic permission or without
// conditions, an unknown result) makes Authorize fail naming the
// permission.
//
// newPermissions returns the service of one plugin whose decisions come
// from policy, and whose user details come from a core.UserInfo that
// reports a user credential's entity ref as the user's ref.
func TestPermissions(t *testing.T, newPermissions func(t *testing.T, policy core.PermissionPolicy) core.Permissions) {
	t.Helper()
	ctx := context.Background()
	alice := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}, time.Time{}, "")
	svc := core.NewCredentials(core.Principal{Type: core.PrincipalService, Subject: "plugin:catalog"}, time.Time{}, "")
	basic := func(name string) core.PermissionRequest {
		return core.PermissionRequest{Permission: core.Permission{Name: name}}
	}
	resource := func(name, ref string) core.PermissionRequest {
		return core.PermissionRequest{Permission: core.Permission{Name: name, ResourceType: "todo-item"}, ResourceRef: ref}
	}
	ownerOnly := &core.PermissionCondition{Rule: core.IsOwnerRule, Params: map[string]any{"claims": []string{"user:default/alice"}}}

	t.Run("invalid requests are input errors and ask the policy nothing", func(t *testing.T) {
		t.Parallel()
		pol := &recordingPolicy{}
		p := newPermissions(t, pol)
		cases := []struct {
			name string
			reqs []core.PermissionRequest
		}{
			{"an empty permission name", []core.PermissionRequest{basic("todo.item.read"), basic("")}},
			{"a resource ref on a basic permission", []core.PermissionRequest{{Permission: core.Permission{Name: "todo.item.create"}, ResourceRef: "todo-item:1"}}},
		}
		for _, c := range cases {
			ds, err := p.Authorize(ctx, alice, c.reqs...)
			checkErr(t, "Authorize with "+c.name, err, errs.Input, "")
			if ds != nil {
				t.Errorf("Authorize with %s: decisions %v along with the error", c.name, ds)
			}
		}
		if n := len(pol.queries()); n != 0 {
			t.Errorf("the policy was asked %d questions for invalid requests, want none", n)
		}
	})

	t.Run("each request gets one decision from the policy, in order", func(t *testing.T) {
		t.Parallel()
		pol := &recordingPolicy{decide: func(q core.PolicyQuery) (core.PermissionDecision, error) {
			switch q.Request.Permission.Name {
			case "todo.item.read":
				return core.PermissionDecision{Result: core.Allow}, nil
			case "todo.item.update":
				return core.PermissionDecision{Result: core.Conditional, Conditions: ownerOnly}, nil
			}
			return core.PermissionDecision{Result: core.Deny}, nil
		}}
		p := newPermissions(t, pol)
		reqs := []core.PermissionRequest{basic("todo.item.read"), basic("todo.item.create"), resource("todo.item.update", "todo-item:7"), basic("todo.item.read")}
		ds, err := p.Authorize(ctx, alice, reqs...)
		if err != nil {
			t.Fatalf("Authorize = %v", err)
		}
		want := []core.PermissionResult{core.Allow, core.Deny, core.Conditional, core.Allow}
		if len(ds) != len(want) {
			t.Fatalf("Authorize returned %d decisions for %d requests", len(ds), len(reqs))
		}
		for i, w := range want {
			if ds[i].Result != w {
				t.Errorf("decision %d = %s, want %s", i, ds[i].Result, w)
			}
		}
		if ds[2].Conditions == nil || ds[2].Conditions.Rule != core.IsOwnerRule {
			t.Errorf("the conditional decision's conditions = %+v, want the policy's, as they are", ds[2].Conditions)
		}
		qs := pol.queries()
		if len(qs) != len(reqs) {
			t.Fatalf("the policy was asked %d questions for %d requests", len(qs), len(reqs))
		}
		for i, q := range qs {
			if q.Request != reqs[i] {
				t.Errorf("question %d = %+v, want %+v", i, q.Request, reqs[i])
			}
		}
		if ds, err := p.Authorize(ctx, alice); err != nil || len(ds) != 0 {
			t.Errorf("Authorize without requests = %v, %v, want no decisions", ds, err)
		}
	})

	t.Run("none and limited credentials are denied without asking the policy", func(t *testing.T) {
		t.Parallel()
		pol := &recordingPolicy{}
		p := newPermissions(t, pol)
		limited := alice
		limited.Limited = true
		for _, c := range []core.Credentials{{}, core.NewCredentials(core.Principal{}, time.Time{}, ""), limited} {
			ds, err := p.Authorize(ctx, c, basic("todo.item.read"), resource("todo.item.delete", "todo-item:1"))
			if err != nil {
				t.Fatalf("Authorize(%s) = %v", c, err)
			}
			if len(ds) != 2 {
				t.Fatalf("Authorize(%s) returned %d decisions for 2 requests", c, len(ds))
			}
			for i, d := range ds {
				if d.Result != core.Deny || d.Reason == "" {
					t.Errorf("Authorize(%s) decision %d = %s (reason %q), want DENY with a reason", c, i, d.Result, d.Reason)
				}
			}
		}
		if n := len(pol.queries()); n != 0 {
			t.Errorf("the policy was asked %d questions for none and limited credentials, want none", n)
		}
	})

	t.Run("the policy sees the user's details for users only", func(t *testing.T) {
		t.Parallel()
		pol := &recordingPolicy{}
		p := newPermissions(t, pol)
		for _, c := range []core.Credentials{alice, svc} {
			if _, err := p.Authorize(ctx, c, basic("todo.item.read")); err != nil {
				t.Fatalf("Authorize(%s) = %v", c, err)
			}
		}
		qs := pol.queries()
		if len(qs) != 2 {
			t.Fatalf("the policy was asked %d questions, want 2", len(qs))
		}
		if u := qs[0].User; u == nil || u.UserEntityRef != "user:default/alice" {
			t.Errorf("the policy's user for %s = %+v, want user:default/alice's details", alice, u)
		}
		if qs[0].Credentials.Principal != alice.Principal {
			t.Errorf("the policy's credentials = %s, want %s", qs[0].Credentials, alice)
		}
		if u := qs[1].User; u != nil {
			t.Errorf("the policy's user for %s = %+v, want nil", svc, u)
		}
	})

	t.Run("a buggy policy is an error naming the permission", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("the policy's database is down")
		cases := []struct {
			name string
			req  core.PermissionRequest
			d    core.PermissionDecision
			err  error
		}{
			{"a conditional decision for a basic permission", basic("todo.list.export"), core.PermissionDecision{Result: core.Conditional, Conditions: ownerOnly}, nil},
			{"a conditional decision without conditions", resource("todo.item.archive", "todo-item:3"), core.PermissionDecision{Result: core.Conditional}, nil},
			{"an unknown result", basic("todo.list.share"), core.PermissionDecision{Result: "MAYBE"}, nil},
			{"an error", resource("todo.item.restore", ""), core.PermissionDecision{}, boom},
		}
		for _, c := range cases {
			p := newPermissions(t, &recordingPolicy{decide: func(core.PolicyQuery) (core.PermissionDecision, error) { return c.d, c.err }})
			ds, err := p.Authorize(ctx, svc, c.req)
			switch {
			case err == nil:
				t.Errorf("Authorize with a policy answering %s = %v, want an error", c.name, ds)
			case !strings.Contains(err.Error(), c.req.Permission.Name):
				t.Errorf("Authorize with a policy answering %s: error %q does not name the permission %q", c.name, err, c.req.Permission.Name)
			case c.err != nil && !errors.Is(err, c.err):
				t.Errorf("Authorize with a policy answering %s: error %q does not wrap the policy's", c.name, err)
			}
		}
	})
}

// recordingPolicy is a policy that records its queries; decide defaults
// to allowing everything.
type recordingPolicy struct {
	decide func(core.PolicyQuery) (core.PermissionDecision, error)
	mu     sync.Mutex
	qs     []core.PolicyQuery
}

func (p *recordingPolicy) Decide(_ context.Context, q core.PolicyQuery) (core.PermissionDecision, error) {
	p.mu.Lock()
	p.qs = append(p.qs, q)
	p.mu.Unlock()
	if p.decide == nil {
		return core.PermissionDecision{Result: core.Allow}, nil
	}
	return p.decide(q)
}

func (p *recordingPolicy) queries() []core.PolicyQuery {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]core.PolicyQuery(nil), p.qs...)
}
