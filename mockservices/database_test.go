package mockservices_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/migrate"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

func TestSQLMock(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		use        func(db *sql.DB) error
		wantFailed bool
	}{
		{"expectations met", func(db *sql.DB) error {
			_, err := db.ExecContext(ctx, "DELETE FROM todos")
			return err
		}, false},
		{"expectation not met", func(db *sql.DB) error { return errors.New("boom") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newFakeTB(t)
			d, mock := mockservices.SQLMock(tb, core.DialectPostgres)
			mock.ExpectExec("DELETE FROM todos").WillReturnError(errors.New("boom"))
			if d.Dialect() != core.DialectPostgres || d.MigrationsSkipped() {
				t.Errorf("Dialect() = %q, MigrationsSkipped() = %v", d.Dialect(), d.MigrationsSkipped())
			}
			db, err := d.DB(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.use(db); err == nil || err.Error() != "boom" {
				t.Errorf("the expectation's error was not returned: %v", err)
			}
			tb.finish()
			if tb.failed != tt.wantFailed {
				t.Errorf("after the test: failed = %v, want %v; logs %q", tb.failed, tt.wantFailed, tb.logs)
			}
			if tt.wantFailed && (len(tb.logs) != 1 || !strings.Contains(tb.logs[0], "there is a remaining expectation")) {
				t.Errorf("logs %q, want the unmet expectation", tb.logs)
			}
		})
	}
}

func TestDatabaseOptions(t *testing.T) {
	ctx := context.Background()
	shared, _, err := sqlmock.New()
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	tdb := testdatabases.New(t).Init(t, testdatabases.SQLite3)
	tests := []struct {
		name        string
		opts        []mockservices.DatabaseOption
		wantDB      *sql.DB // nil: a new database
		wantDialect core.Dialect
		wantSkip    bool
	}{
		{"default", nil, nil, core.DialectSQLite, false},
		{"migrations skipped", []mockservices.DatabaseOption{mockservices.WithMigrationsSkipped()}, nil, core.DialectSQLite, true},
		{"WithSQLDB", []mockservices.DatabaseOption{mockservices.WithSQLDB(shared, core.DialectMySQL)}, shared, core.DialectMySQL, false},
		{"FromTestDatabase", []mockservices.DatabaseOption{mockservices.FromTestDatabase(tdb)}, tdb.DB, core.DialectSQLite, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mockservices.Database(t, tt.opts...)
			db, err := d.DB(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantDB != nil && db != tt.wantDB {
				t.Errorf("DB() is not the given *sql.DB")
			}
			if d.Dialect() != tt.wantDialect || d.MigrationsSkipped() != tt.wantSkip {
				t.Errorf("Dialect() = %q, MigrationsSkipped() = %v; want %q, %v", d.Dialect(), d.MigrationsSkipped(), tt.wantDialect, tt.wantSkip)
			}
		})
	}
}

func TestDatabaseForeignKeysAndConcurrency(t *testing.T) {
	ctx := context.Background()
	db, err := mockservices.Database(t).DB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE lists (id INTEGER PRIMARY KEY)",
		"CREATE TABLE todos (id INTEGER PRIMARY KEY, list INTEGER NOT NULL REFERENCES lists(id))",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO todos (id, list) VALUES (1, 99)"); err == nil {
		t.Errorf("a row referencing a missing list was inserted: foreign keys are off")
	}
	// A transaction and a query outside it at the same time: a pool of
	// one connection would wait forever here.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO lists (id) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM lists").Scan(&n); err != nil || n != 0 {
		t.Errorf("outside the transaction: %d lists, %v; want 0 (uncommitted)", n, err)
	}
}

// migratingFS is a migration like those of a plugin that migrates in init.
var migratingFS = fstest.MapFS{"migrations/00001_todos.sql": {Data: []byte("-- +goose Up\nCREATE TABLE todos (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n")}}

// TestDatabaseWithSQLDBIsMigratedInPlace: a given *sql.DB is migrated with
// the migrations themselves, not replaced by a copy of a template.
func TestDatabaseWithSQLDBIsMigratedInPlace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	own, err := mockservices.Database(t).DB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := mockservices.Database(t, mockservices.WithSQLDB(own, core.DialectSQLite))
	if err := migrate.Up(ctx, d, migratingFS, migrate.Dir("migrations")); err != nil {
		t.Fatal(err)
	}
	if got, err := d.DB(ctx); err != nil || got != own {
		t.Fatalf("DB() = %p, %v; want the given %p", got, err, own)
	}
	var n int
	if err := own.QueryRowContext(ctx, "SELECT count(*) FROM greenroom_migrations WHERE version_id = 1").Scan(&n); err != nil || n != 1 {
		t.Errorf("the given database holds %d records of migration 1, %v; want 1", n, err)
	}
	if _, err := own.ExecContext(ctx, "INSERT INTO todos (title) VALUES ('x')"); err != nil {
		t.Errorf("the given database was not migrated: %v", err)
	}
}

func TestSQLMockMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("run", func(t *testing.T) {
		t.Parallel()
		d, _ := mockservices.SQLMock(t, core.DialectPostgres)
		err := migrate.Up(ctx, d, migratingFS, migrate.Dir("migrations"))
		if err == nil || !strings.Contains(err.Error(), "mockservices.WithMigrationsSkipped()") || !strings.Contains(err.Error(), "pg_advisory_lock") {
			t.Fatalf("migrate.Up on the sqlmock database = %v; want the unexpected query and the option that skips migrations", err)
		}
	})
	t.Run("skipped", func(t *testing.T) {
		t.Parallel()
		d, mock := mockservices.SQLMock(t, core.DialectPostgres, mockservices.WithMigrationsSkipped())
		if !d.MigrationsSkipped() {
			t.Fatal("MigrationsSkipped() = false with WithMigrationsSkipped")
		}
		if err := migrate.Up(ctx, d, migratingFS, migrate.Dir("migrations")); err != nil {
			t.Fatalf("migrate.Up with migrations skipped: %v", err)
		}
		// Nothing reached the mock: it fails any query it does not expect.
		if err := mock.ExpectationsWereMet(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("WithSQLDB", func(t *testing.T) {
		t.Parallel()
		tb := newFakeTB(t)
		func() {
			defer func() { _ = recover() }()
			mockservices.SQLMock(tb, core.DialectPostgres, mockservices.WithSQLDB(&sql.DB{}, core.DialectPostgres))
		}()
		tb.finish()
		if !tb.failed || len(tb.logs) != 1 || !strings.Contains(tb.logs[0], "WithSQLDB does not apply") {
			t.Errorf("failed = %v, logs %q; want the test failed because WithSQLDB does not apply", tb.failed, tb.logs)
		}
	})
}

// TestSQLMockTodoPlugin starts the real todo plugin, which migrates in
// init, on the sqlmock database, and answers one route from expectations.
func TestSQLMockTodoPlugin(t *testing.T) {
	t.Parallel()
	list := regexp.QuoteMeta("SELECT id, title, done, created_at, updated_at FROM todos WHERE owner = $1 ORDER BY id")
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t.Run("rows", func(t *testing.T) {
		t.Parallel()
		d, mock := mockservices.SQLMock(t, core.DialectPostgres, mockservices.WithMigrationsSkipped())
		mock.ExpectQuery(list).WithArgs("user:default/alice").WillReturnRows(
			sqlmock.NewRows([]string{"id", "title", "done", "created_at", "updated_at"}).
				AddRow(int64(7), "milk", true, created, created))
		tb := testbackend.Start(t, todo.Plugin, mockservices.Factory(core.DatabaseRef, d))
		var got struct{ Items []todo.Todo }
		tb.Get("/api/todo/todos").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusOK).DecodeJSON(t, &got)
		want := []todo.Todo{{ID: 7, Title: "milk", Done: true, CreatedAt: created, UpdatedAt: created}}
		if !reflect.DeepEqual(got.Items, want) {
			t.Errorf("items = %+v, want %+v", got.Items, want)
		}
	})
	t.Run("error", func(t *testing.T) {
		t.Parallel()
		d, mock := mockservices.SQLMock(t, core.DialectPostgres, mockservices.WithMigrationsSkipped())
		mock.ExpectQuery(list).WithArgs("user:default/alice").WillReturnError(errors.New("disk full"))
		tb := testbackend.Start(t, todo.Plugin, mockservices.Factory(core.DatabaseRef, d))
		tb.Get("/api/todo/todos").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusInternalServerError)
	})
}
