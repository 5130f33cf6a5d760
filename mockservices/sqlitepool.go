package mockservices

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The SQLite fake recycles migrated databases: when a test ends, its
// database is reset to the state its migrations left it in and kept, open,
// for the next test of the process with the same migrations. Opening a
// SQLite database costs a fraction of a millisecond (file system calls, and
// parsing the schema on every new connection); resetting a few tables costs
// a few microseconds, and the next test finds the connection ready with its
// schema parsed.
//
// A database is reset only when its reset is exact: the schema is the one
// the migrations made (schema_version unchanged), no connection holds a
// temporary object or an attached database, no connection or transaction
// is still in use, and the migrations made no triggers (a trigger could
// write rows while the reset deletes them). Anything else closes and
// removes the database, as when pooling is off. A reset deletes every row
// of every table, puts back the rows the migrations wrote (such as their
// version table's), and restores the AUTOINCREMENT counters, so the next
// test sees exactly what a fresh copy would hold.
//
// The pool lives as long as the process, like the image cache: its files
// sit in a directory of the process, locked with flock; a later process
// removes the directories of processes that are gone.

// maxIdlePerKey bounds the databases kept per set of migrations: enough
// for the parallel tests of a package, few enough to be cheap.
const maxIdlePerKey = 8

// sqlitePool is the process's pool. The zero value is ready; its directory
// is made on first use.
type sqlitePool struct {
	mu     sync.Mutex
	dir    string
	dirErr error
	made   bool
	idle   map[string][]*pooledDB
	seq    atomic.Int64
}

var pool sqlitePool

// templateState is what a reset needs to know of a set of migrations,
// captured from a database right after it was made from the template.
type templateState struct {
	schemaVersion int64
	// reset are the statements, run in one transaction with foreign keys
	// deferred, that rewrite a database to the template's rows.
	reset []string
	// err is why databases of this template cannot be reset.
	err error
}

// checkQuery tells whether a database can be reset exactly: its schema,
// and the connection's state that a test can change (temporary objects,
// attached databases, the pragmas the fake sets or a test would flip).
const checkQuery = `SELECT
	(SELECT schema_version FROM pragma_schema_version),
	(SELECT count(*) FROM temp.sqlite_master)
	+ (SELECT count(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp'))
	+ ((SELECT foreign_keys FROM pragma_foreign_keys) != 1)
	+ ((SELECT query_only FROM pragma_query_only) != 0)
	+ ((SELECT timeout FROM pragma_busy_timeout) != 10000)
	+ ((SELECT recursive_triggers FROM pragma_recursive_triggers) != 0)`

// changesQuery tells whether anything was written since it last ran on
// the same connection: total_changes counts the rows this connection
// changed, data_version changes when another connection commits.
const changesQuery = "SELECT total_changes(), (SELECT data_version FROM pragma_data_version)"

// pooledDB is a database of the pool. Its statements are prepared once per
// connection, at the driver level: SQLite parses a statement each time it
// is prepared, which costs more than running these.
type pooledDB struct {
	db    *sql.DB
	path  string
	stmts map[driver.Conn]*connStmts
	// clean is the connection and its changesQuery result right after the
	// last reset: when they are unchanged at release, nothing was written.
	clean      driver.Conn
	cleanState [2]int64
}

type connStmts struct {
	check, changes, begin, commit, rollback driver.Stmt
	reset                                   []driver.Stmt
}

// close finalizes the statements of the connection idle now, the only one
// known to be open: statements of a connection database/sql has closed
// must not be touched (SQLite frees them with the connection).
func (p *pooledDB) close() {
	if len(p.stmts) == 0 || p.db.Stats().InUse > 0 {
		p.stmts = nil
		return
	}
	ctx := context.Background()
	if conn, err := p.db.Conn(ctx); err == nil {
		_ = conn.Raw(func(dc any) error {
			if c, ok := dc.(driver.Conn); ok {
				p.stmts[c].closeAll()
			}
			return nil
		})
		conn.Close()
	}
	p.stmts = nil
}

func (cs *connStmts) closeAll() {
	if cs == nil {
		return
	}
	for _, s := range append([]driver.Stmt{cs.check, cs.changes, cs.begin, cs.commit, cs.rollback}, cs.reset...) {
		if s != nil {
			s.Close()
		}
	}
}

var templateStates sync.Map // key -> *templateOnce

type templateOnce struct {
	once  sync.Once
	state templateState
}

// newPath returns the path of a new database file in the pool directory.
func (p *sqlitePool) newPath() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.made {
		p.made = true
		p.dir, p.dirErr = makeProcessDir()
	}
	if p.dirErr != nil {
		return "", p.dirErr
	}
	return filepath.Join(p.dir, strconv.FormatInt(p.seq.Add(1), 10)+".sqlite"), nil
}

// get returns an idle database made from the template key, or nil.
func (p *sqlitePool) get(key string) *pooledDB {
	p.mu.Lock()
	defer p.mu.Unlock()
	dbs := p.idle[key]
	if len(dbs) == 0 {
		return nil
	}
	pd := dbs[len(dbs)-1]
	p.idle[key] = dbs[:len(dbs)-1]
	return pd
}

// put resets pd to the template key and keeps it; it reports false when
// pd cannot be kept, and the caller must close it.
func (p *sqlitePool) put(ctx context.Context, key string, pd *pooledDB) bool {
	st := stateOf(key)
	if st == nil || st.err != nil || pd.db.Stats().InUse > 0 {
		return false
	}
	if err := pd.resetTo(ctx, st); err != nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle[key]) >= maxIdlePerKey {
		return false
	}
	if p.idle == nil {
		p.idle = map[string][]*pooledDB{}
	}
	p.idle[key] = append(p.idle[key], pd)
	return true
}

func stateOf(key string) *templateState {
	v, ok := templateStates.Load(key)
	if !ok {
		return nil
	}
	return &v.(*templateOnce).state
}

// captureTemplate records the template state of key from db, a database
// just made from the template, on the first call for key.
func captureTemplate(ctx context.Context, key string, db *sql.DB) {
	v, _ := templateStates.LoadOrStore(key, &templateOnce{})
	to := v.(*templateOnce)
	to.once.Do(func() { to.state = readTemplateState(context.WithoutCancel(ctx), db) })
}

func readTemplateState(ctx context.Context, db *sql.DB) templateState {
	var st templateState
	fail := func(err error) templateState {
		return templateState{err: fmt.Errorf("mockservices: read the template state: %w", err)}
	}
	if err := db.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&st.schemaVersion); err != nil {
		return fail(err)
	}
	var triggers int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").Scan(&triggers); err != nil {
		return fail(err)
	}
	if triggers > 0 {
		return templateState{err: errors.New("mockservices: the migrations create triggers; databases are not recycled")}
	}
	tables, err := queryStrings(ctx, db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
	if err != nil {
		return fail(err)
	}
	reset := []string{"PRAGMA defer_foreign_keys = ON"}
	for _, t := range tables {
		reset = append(reset, "DELETE FROM "+quoteIdent(t))
	}
	for _, t := range tables {
		cols, err := queryStrings(ctx, db, "SELECT name FROM pragma_table_info(?) ORDER BY cid", t)
		if err != nil {
			return fail(err)
		}
		if len(cols) == 0 {
			continue
		}
		// Build INSERT statements of the template's rows with SQLite's
		// own quote(), so every value round-trips exactly.
		quoted := make([]string, len(cols))
		idents := make([]string, len(cols))
		for i, c := range cols {
			idents[i] = quoteIdent(c)
			quoted[i] = "quote(" + quoteIdent(c) + ")"
		}
		q := fmt.Sprintf("SELECT 'INSERT INTO %s (%s) VALUES (' || %s || ')' FROM %s",
			strings.ReplaceAll(quoteIdent(t), "'", "''"), strings.ReplaceAll(strings.Join(idents, ", "), "'", "''"),
			strings.Join(quoted, " || ', ' || "), quoteIdent(t))
		rows, err := queryStrings(ctx, db, q)
		if err != nil {
			return fail(err)
		}
		reset = append(reset, rows...)
	}
	var hasSeq int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'").Scan(&hasSeq); err != nil {
		return fail(err)
	}
	if hasSeq > 0 {
		reset = append(reset, "DELETE FROM sqlite_sequence")
		seqs, err := queryStrings(ctx, db, "SELECT 'INSERT INTO sqlite_sequence (name, seq) VALUES (' || quote(name) || ', ' || quote(seq) || ')' FROM sqlite_sequence")
		if err != nil {
			return fail(err)
		}
		reset = append(reset, seqs...)
	}
	st.reset = reset
	return st
}

// errNotResettable is returned when a test left a database in a state a
// reset cannot undo exactly.
var errNotResettable = errors.New("mockservices: the test changed the database's schema or connection state")

// resetTo checks that the database can be reset exactly and, unless
// nothing was written since its last reset, resets it to the template state
// st. The pool keeps at most one idle connection per database and nothing
// else uses the database now, so the connection pinned here is the only one
// whose state could differ.
func (p *pooledDB) resetTo(ctx context.Context, st *templateState) error {
	ctx = context.WithoutCancel(ctx)
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return errNotResettable
		}
		cs, err := p.statements(ctx, c, st)
		if err != nil {
			return err
		}
		check, err := queryInts(ctx, cs.check, 2)
		if err != nil {
			return err
		}
		if check[0] != st.schemaVersion || check[1] != 0 {
			return errNotResettable
		}
		changes, err := queryInts(ctx, cs.changes, 2)
		if err != nil {
			return err
		}
		if c == p.clean && [2]int64(changes) == p.cleanState {
			return nil // nothing was written: the database is as it was
		}
		if err := execStmt(ctx, cs.begin); err != nil {
			return err
		}
		for _, s := range cs.reset {
			if err := execStmt(ctx, s); err != nil {
				_ = execStmt(ctx, cs.rollback)
				return err
			}
		}
		if err := execStmt(ctx, cs.commit); err != nil {
			_ = execStmt(ctx, cs.rollback)
			return err
		}
		if changes, err = queryInts(ctx, cs.changes, 2); err != nil {
			return err
		}
		p.clean, p.cleanState = c, [2]int64(changes)
		return nil
	})
}

// statements returns the statements of conn, preparing them on first use.
func (p *pooledDB) statements(ctx context.Context, conn driver.Conn, st *templateState) (*connStmts, error) {
	if cs := p.stmts[conn]; cs != nil {
		return cs, nil
	}
	// Another connection than before: database/sql closed the old one
	// (it keeps one idle connection), and its statements went with it.
	p.stmts = nil
	prep := func(q string) (driver.Stmt, error) {
		if pc, ok := conn.(driver.ConnPrepareContext); ok {
			return pc.PrepareContext(ctx, q)
		}
		return conn.Prepare(q)
	}
	cs := &connStmts{}
	var err error
	for _, x := range []struct {
		dst *driver.Stmt
		q   string
	}{{&cs.check, checkQuery}, {&cs.changes, changesQuery}, {&cs.begin, "BEGIN IMMEDIATE"}, {&cs.commit, "COMMIT"}, {&cs.rollback, "ROLLBACK"}} {
		if *x.dst, err = prep(x.q); err != nil {
			return nil, err
		}
	}
	for _, q := range st.reset {
		s, err := prep(q)
		if err != nil {
			return nil, err
		}
		cs.reset = append(cs.reset, s)
	}
	if p.stmts == nil {
		p.stmts = map[driver.Conn]*connStmts{}
	}
	p.stmts[conn] = cs
	return cs, nil
}

func execStmt(ctx context.Context, s driver.Stmt) error {
	if ec, ok := s.(driver.StmtExecContext); ok {
		_, err := ec.ExecContext(ctx, nil)
		return err
	}
	_, err := s.Exec(nil) //nolint:staticcheck // fallback for drivers without ExecContext
	return err
}

// queryInts runs s and returns the n integers of its one row.
func queryInts(ctx context.Context, s driver.Stmt, n int) ([]int64, error) {
	var rows driver.Rows
	var err error
	if qc, ok := s.(driver.StmtQueryContext); ok {
		rows, err = qc.QueryContext(ctx, nil)
	} else {
		rows, err = s.Query(nil) //nolint:staticcheck // fallback for drivers without QueryContext
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	vals := make([]driver.Value, n)
	if err := rows.Next(vals); err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i, v := range vals {
		x, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("mockservices: unexpected %T in a pool check", v)
		}
		out[i] = x
	}
	return out, nil
}

func queryStrings(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
