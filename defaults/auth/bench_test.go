package auth

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// BenchmarkAuthenticate measures the verification of each token kind by a
// plugin of the issuing backend (no network).
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, "externalAccess: [{type: static, options: {token: static-token-1, subject: ci}}, {type: static, options: {token: static-token-2, subject: ci2}}]")
	k := e.k
	catalog, err := NewAuth(k, "catalog", e.disc, nil)
	if err != nil {
		b.Fatal(err)
	}
	search, err := NewAuth(k, "search", e.disc, nil)
	if err != nil {
		b.Fatal(err)
	}
	userTok, err := e.issuer.Issue("user:default/alice", []string{"group:default/a"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	user, err := catalog.Authenticate(ctx, userTok)
	if err != nil {
		b.Fatal(err)
	}
	serviceTok, err := search.PluginRequestToken(ctx, search.OwnServiceCredentials(), "catalog")
	if err != nil {
		b.Fatal(err)
	}
	oboTok, err := search.PluginRequestToken(ctx, user, "catalog")
	if err != nil {
		b.Fatal(err)
	}
	limitedTok, _, err := search.LimitedUserToken(ctx, user)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, token string
		fails       bool // the token is refused: the benchmark measures the refusal
	}{
		{"static", "static-token-2", false},
		{"user", userTok, false},
		{"limited", limitedTok, false},
		{"plugin", serviceTok, false},
		{"plugin-obo", oboTok, false},
		{"illegal", "mock-user-token", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_, err := catalog.Authenticate(ctx, bc.token)
				if bc.fails {
					if err == nil || !strings.Contains(err.Error(), msgIllegalToken) {
						b.Fatalf("Authenticate(%q) = %v, want %q", bc.token, err, msgIllegalToken)
					}
				} else if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("issue-plugin-token", func(b *testing.B) {
		for b.Loop() {
			if _, err := catalog.PluginRequestToken(ctx, user, "search"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyPluginTokenDatabaseStore measures the verification, by
// plugin catalog of instance B, of a plugin token that plugin search of
// instance A issued, with the database key store, on every configured
// engine (each instance has its own pool on one database):
//
//   - cached: B has looked the key up before (the steady state);
//   - first: B has not seen the key (A made it a moment ago), so the
//     verification reads the plugin's key list from the database. B's
//     cache entry is dropped before each iteration, and the interval
//     between refreshes is lifted so that every iteration queries.
func BenchmarkVerifyPluginTokenDatabaseStore(b *testing.B) {
	ctx := context.Background()
	set := testdatabases.New(b, testdatabases.Clone)
	for _, id := range set.IDs() {
		b.Run(string(id), func(b *testing.B) {
			db := set.Init(b, id)
			if db == nil {
				return
			}
			drv, dsn := db.DriverDSN()
			c := newCluster(b, func() core.Database {
				pool, err := sql.Open(drv, dsn)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { pool.Close() })
				return &sqlDatabase{db: pool, dialect: db.Dialect}
			}, "")
			a, v := c.instance(), c.instance()
			tok, err := a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog")
			if err != nil {
				b.Fatal(err)
			}
			kid := kidOf(b, tok)
			store := v.k.local["search"].store.(*dbStore)
			store.mu.Lock()
			store.every = 0 // no wait between refreshes: every iteration queries
			store.mu.Unlock()
			if _, err := v.catalog.Authenticate(ctx, tok); err != nil {
				b.Fatal(err)
			}
			b.Run("cached", func(b *testing.B) {
				for b.Loop() {
					if _, err := v.catalog.Authenticate(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("first", func(b *testing.B) {
				for b.Loop() {
					store.mu.Lock()
					delete(store.cache, kid)
					store.mu.Unlock()
					if _, err := v.catalog.Authenticate(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
