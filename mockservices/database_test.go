package mockservices_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
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
