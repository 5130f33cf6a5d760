package testdatabases_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/greenroom-dev/greenroom/sqlkit"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// The differential corpus: database behaviours that plugins rely on, each
// run on the oracle (a plain connection through the real driver to a real,
// freshly created database migrated with the same schema) and on every
// isolation tier of package testdatabases, per engine. A tier must observe
// what the oracle observes, or the difference must be listed in
// documentedDifferences (and in docs/databases.md, "Where rollback mode
// differs from a real database"); a listed difference is asserted exactly,
// so a change in either direction fails.

// A tier is a way package testdatabases isolates a test's database.
type tier struct {
	name string
	opts []testdatabases.Option
}

// tiers are checked against the oracle.
var tiers = []tier{
	{name: "rollback", opts: []testdatabases.Option{testdatabases.Rollback}}, // the default: one session, an outer transaction rolled back after the test
	{name: "clone", opts: []testdatabases.Option{testdatabases.Clone}},       // a real database cloned from the template, with a real pool
}

// A difference is an observation of a tier that differs from the oracle's
// on purpose: the design of the tier makes it so.
type difference struct {
	corpusCase string
	dialect    testdatabases.Dialect
	variant    string // the schema variant ("fk", "shadowed"); "" for every one
	tier       string
	want       []string // the tier's observations, asserted exactly
	why        string
}

// documentedDifferences is the table of docs/databases.md, "Where rollback
// mode differs from a real database". TestDocumentedDifferencesAreInTheDocs
// keeps the two in step.
var documentedDifferences = slices.Concat(
	// One session per test: connections share it and wait for each other.
	rollbackOn("two connections", "", onBoth(
		"c1 inserts a: id 2", "c2 reads: a seed", "c1 inserts b in a transaction: id 3", "c1 reads in it: a b seed",
		"c2's read waits for c1's transaction", "c1 commits: ok", "c2's read, after the commit: ok a b seed",
		"c2 reads after the commit: a b seed", "c1 inserts c in a transaction: id 4", "c1 rolls back: ok", "c2 reads after the rollback: a b seed",
	), "all connections of a test share one session, so a statement of another connection waits until an open transaction ends (and then sees what it committed) instead of reading past its uncommitted rows"),
	rollbackOn("temporary tables seen from another connection", "", onBoth(
		"create a temporary table on c1: ok", "insert into it: ok", "c2 reads it: 1",
		"a temporary table named like a real one, on c1: ok", "c2 reads parents: 0",
	), "a temporary table belongs to the session, and all connections of a test share one"),
	rollbackOn("read-only transaction", "", onBoth(
		"begin read-only: ok", "read in it: seed", "insert a in it: id 2", "rollback: ok", "after: seed",
	), "a transaction is a savepoint, and a savepoint cannot be read-only (nor have an isolation level of its own)"),
	rollbackOn("a second query in a transaction while rows are open", "", onBoth(
		"insert a: id 2", "first row of t1: true", "second query on the transaction while t1 is open: ok 2", "rest of t1: 1 rows, ok",
	), "results are read whole before the session is released, so a transaction can run a query while rows of another are open; on one real connection pgx refuses it (conn busy) and go-sql-driver breaks (busy buffer)"),
	rollbackOn("preparing invalid SQL", "", map[testdatabases.Dialect][]string{
		testdatabases.DialectPostgres: {"prepare: ok", "exec it: error (SQLSTATE 42601)", "insert a: id 2", "after: a seed"},
		testdatabases.DialectMySQL:    {"prepare: ok", "exec it: error (MySQL 1064)", "insert a: id 2", "after: a seed"},
	}, "statements are sent as text at each execution, so an error in the SQL shows at the first execution, not at Prepare"),
	rollbackOn("now()", "", map[testdatabases.Dialect][]string{
		testdatabases.DialectPostgres: {"insert a: id 2", "second read in a transaction: the same", "read in the next transaction: the same", "outside a transaction: the same, then the same"},
	}, "now() is the start of the transaction, and the whole test runs in one (clock_timestamp() advances)"),
	rollbackOn("introspection inside a transaction", "shadowed", map[testdatabases.Dialect][]string{
		testdatabases.DialectMySQL: {
			"insert a: id 2", "insert b in the transaction: id 3", "catalog lists parents: 1",
			"rollback: error: the rollback took out the rows moved out of the shadow tables", "after: error: the session is unusable",
		},
	}, "a statement that needs the shadow tables' rows in the real tables, run in a transaction after a write, moves them inside the transaction; rolling it back cannot restore them, so the rollback fails and says why"),
)

// rollbackOn lists a difference of the rollback tier, per dialect.
func rollbackOn(name, variant string, want map[testdatabases.Dialect][]string, why string) []difference {
	var out []difference
	for _, d := range []testdatabases.Dialect{testdatabases.DialectPostgres, testdatabases.DialectMySQL} {
		if w, ok := want[d]; ok {
			out = append(out, difference{corpusCase: name, dialect: d, variant: variant, tier: "rollback", want: w, why: why})
		}
	}
	return out
}

// onBoth is the same observations on PostgreSQL and MySQL/MariaDB.
func onBoth(obs ...string) map[testdatabases.Dialect][]string {
	return map[testdatabases.Dialect][]string{testdatabases.DialectPostgres: obs, testdatabases.DialectMySQL: obs}
}

// corpusCases is the corpus. A case runs on a fresh database of the corpus
// schema and returns what it observed.
var corpusCases = []corpusCase{
	{name: "commit and rollback", run: caseCommitRollback},
	{name: "savepoints inside a transaction", run: caseSavepoints},
	{name: "failing statement inside a transaction", run: caseFailInsideTx},
	{name: "failing statement outside a transaction", run: caseFailOutsideTx},
	{name: "unique violation", run: caseUnique},
	{name: "foreign key violation", fk: true, run: caseForeignKey},
	{name: "generated ids after rollback and delete", run: caseIDs},
	{name: "schema changes", run: caseDDL},
	{name: "temporary tables", run: caseTemporaryTables},
	{name: "temporary tables seen from another connection", run: caseTemporaryTablesShared},
	{name: "prepared statements", run: casePrepared},
	{name: "preparing invalid SQL", run: casePrepareInvalid},
	{name: "several open result sets", run: caseOpenResultSets},
	{name: "a second query in a transaction while rows are open", run: caseSecondQueryInTx},
	{name: "context cancelled mid-query", run: caseCancel},
	{name: "context cancelled inside a transaction", run: caseCancelInTx},
	{name: "introspection first in a transaction", run: caseIntrospectFirst},
	{name: "introspection inside a transaction", run: caseIntrospectInside},
	{name: "two connections", run: caseTwoConnections},
	{name: "now()", run: caseNow},
	{name: "read-only transaction", run: caseReadOnly},
}

type corpusCase struct {
	name string
	fk   bool // needs the foreign key of the corpus schema
	run  func(e *env)
}

// corpusSchema is what every database of the corpus starts with: parents
// (unique names, one seed row) and children (a foreign key to parents when
// fk is set). Without the foreign key, MySQL's rollback mode shadows the
// tables with TEMPORARY copies (see mysql_shadow.go), so on MySQL the
// corpus runs on both.
func corpusSchema(fk bool) testdatabases.Migrator {
	ref := func(s string) string {
		if fk {
			return s
		}
		return ""
	}
	return testdatabases.SQL(map[testdatabases.Dialect][]string{
		testdatabases.DialectSQLite: {
			"CREATE TABLE parents (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(50) NOT NULL UNIQUE)",
			"CREATE TABLE children (id INTEGER PRIMARY KEY AUTOINCREMENT, parent_id INTEGER NOT NULL" + ref(" REFERENCES parents (id)") + ", note VARCHAR(50))",
			"INSERT INTO parents (name) VALUES ('seed')",
		},
		testdatabases.DialectPostgres: {
			"CREATE TABLE parents (id SERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE)",
			"CREATE TABLE children (id SERIAL PRIMARY KEY, parent_id INTEGER NOT NULL" + ref(" REFERENCES parents (id)") + ", note VARCHAR(50))",
			"INSERT INTO parents (name) VALUES ('seed')",
		},
		testdatabases.DialectMySQL: {
			"CREATE TABLE parents (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL, UNIQUE KEY parents_name (name))",
			"CREATE TABLE children (id INTEGER AUTO_INCREMENT PRIMARY KEY, parent_id INTEGER NOT NULL, note VARCHAR(50)" + ref(", FOREIGN KEY (parent_id) REFERENCES parents (id)") + ")",
			"INSERT INTO parents (name) VALUES ('seed')",
		},
	})
}

type corpusVariant struct {
	name string
	fk   bool
}

// variants returns the schemas the corpus runs on for an engine.
func variants(id testdatabases.ID) []corpusVariant {
	if id.Dialect() == testdatabases.DialectMySQL {
		return []corpusVariant{{"fk", true}, {"shadowed", false}}
	}
	return []corpusVariant{{"fk", true}}
}

func TestDifferentialCorpus(t *testing.T) {
	t.Parallel()
	for _, id := range []testdatabases.ID{testdatabases.SQLite3, testdatabases.Postgres15, testdatabases.MariaDB10} {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			srv := newOracleServer(t, id)
			for _, v := range variants(id) {
				t.Run(v.name, func(t *testing.T) {
					t.Parallel()
					schema := corpusSchema(v.fk)
					sets := map[string]*testdatabases.Set{}
					for _, tr := range tiers {
						sets[tr.name] = testdatabases.New(t, append([]testdatabases.Option{id, testdatabases.WithMigrator(schema)}, tr.opts...)...)
					}
					for _, c := range corpusCases {
						if c.fk && !v.fk {
							continue
						}
						t.Run(c.name, func(t *testing.T) {
							t.Parallel()
							oracle := runCase(t, c, srv.open(t, schema), id, func() int { return 0 }, srv)
							for _, tr := range tiers {
								db := sets[tr.name].Init(t, id)
								got := runCase(t, c, db.DB, id, func() int { return testdatabases.WaitingStatements(db) }, srv)
								checkAgainstOracle(t, c.name, id.Dialect(), v.name, tr.name, oracle, got)
							}
						})
					}
				})
			}
		})
	}
}

// checkAgainstOracle asserts that a tier observed what the oracle did, or
// exactly the documented difference.
func checkAgainstOracle(t *testing.T, name string, d testdatabases.Dialect, variant, tierName string, oracle, got []string) {
	t.Helper()
	for _, diff := range documentedDifferences {
		if diff.corpusCase != name || diff.dialect != d || diff.tier != tierName || (diff.variant != "" && diff.variant != variant) {
			continue
		}
		if cmp.Equal(oracle, got) {
			t.Errorf("%s: the documented difference of the %s tier is gone: it now observes what the oracle does; remove it from documentedDifferences and docs/databases.md\n%s",
				name, tierName, strings.Join(got, "\n"))
		}
		if d := cmp.Diff(diff.want, got); d != "" {
			t.Errorf("%s: the %s tier no longer observes the documented difference (%s) (-documented +got):\n%s\noracle:\n%s",
				name, tierName, diff.why, d, strings.Join(oracle, "\n"))
		}
		return
	}
	if d := cmp.Diff(oracle, got); d != "" {
		t.Errorf("%s: the %s tier differs from the oracle (-oracle +%s):\n%s\nobserved, as Go: %#v", name, tierName, tierName, d, got)
	}
}

// TestDocumentedDifferencesAreInTheDocs: the table of docs/databases.md
// and documentedDifferences list the same differences.
func TestDocumentedDifferencesAreInTheDocs(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "docs", "databases.md"))
	if err != nil {
		t.Fatal(err)
	}
	const heading = "## Where rollback mode differs from a real database"
	_, section, ok := strings.Cut(string(data), heading)
	if !ok {
		t.Fatalf("docs/databases.md has no section %q", heading)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	// Rows: | case | engines | tier | what differs | why |
	documented := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		cols := strings.Split(line, "|")
		if len(cols) != 7 || strings.TrimSpace(cols[1]) == "case" || strings.HasPrefix(strings.TrimSpace(cols[1]), "---") {
			continue
		}
		for _, d := range strings.Split(cols[2], ",") {
			documented[strings.TrimSpace(cols[1])+"/"+strings.TrimSpace(d)+"/"+strings.TrimSpace(cols[3])] = true
		}
	}
	listed := map[string]bool{}
	for _, diff := range documentedDifferences {
		k := diff.corpusCase + "/" + string(diff.dialect) + "/" + diff.tier
		listed[k] = true
		if !documented[k] {
			t.Errorf("docs/databases.md, %q, has no row for %s", heading, k)
		}
	}
	for k := range documented {
		if !listed[k] {
			t.Errorf("docs/databases.md, %q, documents %s, which documentedDifferences does not list (the test would not notice it change)", heading, k)
		}
	}
	if len(documented) == 0 {
		t.Error("no row read from the table")
	}
}

// ---- the oracle ----

// oracleServer makes the oracle's databases: for a server engine it
// creates a database with the server's connection string and drops it
// after the test; for SQLite it creates a file.
type oracleServer struct {
	id    testdatabases.ID
	url   string
	admin *sql.DB // a connection to the server (nil for SQLite)
}

func newOracleServer(t *testing.T, id testdatabases.ID) *oracleServer {
	t.Helper()
	s := &oracleServer{id: id}
	if id == testdatabases.SQLite3 {
		return s
	}
	s.url = os.Getenv(id.EnvVar())
	if s.url == "" {
		msg := fmt.Sprintf("%s is not available: set %s", id, id.EnvVar())
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true requires every engine)", msg)
		}
		t.Skip(msg)
	}
	drv, dsn := s.dsn(t, "")
	admin, err := sql.Open(drv, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	s.admin = admin
	return s
}

// dsn returns the driver and DSN for database name on the server ("" for
// the connection string's own database).
func (s *oracleServer) dsn(t *testing.T, name string) (string, string) {
	t.Helper()
	u, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	switch s.id.Dialect() {
	case testdatabases.DialectPostgres:
		if name != "" {
			u.Path = "/" + name
		}
		return "pgx", u.String()
	default:
		// As DB.DriverDSN gives it to other clients: the driver's
		// defaults, with DATETIME scanned into time.Time.
		cfg := mysql.NewConfig()
		cfg.Net, cfg.Addr, cfg.DBName, cfg.ParseTime = "tcp", u.Host, name, true
		if u.Port() == "" {
			cfg.Addr += ":3306"
		}
		if u.User != nil {
			cfg.User = u.User.Username()
			cfg.Passwd, _ = u.User.Password()
		}
		return "mysql", cfg.FormatDSN()
	}
}

// open creates a fresh database migrated with schema and returns a plain
// *sql.DB on it; both go when t ends.
func (s *oracleServer) open(t *testing.T, schema testdatabases.Migrator) *sql.DB {
	t.Helper()
	ctx := context.Background()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "greenroom_oracle_" + hex.EncodeToString(b[:])
	var drv, dsn string
	switch s.id.Dialect() {
	case testdatabases.DialectSQLite:
		drv, dsn = "sqlite", "file:"+filepath.Join(t.TempDir(), name+".db")+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)"
	case testdatabases.DialectPostgres:
		if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatalf("creating the oracle's database: %v", err)
		}
		t.Cleanup(func() {
			if _, err := s.admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
				t.Errorf("dropping the oracle's database: %v", err)
			}
		})
		drv, dsn = s.dsn(t, name)
	case testdatabases.DialectMySQL:
		if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatalf("creating the oracle's database: %v", err)
		}
		t.Cleanup(func() {
			if _, err := s.admin.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
				t.Errorf("dropping the oracle's database: %v", err)
			}
		})
		drv, dsn = s.dsn(t, name)
	}
	db, err := sql.Open(drv, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // before the drop: cleanups run last first
	if err := schema.Migrate(ctx, db, s.id.Dialect()); err != nil {
		t.Fatalf("migrating the oracle's database: %v", err)
	}
	return db
}

// ---- running a case ----

// env is what a case runs with.
type env struct {
	t       *testing.T
	ctx     context.Context
	db      *sql.DB
	dialect testdatabases.Dialect
	// waiting reports how many statements wait for another connection's
	// transaction (rollback mode); always 0 on a real database.
	waiting func() int
	srv     *oracleServer // the server, to watch running queries
	obs     []string
}

func runCase(t *testing.T, c corpusCase, db *sql.DB, id testdatabases.ID, waiting func() int, srv *oracleServer) []string {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), db: db, dialect: id.Dialect(), waiting: waiting, srv: srv}
	c.run(e)
	return e.obs
}

// note records an observation.
func (e *env) note(format string, args ...any) { e.obs = append(e.obs, fmt.Sprintf(format, args...)) }

// must fails the case on an error that is not an observation (setup).
func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// q rewrites ? placeholders to $n for PostgreSQL.
func (e *env) q(s string) string {
	if e.dialect != testdatabases.DialectPostgres {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// runner is *sql.DB, *sql.Conn or *sql.Tx.
type runner interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// exec runs a statement and records its outcome.
func (e *env) exec(label string, r runner, query string, args ...any) error {
	_, err := r.ExecContext(e.ctx, e.q(query), args...)
	e.note("%s: %s", label, class(err))
	return err
}

// insert adds a parent and records its generated id.
func (e *env) insert(label string, r runner, name string) {
	var id int64
	var err error
	if e.dialect == testdatabases.DialectPostgres {
		err = r.QueryRowContext(e.ctx, "INSERT INTO parents (name) VALUES ($1) RETURNING id", name).Scan(&id)
	} else {
		var res sql.Result
		if res, err = r.ExecContext(e.ctx, "INSERT INTO parents (name) VALUES (?)", name); err == nil {
			id, err = res.LastInsertId()
		}
	}
	if err != nil {
		e.note("%s: %s", label, class(err))
		return
	}
	e.note("%s: id %d", label, id)
}

// names records the parents' names, in order.
func (e *env) names(label string, r runner) {
	rows, err := r.QueryContext(e.ctx, "SELECT name FROM parents ORDER BY name")
	if err != nil {
		e.note("%s: %s", label, class(err))
		return
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		e.must(rows.Scan(&n))
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		e.note("%s: %s", label, class(err))
		return
	}
	e.note("%s: %s", label, strings.Join(names, " "))
}

// count records the number of rows of a table.
func (e *env) count(label string, r runner, table string) {
	var n int
	if err := r.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		e.note("%s: %s", label, class(err))
		return
	}
	e.note("%s: %d", label, n)
}

// class names an outcome so that the oracle's and a tier's compare: the
// error's kind and code, not its wording.
func class(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, sql.ErrTxDone):
		return "transaction done"
	case errors.Is(err, sql.ErrNoRows):
		return "no rows"
	case errors.Is(err, pgx.ErrTxCommitRollback):
		return "commit rolled back"
	case strings.Contains(err.Error(), "testdatabases: the database session is unusable"):
		return "error: the session is unusable"
	case strings.Contains(err.Error(), "testdatabases: a transaction was rolled back after a statement in it"):
		return "error: the rollback took out the rows moved out of the shadow tables"
	}
	kind := ""
	if k := sqlkit.Classify(err); k != sqlkit.Unknown {
		kind = k.String() + " "
	}
	var pe *pgconn.PgError
	var me *mysql.MySQLError
	var se *sqlite.Error
	switch {
	case errors.As(err, &pe):
		return fmt.Sprintf("%serror (SQLSTATE %s)", kind, pe.Code)
	case errors.As(err, &me):
		return fmt.Sprintf("%serror (MySQL %d)", kind, me.Number)
	case errors.As(err, &se):
		return fmt.Sprintf("%serror (SQLite %d)", kind, se.Code())
	}
	return kind + "error: " + err.Error()
}

// ---- the cases ----

func caseCommitRollback(e *env) {
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.insert("insert a in a transaction", tx, "a")
	e.note("commit: %s", class(tx.Commit()))
	tx, err = e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.insert("insert b in a transaction", tx, "b")
	e.names("inside it", tx)
	e.note("rollback: %s", class(tx.Rollback()))
	e.names("after", e.db)
	e.note("second rollback: %s", class(tx.Rollback()))
}

// caseSavepoints is how nested transactions are written with
// database/sql, and how a PostgreSQL transaction recovers from an error.
func caseSavepoints(e *env) {
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.insert("insert a", tx, "a")
	e.exec("SAVEPOINT s1", tx, "SAVEPOINT s1")
	e.insert("insert b", tx, "b")
	e.exec("ROLLBACK TO SAVEPOINT s1", tx, "ROLLBACK TO SAVEPOINT s1")
	e.insert("insert c", tx, "c")
	e.exec("RELEASE SAVEPOINT s1", tx, "RELEASE SAVEPOINT s1")
	e.exec("SAVEPOINT s2", tx, "SAVEPOINT s2")
	e.insert("insert a again", tx, "a")
	e.exec("ROLLBACK TO SAVEPOINT s2", tx, "ROLLBACK TO SAVEPOINT s2")
	e.insert("insert d", tx, "d")
	e.names("inside", tx)
	e.note("commit: %s", class(tx.Commit()))
	e.names("after", e.db)
	e.exec("SAVEPOINT outside a transaction", e.db, "SAVEPOINT s3")
	e.names("at the end", e.db)
}

func caseFailInsideTx(e *env) {
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.insert("insert a", tx, "a")
	e.exec("insert into a missing table", tx, "INSERT INTO missing_table VALUES (1)")
	e.insert("insert b", tx, "b")
	e.note("commit: %s", class(tx.Commit()))
	e.names("after", e.db)
	tx, err = e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.exec("syntax error", tx, "SELEKT 1")
	e.insert("insert c", tx, "c")
	e.note("rollback: %s", class(tx.Rollback()))
	e.insert("insert d outside", e.db, "d")
	e.names("at the end", e.db)
}

func caseFailOutsideTx(e *env) {
	// The first statement of the test fails.
	e.exec("insert into a missing table", e.db, "INSERT INTO missing_table VALUES (1)")
	e.insert("insert a", e.db, "a")
	e.exec("syntax error", e.db, "SELEKT 1")
	e.insert("insert b", e.db, "b")
	e.exec("division by zero", e.db, "UPDATE parents SET id = id / 0 WHERE name = 'b'")
	e.names("after", e.db)
}

func caseUnique(e *env) {
	e.insert("insert dup", e.db, "dup")
	e.insert("insert dup again", e.db, "dup")
	e.insert("insert x", e.db, "x")
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.insert("insert y in a transaction", tx, "y")
	e.insert("insert dup in the transaction", tx, "dup")
	e.insert("insert z in the transaction", tx, "z")
	e.note("commit: %s", class(tx.Commit()))
	e.names("after", e.db)
	e.exec("update to a taken name", e.db, "UPDATE parents SET name = 'dup' WHERE name = 'x'")
	e.names("at the end", e.db)
}

func caseForeignKey(e *env) {
	e.exec("child of a missing parent", e.db, "INSERT INTO children (parent_id, note) VALUES (999, 'orphan')")
	e.exec("child of the seed", e.db, "INSERT INTO children (parent_id, note) VALUES (1, 'ok')")
	e.exec("delete the referenced parent", e.db, "DELETE FROM parents WHERE id = 1")
	e.count("children", e.db, "children")
	e.count("parents", e.db, "parents")
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.exec("delete the child in a transaction", tx, "DELETE FROM children")
	e.exec("then the parent", tx, "DELETE FROM parents WHERE id = 1")
	e.note("rollback: %s", class(tx.Rollback()))
	e.count("parents after the rollback", e.db, "parents")
}

func caseIDs(e *env) {
	e.insert("insert a", e.db, "a")
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.insert("insert b in a transaction", tx, "b")
	e.note("rollback: %s", class(tx.Rollback()))
	e.insert("insert c", e.db, "c")
	e.exec("delete c", e.db, "DELETE FROM parents WHERE name = 'c'")
	e.insert("insert d", e.db, "d")
	e.exec("delete all", e.db, "DELETE FROM parents")
	e.insert("insert e", e.db, "e")
	e.exec("insert f with id 100", e.db, "INSERT INTO parents (id, name) VALUES (100, 'f')")
	e.insert("insert g", e.db, "g")
}

func caseDDL(e *env) {
	e.exec("create table", e.db, "CREATE TABLE extra (id INTEGER PRIMARY KEY, v VARCHAR(10))")
	e.exec("insert into it", e.db, "INSERT INTO extra (id, v) VALUES (1, 'x')")
	e.count("extra", e.db, "extra")
	e.exec("add a column", e.db, "ALTER TABLE parents ADD COLUMN added INTEGER")
	rows, err := e.db.QueryContext(e.ctx, "SELECT * FROM parents WHERE 1 = 0")
	e.must(err)
	cols, err := rows.Columns()
	e.must(err)
	e.must(rows.Close())
	e.note("parents columns: %s", strings.Join(cols, " "))
	e.insert("insert after the change", e.db, "a")
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.insert("insert b in a transaction", tx, "b")
	e.exec("create a table in the transaction", tx, "CREATE TABLE extra2 (id INTEGER)")
	e.insert("insert c in the transaction", tx, "c")
	e.note("rollback: %s", class(tx.Rollback()))
	e.names("after", e.db)
	e.count("extra2", e.db, "extra2")
	e.exec("drop table", e.db, "DROP TABLE extra")
	e.count("extra after the drop", e.db, "extra")
}

func caseTemporaryTables(e *env) {
	c1, err := e.db.Conn(e.ctx)
	e.must(err)
	defer c1.Close()
	e.exec("create a temporary table", c1, "CREATE TEMPORARY TABLE tmp (x INTEGER)")
	e.exec("insert into it", c1, "INSERT INTO tmp (x) VALUES (1)")
	e.count("read it", c1, "tmp")
	e.exec("a temporary table named like a real one", c1, "CREATE TEMPORARY TABLE parents (id INTEGER)")
	e.count("read parents", c1, "parents")
	e.exec("drop it", c1, "DROP TABLE parents")
	e.count("read parents again", c1, "parents")
}

// caseTemporaryTablesShared: a temporary table belongs to its connection.
func caseTemporaryTablesShared(e *env) {
	c1, err := e.db.Conn(e.ctx)
	e.must(err)
	defer c1.Close()
	c2, err := e.db.Conn(e.ctx)
	e.must(err)
	defer c2.Close()
	e.exec("create a temporary table on c1", c1, "CREATE TEMPORARY TABLE tmp (x INTEGER)")
	e.exec("insert into it", c1, "INSERT INTO tmp (x) VALUES (1)")
	e.count("c2 reads it", c2, "tmp")
	e.exec("a temporary table named like a real one, on c1", c1, "CREATE TEMPORARY TABLE parents (id INTEGER)")
	e.count("c2 reads parents", c2, "parents")
}

func casePrepared(e *env) {
	st, err := e.db.PrepareContext(e.ctx, e.q("INSERT INTO parents (name) VALUES (?)"))
	e.note("prepare: %s", class(err))
	if err != nil {
		return
	}
	defer st.Close()
	_, err = st.ExecContext(e.ctx, "p1")
	e.note("exec p1: %s", class(err))
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	_, err = tx.StmtContext(e.ctx, st).ExecContext(e.ctx, "p2")
	e.note("exec p2 in a transaction: %s", class(err))
	e.note("rollback: %s", class(tx.Rollback()))
	tx, err = e.db.BeginTx(e.ctx, nil)
	e.must(err)
	inTx, err := tx.PrepareContext(e.ctx, e.q("INSERT INTO parents (name) VALUES (?)"))
	e.note("prepare in a transaction: %s", class(err))
	if err == nil {
		_, err = inTx.ExecContext(e.ctx, "p3")
		e.note("exec p3: %s", class(err))
	}
	e.note("commit: %s", class(tx.Commit()))
	if inTx != nil {
		_, err = inTx.ExecContext(e.ctx, "p4")
		e.note("exec p4 after the commit: %s", class(err))
	}
	_, err = st.ExecContext(e.ctx, "p1")
	e.note("exec p1 again: %s", class(err))
	e.names("after", e.db)
}

func casePrepareInvalid(e *env) {
	bad, err := e.db.PrepareContext(e.ctx, "SELEKT 1")
	e.note("prepare: %s", class(err))
	if err == nil {
		_, err = bad.ExecContext(e.ctx)
		e.note("exec it: %s", class(err))
		e.must(bad.Close())
	}
	e.insert("insert a", e.db, "a")
	e.names("after", e.db)
}

func caseOpenResultSets(e *env) {
	e.insert("insert a", e.db, "a")
	e.insert("insert b", e.db, "b")
	r1, err := e.db.QueryContext(e.ctx, "SELECT id FROM parents ORDER BY id")
	e.must(err)
	defer r1.Close()
	r2, err := e.db.QueryContext(e.ctx, "SELECT name FROM parents ORDER BY name DESC")
	e.must(err)
	defer r2.Close()
	var pairs []string
	for r1.Next() && r2.Next() {
		var id int
		var name string
		e.must(r1.Scan(&id))
		e.must(r2.Scan(&name))
		pairs = append(pairs, fmt.Sprint(id, name))
		// A statement on a third connection while both are open.
		var n int
		e.must(e.db.QueryRowContext(e.ctx, e.q("SELECT COUNT(*) FROM parents WHERE id <= ?"), id).Scan(&n))
		pairs = append(pairs, fmt.Sprint(n))
	}
	e.must(r1.Err())
	e.must(r2.Err())
	e.note("interleaved: %s", strings.Join(pairs, ", "))
}

// caseSecondQueryInTx: a transaction is one connection, which real drivers
// cannot use for a second query while rows of the first are unread.
func caseSecondQueryInTx(e *env) {
	e.insert("insert a", e.db, "a")
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	defer tx.Rollback()
	t1, err := tx.QueryContext(e.ctx, "SELECT id FROM parents ORDER BY id")
	e.must(err)
	defer t1.Close()
	e.note("first row of t1: %v", t1.Next())
	var n int
	err = tx.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM parents").Scan(&n)
	e.note("second query on the transaction while t1 is open: %s %d", class(err), n)
	rest := 0
	for t1.Next() {
		rest++
	}
	e.note("rest of t1: %d rows, %s", rest, class(t1.Err()))
}

// caseCancel cancels a query while the server runs it (on SQLite, a query
// that never ends, cancelled whenever the cancellation arrives), then uses
// the database again.
func caseCancel(e *env) {
	e.insert("insert a", e.db, "a")
	token := fmt.Sprintf("greenroom_cancel_%d_%p", time.Now().UnixNano(), e)
	query := cancelQuery(e.dialect, token)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		var v any
		done <- e.db.QueryRowContext(ctx, query).Scan(&v)
	}()
	if e.srv.admin != nil {
		e.waitRunning(token, done)
	}
	cancel()
	e.note("query: %s", class(<-done))
	if e.dialect == testdatabases.DialectMySQL {
		// The driver closed its connection; stop the statement on the server.
		e.killQuery(token)
	}
	var one int
	err := e.db.QueryRowContext(e.ctx, "SELECT 1").Scan(&one)
	e.note("SELECT 1 after: %s", class(err))
	e.insert("insert b after", e.db, "b")
	e.names("after", e.db)
}

// caseCancelInTx cancels the context of a transaction while a query of it
// runs: database/sql rolls the transaction back.
func caseCancelInTx(e *env) {
	e.insert("insert a", e.db, "a")
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	tx, err := e.db.BeginTx(ctx, nil)
	e.must(err)
	e.insert("insert b in the transaction", tx, "b")
	token := fmt.Sprintf("greenroom_cancel_tx_%d_%p", time.Now().UnixNano(), e)
	query := cancelQuery(e.dialect, token)
	done := make(chan error, 1)
	go func() {
		var v any
		done <- tx.QueryRowContext(ctx, query).Scan(&v)
	}()
	if e.srv.admin != nil {
		e.waitRunning(token, done)
	}
	cancel()
	e.note("query: %s", class(<-done))
	if e.dialect == testdatabases.DialectMySQL {
		e.killQuery(token)
	}
	// The transaction ends with the context, or when Commit sees it done,
	// whichever comes first: either way it is not committed.
	e.note("commit fails: %v", tx.Commit() != nil)
	e.insert("insert c after", e.db, "c")
	e.names("after", e.db)
}

// cancelQuery is a query that runs until it is cancelled (30 s on the
// servers), with token in its text so that it can be found running.
func cancelQuery(d testdatabases.Dialect, token string) string {
	switch d {
	case testdatabases.DialectPostgres:
		return "SELECT pg_sleep(30) /* " + token + " */"
	case testdatabases.DialectMySQL:
		return "SELECT SLEEP(30) /* " + token + " */"
	}
	return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"
}

// introspect records whether the catalog lists the parents table.
func (e *env) introspect(label string, r runner) {
	var q string
	switch e.dialect {
	case testdatabases.DialectPostgres:
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'parents'"
	case testdatabases.DialectMySQL:
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'parents'"
	default:
		q = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'parents'"
	}
	var n int
	if err := r.QueryRowContext(e.ctx, q).Scan(&n); err != nil {
		e.note("%s: %s", label, class(err))
		return
	}
	e.note("%s: %d", label, n)
}

// caseIntrospectFirst: a catalog query as the first statement of a
// transaction that is rolled back (on MySQL's shadowed sessions it moves
// the rows into the real tables first).
func caseIntrospectFirst(e *env) {
	e.insert("insert a", e.db, "a")
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.introspect("catalog lists parents", tx)
	e.insert("insert b in the transaction", tx, "b")
	e.note("rollback: %s", class(tx.Rollback()))
	e.names("after", e.db)
	e.insert("insert c", e.db, "c")
}

// caseIntrospectInside: the same after a write in the transaction.
func caseIntrospectInside(e *env) {
	e.insert("insert a", e.db, "a")
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	e.insert("insert b in the transaction", tx, "b")
	e.introspect("catalog lists parents", tx)
	e.note("rollback: %s", class(tx.Rollback()))
	e.names("after", e.db)
}

// waitRunning returns when the server runs a statement whose text has
// token, or when the statement ended (done is ready).
func (e *env) waitRunning(token string, done chan error) {
	q := "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND strpos(query, $1) > 0"
	if e.dialect == testdatabases.DialectMySQL {
		q = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INSTR(INFO, ?) > 0"
	}
	for {
		select {
		case err := <-done:
			done <- err
			return
		default:
		}
		var n int
		e.must(e.srv.admin.QueryRowContext(e.ctx, q, token).Scan(&n))
		if n > 0 {
			return
		}
		runtime.Gosched()
	}
}

// killQuery stops the statements whose text has token (MySQL).
func (e *env) killQuery(token string) {
	rows, err := e.srv.admin.QueryContext(e.ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INSTR(INFO, ?) > 0", token)
	e.must(err)
	var ids []int64
	for rows.Next() {
		var id int64
		e.must(rows.Scan(&id))
		ids = append(ids, id)
	}
	e.must(rows.Err())
	e.must(rows.Close())
	for _, id := range ids {
		if _, err := e.srv.admin.ExecContext(e.ctx, fmt.Sprintf("KILL QUERY %d", id)); err != nil {
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1094 { // unknown thread: it ended
				e.must(err)
			}
		}
	}
}

// caseTwoConnections: what a connection sees of another's committed and
// uncommitted writes.
func caseTwoConnections(e *env) {
	c1, err := e.db.Conn(e.ctx)
	e.must(err)
	defer c1.Close()
	c2, err := e.db.Conn(e.ctx)
	e.must(err)
	defer c2.Close()
	e.insert("c1 inserts a", c1, "a")
	e.names("c2 reads", c2)
	tx, err := c1.BeginTx(e.ctx, nil)
	e.must(err)
	e.insert("c1 inserts b in a transaction", tx, "b")
	e.names("c1 reads in it", tx)
	// c2 reads while c1's transaction is open. A real database answers at
	// once; if the read waits instead, c1 commits and the read goes on.
	type result struct {
		names []string
		err   error
	}
	read := make(chan result, 1)
	go func() {
		rows, err := c2.QueryContext(e.ctx, "SELECT name FROM parents ORDER BY name")
		if err != nil {
			read <- result{err: err}
			return
		}
		defer rows.Close()
		var r result
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				read <- result{err: err}
				return
			}
			r.names = append(r.names, n)
		}
		r.err = rows.Err()
		read <- r
	}()
	committed := false
	for !committed {
		select {
		case r := <-read:
			e.note("c2 reads during c1's transaction: %s %s", class(r.err), strings.Join(r.names, " "))
			e.note("c1 commits: %s", class(tx.Commit()))
			committed = true
			continue
		default:
		}
		if e.waiting() > 0 {
			e.note("c2's read waits for c1's transaction")
			e.note("c1 commits: %s", class(tx.Commit()))
			r := <-read
			e.note("c2's read, after the commit: %s %s", class(r.err), strings.Join(r.names, " "))
			committed = true
			continue
		}
		runtime.Gosched()
	}
	e.names("c2 reads after the commit", c2)
	tx, err = c1.BeginTx(e.ctx, nil)
	e.must(err)
	e.insert("c1 inserts c in a transaction", tx, "c")
	e.note("c1 rolls back: %s", class(tx.Rollback()))
	e.names("c2 reads after the rollback", c2)
}

// caseNow: how the current time moves within and between transactions.
func caseNow(e *env) {
	var now string
	switch e.dialect {
	case testdatabases.DialectPostgres:
		now = "SELECT to_char(now(), 'YYYY-MM-DD HH24:MI:SS.US')"
	case testdatabases.DialectMySQL:
		now = "SELECT DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f')"
	default:
		now = "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"
	}
	read := func(r runner) string {
		var s string
		e.must(r.QueryRowContext(e.ctx, now).Scan(&s))
		return s
	}
	// SQLite's clock has millisecond steps: two statements may read the
	// same time, so on SQLite only "not earlier" is observed.
	compare := func(a, b string) string {
		switch {
		case b < a:
			return "earlier"
		case e.dialect == testdatabases.DialectSQLite:
			return "not earlier"
		case a == b:
			return "the same"
		}
		return "later"
	}
	tx, err := e.db.BeginTx(e.ctx, nil)
	e.must(err)
	t1 := read(tx)
	e.insert("insert a", tx, "a")
	t2 := read(tx)
	e.must(tx.Commit())
	e.note("second read in a transaction: %s", compare(t1, t2))
	tx, err = e.db.BeginTx(e.ctx, nil)
	e.must(err)
	t3 := read(tx)
	e.must(tx.Commit())
	e.note("read in the next transaction: %s", compare(t2, t3))
	t4 := read(e.db)
	t5 := read(e.db)
	e.note("outside a transaction: %s, then %s", compare(t3, t4), compare(t4, t5))
}

func caseReadOnly(e *env) {
	tx, err := e.db.BeginTx(e.ctx, &sql.TxOptions{ReadOnly: true})
	e.note("begin read-only: %s", class(err))
	if err != nil {
		return
	}
	e.names("read in it", tx)
	e.insert("insert a in it", tx, "a")
	e.note("rollback: %s", class(tx.Rollback()))
	e.names("after", e.db)
}
