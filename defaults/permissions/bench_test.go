package permissions_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/permissions"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

// BenchmarkAuthorize measures Authorize with the default (ownership)
// policy for a user, half basic and half resource permissions. The user's
// details come from the core.userInfo fake: the production one verifies a
// token, which is measured by the auth benchmarks.
func BenchmarkAuthorize(b *testing.B) {
	own, err := permissions.OwnershipPolicy("group:default/admins")
	if err != nil {
		b.Fatal(err)
	}
	p, err := permissions.New(permissions.Options{PluginID: "todo", Policy: own, UserInfo: mockservices.UserInfo()})
	if err != nil {
		b.Fatal(err)
	}
	alice := mockcreds.User("user:default/alice").WithOwnership("user:default/alice", "group:default/team").Credentials()
	for _, n := range []int{1, 10} {
		reqs := make([]core.PermissionRequest, n)
		for i := range reqs {
			reqs[i] = core.PermissionRequest{Permission: core.Permission{Name: fmt.Sprintf("todo.p%d", i)}}
			if i%2 == 1 {
				reqs[i].Permission.ResourceType = "todo-item"
				reqs[i].ResourceRef = "todo-item:1"
			}
		}
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Authorize(ctx, alice, reqs...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
