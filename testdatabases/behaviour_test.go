package testdatabases_test

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

// An engine with neither a connection string nor a container engine skips
// its subtest with a message naming the variable to set, and under CI=true
// it fails instead. Both run in a child test process, so that this run
// shows neither a skip nor a failure of its own.
func TestUnavailableEngine(t *testing.T) {
	if h := os.Getenv("GREENROOM_HELPER"); h != "" {
		set := testdatabases.New(t, testdatabases.ID(os.Getenv("GREENROOM_HELPER_ID")))
		set.Each(t, func(t *testing.T, db *testdatabases.DB) { t.Error("ran on an unavailable engine") })
		return
	}
	id := unsetEngine(t)
	run := func(ci string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailableEngine$", "-test.v")
		cmd.Env = append(os.Environ(), "CI="+ci, "GREENROOM_HELPER=1", "GREENROOM_HELPER_ID="+string(id), id.EnvVar()+"=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("")
	if err != nil {
		t.Fatalf("without CI the run failed: %v\n%s", err, out)
	}
	for _, want := range []string{"--- SKIP: TestUnavailableEngine/" + string(id), id.EnvVar()} {
		if !strings.Contains(out, want) {
			t.Errorf("without CI, output lacks %q:\n%s", want, out)
		}
	}
	out, err = run("true")
	if err == nil {
		t.Fatalf("with CI=true the run passed:\n%s", out)
	}
	for _, want := range []string{"--- FAIL: TestUnavailableEngine/" + string(id), id.EnvVar(), "CI=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("with CI=true, output lacks %q:\n%s", want, out)
		}
	}
}

// unsetEngine returns a server engine without a connection string.
func unsetEngine(t *testing.T) testdatabases.ID {
	for _, id := range []testdatabases.ID{testdatabases.Postgres13, testdatabases.MySQL8, testdatabases.MariaDB11, testdatabases.Postgres18} {
		if os.Getenv(id.EnvVar()) == "" {
			return id
		}
	}
	t.Fatal("every engine has a connection string; unset one to run this test")
	return ""
}

func TestDefaultIDsFollowEnvironment(t *testing.T) {
	t.Setenv(testdatabases.Postgres17.EnvVar(), "postgres://example.invalid/x")
	ids := testdatabases.New(t).IDs()
	if ids[0] != testdatabases.SQLite3 {
		t.Errorf("first default id = %s, want sqlite", ids[0])
	}
	found := false
	for _, id := range ids {
		found = found || id == testdatabases.Postgres17
		if id != testdatabases.SQLite3 && os.Getenv(id.EnvVar()) == "" {
			t.Errorf("default ids include %s without its variable", id)
		}
	}
	if !found {
		t.Errorf("default ids %v lack postgres17 whose variable is set", ids)
	}
	if got := testdatabases.New(t, testdatabases.MariaDB10, testdatabases.MariaDB10).IDs(); len(got) != 1 {
		t.Errorf("duplicate ids kept: %v", got)
	}
}

func TestMigratorHashes(t *testing.T) {
	hash := func(stmt string) string {
		t.Helper()
		h, err := testdatabases.SQL(map[testdatabases.Dialect][]string{"": {stmt}}).Hash()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	a, b, c := hash("CREATE TABLE a (x INT)"), hash("CREATE TABLE a (x INT)"), hash("CREATE TABLE a (y INT)")
	if a != b || a == c {
		t.Errorf("SQL hashes: same=%v different=%v", a == b, a != c)
	}
	fs1 := fstest.MapFS{"m/sqlite/001_a.sql": {Data: []byte("-- +goose Up\nCREATE TABLE a (x INT);\n")}}
	fs2 := fstest.MapFS{"m/sqlite/001_a.sql": {Data: []byte("-- +goose Up\nCREATE TABLE a (x INT, y INT);\n")}}
	h1, err1 := testdatabases.Goose(fs1, "m/{dialect}").Hash()
	h2, err2 := testdatabases.Goose(fs2, "m/{dialect}").Hash()
	if err1 != nil || err2 != nil || h1 == h2 {
		t.Errorf("goose hashes %s %s (%v %v)", h1, h2, err1, err2)
	}
}

func TestGooseMigrator(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, d := range []string{"sqlite", "postgres", "mysql"} {
		fsys["migrations/"+d+"/00001_users.sql"] = &fstest.MapFile{Data: []byte(
			"-- +goose Up\nCREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL);\n" +
				"INSERT INTO users (id, name) VALUES (1, 'root');\n-- +goose Down\nDROP TABLE users;\n")}
	}
	set := testdatabases.New(t, testdatabases.WithMigrator(testdatabases.Goose(fsys, "migrations/{dialect}")))
	set.Each(t, func(t *testing.T, db *testdatabases.DB) {
		var name string
		if err := db.QueryRow("SELECT name FROM users WHERE id = 1").Scan(&name); err != nil || name != "root" {
			t.Errorf("seeded user = %q (%v)", name, err)
		}
	})
}

func TestBrokenMigrationFails(t *testing.T) {
	m := testdatabases.SQL(map[testdatabases.Dialect][]string{"": {"CREATE TABLE oops ("}})
	set := testdatabases.New(t, testdatabases.SQLite3, testdatabases.WithMigrator(m))
	_, err := set.Open(context.Background(), testdatabases.SQLite3)
	if err == nil || !strings.Contains(err.Error(), "template") {
		t.Fatalf("Open with a broken migration = %v, want a template error", err)
	}
}

// serverEngines returns the Set's engines of the given dialects. When it has
// none (no connection string is set), it returns the project's engine of
// each dialect (postgres15, mariadb10), whose Init then skips with a message
// naming the variable to set, or fails under CI=true, instead of letting the
// test pass having run nothing.
func serverEngines(set *testdatabases.Set, dialects ...testdatabases.Dialect) []testdatabases.ID {
	var out []testdatabases.ID
	for _, d := range dialects {
		n := len(out)
		for _, id := range set.IDs() {
			if id.Dialect() == d {
				out = append(out, id)
			}
		}
		if len(out) > n {
			continue
		}
		switch d {
		case testdatabases.DialectPostgres:
			out = append(out, testdatabases.Postgres15)
		case testdatabases.DialectMySQL:
			out = append(out, testdatabases.MariaDB10)
		}
	}
	return out
}

// scan runs a one-row query on c and fails t when it cannot be read.
func scan(t testing.TB, c *sql.Conn, query string, dest ...any) {
	t.Helper()
	if err := c.QueryRowContext(context.Background(), query).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Session state that a ROLLBACK does not undo must not leak either.
func TestSessionStateIsolated(t *testing.T) {
	eachSchema(t, func(t *testing.T, set *testdatabases.Set) {
		// SQLite needs no check: every test has its own file and connections.
		for _, id := range serverEngines(set, testdatabases.DialectPostgres, testdatabases.DialectMySQL) {
			t.Run(string(id), func(t *testing.T) {
				for i := 0; i < 4; i++ {
					t.Run("", func(t *testing.T) {
						db := set.Init(t, id)
						ctx := context.Background()
						c, err := db.Conn(ctx)
						if err != nil {
							t.Fatal(err)
						}
						defer c.Close()
						switch db.Dialect {
						case testdatabases.DialectPostgres:
							var held bool
							scan(t, c, "SELECT pg_try_advisory_lock(4242)", &held)
							if !held {
								t.Error("advisory lock from another test is held")
							}
							var path string
							scan(t, c, "SHOW search_path", &path)
							if strings.Contains(path, "leak") {
								t.Errorf("search_path leaked: %s", path)
							}
							var temps int
							scan(t, c, "SELECT count(*) FROM pg_class WHERE relname = 'tmp_leak' AND relnamespace = pg_my_temp_schema()", &temps)
							if temps != 0 {
								t.Error("temporary table tmp_leak leaked")
							}
							var prepared int
							scan(t, c, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'leak_stmt'", &prepared)
							if prepared != 0 {
								t.Error("prepared statement leak_stmt leaked")
							}
							mustExec(t, c, db, "SET search_path TO leak, public")
							mustExec(t, c, db, "CREATE TEMP TABLE tmp_leak (x int)")
							mustExec(t, c, db, "PREPARE leak_stmt AS SELECT 1")
						case testdatabases.DialectMySQL:
							var v sql.NullString
							scan(t, c, "SELECT @leak", &v)
							if v.Valid {
								t.Errorf("user variable leaked: %v", v.String)
							}
							var free int
							scan(t, c, "SELECT IS_FREE_LOCK('greenroom_leak')", &free)
							if free != 1 {
								t.Error("named lock from another test is held")
							}
							var mode string
							scan(t, c, "SELECT @@SESSION.sql_mode", &mode)
							if strings.Contains(mode, "ALLOW_INVALID_DATES") {
								t.Errorf("sql_mode leaked: %s", mode)
							}
							if _, err := c.ExecContext(ctx, "SELECT * FROM tmp_leak"); err == nil {
								t.Error("temporary table tmp_leak leaked")
							}
							mustExec(t, c, db, "SET @leak = 1")
							mustExec(t, c, db, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ALLOW_INVALID_DATES')")
							mustExec(t, c, db, "DO GET_LOCK('greenroom_leak', 0)")
							mustExec(t, c, db, "CREATE TEMPORARY TABLE tmp_leak (x int)")
						}
						if _, err := c.ExecContext(ctx, "SELECT * FROM tmp_leak"); err != nil {
							t.Errorf("own temp table: %v", err)
						}
					})
				}
			})
		}
	})
}

// MySQL DDL commits implicitly, also inside a plugin's transaction: the
// test sees MySQL's real behaviour and the next test a clean database.
func TestMySQLDDLInsideTransaction(t *testing.T) {
	eachSchema(t, func(t *testing.T, set *testdatabases.Set) {
		for _, id := range serverEngines(set, testdatabases.DialectMySQL) {
			t.Run(string(id), func(t *testing.T) {
				for i := 0; i < 3; i++ {
					t.Run("", func(t *testing.T) {
						db := set.Init(t, id)
						checkPristine(t, db)
						tx, err := db.Begin()
						if err != nil {
							t.Fatal(err)
						}
						mustExec(t, tx, db, "INSERT INTO items (name) VALUES ('in tx')")
						mustExec(t, tx, db, "CREATE TABLE extra (id INT PRIMARY KEY)") // commits
						if err := tx.Rollback(); err != nil {
							t.Fatalf("rollback after implicit commit: %v", err)
						}
						if n := count(t, db, "items"); n != 1 {
							t.Errorf("items = %d, want 1 (MySQL commits before DDL)", n)
						}
						if !tableExists(t, db, "extra") {
							t.Error("table extra, created inside the transaction, does not exist")
						}
					})
				}
			})
		}
	})
}
