package testdatabases

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

const importOnlyChildEnv = "GREENROOM_TEST_IMPORT_ONLY_CHILD"

// A binary that links testdatabases but opens no server database starts no
// reaper and creates nothing, even with the reaper's variable in its
// environment (inherited or exported by hand): it runs its tests.
func TestImportAloneStartsNothing(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestImportAloneChild$", "-test.v")
	cmd.Env = append(os.Environ(), importOnlyChildEnv+"=1", "TMPDIR="+tmp, reaperEnv+"=0badc0de")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestImportAloneChild") {
		t.Fatalf("the child did not run its test (did it become a reaper?):\n%s", out)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("the child left %s in its temporary directory", e.Name())
	}
}

// TestImportAloneChild is the process of TestImportAloneStartsNothing: it
// uses the package without opening a database.
func TestImportAloneChild(t *testing.T) {
	if os.Getenv(importOnlyChildEnv) == "" {
		t.Skip("run by TestImportAloneStartsNothing")
	}
	set := New(t, SQLite3, Postgres15)
	if len(set.IDs()) != 2 {
		t.Fatalf("IDs = %v", set.IDs())
	}
	theManager.mu.Lock()
	defer theManager.mu.Unlock()
	if theManager.marker != "" || theManager.reaper != nil || len(theManager.engines) != 0 {
		t.Errorf("without a database: marker %q, reaper %v, engines %v; want none", theManager.marker, theManager.reaper, theManager.engines)
	}
}

const reaperChildEnv = "GREENROOM_TEST_REAPER_CHILD"

// The reaper, this binary started again at the first server database,
// drops the run's databases once the process has exited.
func TestReaperDropsTheRunsDatabasesAfterExit(t *testing.T) {
	t.Parallel()
	var ids []ID
	for _, id := range New(t).IDs() {
		if id != SQLite3 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		unavailable(t, Postgres15, errUnavailable{msg: "no server engine has a connection string"})
	}
	for _, id := range ids {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReaperChild$", "-test.v")
		cmd.Env = append(os.Environ(), reaperChildEnv+"="+string(id))
		// The output ends when the reaper, which holds it, has finished.
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s child: %v\n%s", id, err, out)
		}
		_, marker, ok := strings.Cut(string(out), "MARKER=")
		if !ok || len(marker) < 8 {
			t.Fatalf("%s child printed no marker:\n%s", id, out)
		}
		if left := runDatabases(t, id, marker[:8]); len(left) > 0 {
			t.Errorf("%s: after the process and its reaper exited, the run's databases remain: %v\nchild output:\n%s", id, left, out)
		}
	}
}

// TestReaperChild is the process of TestReaperDropsTheRunsDatabasesAfterExit.
func TestReaperChild(t *testing.T) {
	id := ID(os.Getenv(reaperChildEnv))
	if id == "" {
		t.Skip("run by TestReaperDropsTheRunsDatabasesAfterExit")
	}
	db := New(t, id).Init(t, id)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if left := runDatabases(t, id, theManager.runMarker()); len(left) == 0 {
		t.Fatal("the run has no databases on the server")
	}
	theManager.mu.Lock()
	started := theManager.reaper != nil
	theManager.mu.Unlock()
	if !started {
		t.Fatal("no reaper after the first server database")
	}
	t.Logf("MARKER=%s", theManager.runMarker())
}

// runDatabases lists the databases of run marker on id's server.
func runDatabases(t *testing.T, id ID, marker string) []string {
	t.Helper()
	ctx := context.Background()
	prefix := "greenroom_test_" + marker + "_"
	u := os.Getenv(id.EnvVar())
	var names []string
	switch id.Dialect() {
	case DialectPostgres:
		c, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		rows, err := c.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix)
		if err != nil {
			t.Fatal(err)
		}
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
	case DialectMySQL:
		_, cfg, err := parseMySQLURL(u)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(conn)
		defer db.Close()
		rows, err := db.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ?) = ?", len(prefix), prefix)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return names
}
