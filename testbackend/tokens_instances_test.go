package testbackend_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// minted is a credential minted on one instance: the header or cookie a
// request carries, and what the receiving plugin must see.
type minted struct {
	what   string // for messages
	on     int    // the instance that minted it
	path   string // where to send it
	header string // Authorization header value, or ""
	cookie string // auth cookie value, or ""
	want   whoami
}

// mint mints, on instance i, a plugin token from beta to alpha and a
// limited user cookie of alpha for alice.
func mint(t *testing.T, tbs []*testbackend.Backend, i int, when string) []minted {
	t.Helper()
	svc := tbs[i].Get("/api/alpha/whoami").AsService("plugin:beta").Build(t)
	lim := tbs[i].Get("/api/alpha/images/whoami").AsLimitedUser("user:default/alice").Build(t)
	c, err := lim.Cookie(auth.CookieName)
	if err != nil {
		t.Fatalf("instance %d minted no auth cookie: %v", i, err)
	}
	return []minted{
		{what: "plugin token " + when, on: i, path: "/api/alpha/whoami", header: svc.Header.Get("Authorization"),
			want: whoami{Type: core.PrincipalService, Subject: "plugin:beta"}},
		{what: "limited user cookie " + when, on: i, path: "/api/alpha/images/whoami", cookie: c.Value,
			want: whoami{Type: core.PrincipalUser, User: "user:default/alice", Limited: true}},
	}
}

// expectAccepted sends each credential to every instance still running
// and expects the plugin to see the minted principal.
func expectAccepted(t *testing.T, tbs []*testbackend.Backend, creds []minted) {
	t.Helper()
	for _, m := range creds {
		for j, to := range tbs {
			req := to.Get(m.path).WithoutCredentials()
			if m.header != "" {
				req = req.WithHeader("Authorization", m.header)
			}
			if m.cookie != "" {
				req = req.WithHeader("Cookie", auth.CookieName+"="+m.cookie)
			}
			resp := req.Do(t)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s minted on instance %d, sent to instance %d: %s %s", m.what, m.on, j, resp.Status, resp.String())
				continue
			}
			var who whoami
			if err := json.Unmarshal(resp.Bytes(), &who); err != nil {
				t.Fatal(err)
			}
			if who != m.want {
				t.Errorf("%s minted on instance %d, seen by instance %d as %+v, want %+v", m.what, m.on, j, who, m.want)
			}
		}
	}
}

// rotate rotates the service keys of alpha and beta on instance i.
func rotate(t *testing.T, tbs []*testbackend.Backend, i int) {
	t.Helper()
	for _, p := range []string{"alpha", "beta"} {
		r, ok := testbackend.Service(t, tbs[i], core.AuthRef, p).(auth.KeyRotator)
		if !ok {
			t.Fatalf("instance %d: plugin %s's auth service is not an auth.KeyRotator", i, p)
		}
		if err := r.RotateKeys(context.Background()); err != nil {
			t.Fatalf("instance %d: rotating plugin %s's keys: %v", i, p, err)
		}
	}
}

// kids returns the key ids of the JWKS that instance i serves for plugin.
func kids(t *testing.T, tb *testbackend.Backend, plugin string) []string {
	t.Helper()
	var set core.JSONWebKeySet
	tb.Get("/api/"+plugin+"/.greenroom/auth/v1/jwks.json").WithoutCredentials().Do(t).ExpectStatus(t, http.StatusOK).DecodeJSON(t, &set)
	var ids []string
	for _, k := range set.Keys {
		kid, _ := k["kid"].(string)
		ids = append(ids, kid)
	}
	slices.Sort(ids)
	return ids
}

// TestTokensVerifyAcrossInstances runs three instances of a backend with
// the production auth services on one database, on every engine: the
// plugins' service keys live in the database, so a plugin-to-plugin token
// and a limited user cookie minted on one instance are accepted by every
// other, still after the minting instance rotated its keys, and after the
// receiving one did; every instance serves the same JWKS.
func TestTokensVerifyAcrossInstances(t *testing.T) {
	t.Parallel()
	testdatabases.New(t).With(testdatabases.Clone).Each(t, func(t *testing.T, db *testdatabases.DB) {
		t.Parallel()
		tbs := testbackend.New(testbackend.WithDatabase(db), testbackend.WithRealAuth()).
			StartInstances(t, 3, newEcho("alpha"), newEcho("beta"))

		var all []minted
		for i := range tbs {
			all = append(all, mint(t, tbs, i, "before any rotation")...)
		}
		expectAccepted(t, tbs, all)

		before := kids(t, tbs[0], "alpha")
		rotate(t, tbs, 0)
		all = append(all, mint(t, tbs, 0, "after instance 0 rotated")...)
		expectAccepted(t, tbs, all)

		rotate(t, tbs, 1)
		all = append(all, mint(t, tbs, 1, "after instance 1 rotated")...)
		expectAccepted(t, tbs, all)

		after := kids(t, tbs[0], "alpha")
		for i := 1; i < len(tbs); i++ {
			if got := kids(t, tbs[i], "alpha"); !slices.Equal(got, after) {
				t.Errorf("instance %d serves alpha's JWKS with keys %v, instance 0 with %v: instances must serve the same keys", i, got, after)
			}
		}
		for _, k := range before {
			if !slices.Contains(after, k) {
				t.Errorf("key %s was published before the rotations and is gone after: tokens it signed cannot be verified", k)
			}
		}
		if len(after) < len(before)+2 {
			t.Errorf("alpha's JWKS has %d keys after two rotations, %d before: want the new keys published", len(after), len(before))
		}
	})
}
