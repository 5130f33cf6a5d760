package todo

import (
	"context"
	"database/sql"
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/migrate"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/sqlkit"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// migrationsBefore returns the migration files whose version is below
// version, so that a test can start from the schema before it.
func migrationsBefore(t *testing.T, version string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(migrationFiles, "migrations", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(p) >= version {
			return err
		}
		data, err := fs.ReadFile(migrationFiles, p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCompletedAtMigration checks, on every engine, that the migration
// adding completed_at sets it to updated_at for the todos already done and
// leaves it NULL for the others.
func TestCompletedAtMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	before := migrate.Migrator(migrationsBefore(t, "00003"), "migrations")
	testdatabases.New(t, testdatabases.WithMigrator(before)).Each(t, func(t *testing.T, db *testdatabases.DB) {
		t.Parallel()
		dialect := core.Dialect(db.Dialect)
		created := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
		updated := time.Date(2025, 4, 2, 9, 30, 15, 123456000, time.UTC)
		insert := sqlkit.Rebind(dialect, "INSERT INTO todos (owner, title, done, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
		for _, r := range []struct {
			title string
			done  bool
		}{{"done", true}, {"open", false}} {
			if _, err := db.ExecContext(ctx, insert, "user:default/alice", r.title, r.done, created, updated); err != nil {
				t.Fatal(err)
			}
		}
		if err := migrate.Up(ctx, mockservices.Database(t, mockservices.FromTestDatabase(db)), migrationFiles, migrate.Dir("migrations")); err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, "SELECT title, completed_at FROM todos ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var title string
			var at sql.NullTime
			if err := rows.Scan(&title, &at); err != nil {
				t.Fatal(err)
			}
			s := title + " NULL"
			if at.Valid {
				s = title + " " + at.Time.UTC().Format(time.RFC3339Nano)
			}
			got = append(got, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		want := "done 2025-04-02T09:30:15.123456Z, open NULL"
		if strings.Join(got, ", ") != want {
			t.Errorf("after the migration: %s; want %s", strings.Join(got, ", "), want)
		}
	})
}
