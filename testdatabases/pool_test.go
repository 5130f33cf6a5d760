package testdatabases

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// serverIDs returns the server engines with a connection string among
// PostgreSQL 15 and MariaDB 10; none skips t (fails it under CI=true).
func serverIDs(t *testing.T) []ID {
	t.Helper()
	var ids []ID
	for _, id := range []ID{Postgres15, MariaDB10} {
		if os.Getenv(id.EnvVar()) != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		msg := "set " + Postgres15.EnvVar() + " or " + MariaDB10.EnvVar() + " to test the server pools"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return ids
}

// databaseExists asks the server of id whether database name exists.
func databaseExists(t *testing.T, id ID, name string) bool {
	t.Helper()
	ctx := context.Background()
	var n int
	switch id.Dialect() {
	case DialectPostgres:
		c, err := pgx.Connect(ctx, os.Getenv(id.EnvVar()))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
	default:
		_, cfg, err := parseMySQLURL(os.Getenv(id.EnvVar()))
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	return n > 0
}

// A Clone database is dropped after its test.
func TestCloneDroppedAfterUse(t *testing.T) {
	t.Parallel()
	for _, id := range serverIDs(t) {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			set := New(t, id, Clone, WithMigrator(SQL(map[Dialect][]string{"": {"CREATE TABLE dropped (v INTEGER)"}})))
			db, err := set.Open(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("INSERT INTO dropped (v) VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			name := db.Name()
			if !databaseExists(t, id, name) {
				t.Fatalf("the clone %s does not exist while in use", name)
			}
			p := db.h.src.(*pool)
			db.Close()
			p.bg.Wait()
			if databaseExists(t, id, name) {
				t.Errorf("the clone %s still exists after the test", name)
			}
		})
	}
}

// A pool grows past its warm size while callers wait (here: while more
// databases than that are in use) and gives the extra ones back when they
// are released and nobody waits.
func TestPoolGrowsAndShrinks(t *testing.T) {
	t.Parallel()
	for _, id := range serverIDs(t) {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			// A schema of its own, so that no other test uses this pool.
			set := New(t, id, WithMigrator(SQL(map[Dialect][]string{"": {"CREATE TABLE grows (v INTEGER)"}})))
			var dbs []*DB
			var p *pool
			const n = 10
			for range n {
				db, err := set.Open(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				dbs = append(dbs, db)
				p = db.h.src.(*pool)
			}
			e := p.e
			e.mu.Lock()
			warm, total, capacity := p.warm, p.total, e.cap
			e.mu.Unlock()
			if warm >= n {
				t.Skipf("the pool keeps %d warm (GREENROOM_TEST_DATABASE_POOL_SIZE); this test needs fewer than %d", warm, n)
			}
			if total < n || total > capacity {
				t.Errorf("%d databases in use: the pool holds %d, want between %d and its cap %d", n, total, n, capacity)
			}
			for _, db := range dbs {
				db.Close()
			}
			p.bg.Wait()
			e.mu.Lock()
			defer e.mu.Unlock()
			if len(p.ready) != p.total || p.total > warm {
				t.Errorf("after release: %d ready of %d, want all ready and no more than the %d kept warm", len(p.ready), p.total, warm)
			}
		})
	}
}

// Close before the test ends, then the test's cleanup: the database goes
// back once (twice would hand it to two tests).
func TestCloseThenCleanupReleasesOnce(t *testing.T) {
	t.Parallel()
	for _, id := range serverIDs(t) {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			set := New(t, id, WithMigrator(SQL(map[Dialect][]string{"": {"CREATE TABLE once (v INTEGER)"}})))
			var p *pool
			t.Run("test", func(t *testing.T) {
				db := set.Init(t, id)
				if _, err := db.Exec("INSERT INTO once (v) VALUES (1)"); err != nil {
					t.Fatal(err)
				}
				p = db.h.src.(*pool)
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			})
			p.bg.Wait()
			p.e.mu.Lock()
			defer p.e.mu.Unlock()
			seen := map[*slot]bool{}
			for _, s := range p.ready {
				if seen[s] {
					t.Fatalf("database %s is ready twice", s.name)
				}
				seen[s] = true
			}
			if len(p.ready) > p.total {
				t.Errorf("%d ready of %d databases", len(p.ready), p.total)
			}
		})
	}
}
