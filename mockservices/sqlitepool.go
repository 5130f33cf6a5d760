package mockservices

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"os"
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
	// Released databases are reset by one background goroutine, so a test
	// does not wait for it; pending counts them by key, and returned is
	// signalled each time one is done.
	pending  map[string]int
	returned *sync.Cond
	work     chan resetJob
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

// stateChecks tell whether a database can be reset exactly: its schema
// (checked apart, against the template's schema_version), and the
// connection's state that a test can change: temporary objects, and the
// pragmas the fake sets or a test would flip. Each is one plain statement
// with one integer result: SQLite's pragma table-valued functions prepare a
// statement each time they run, which would cost more than all of these.
var stateChecks = []struct {
	query string
	want  int64
}{
	{"SELECT count(*) FROM temp.sqlite_master", 0},
	{"PRAGMA foreign_keys", 1},
	{"PRAGMA query_only", 0},
	{"PRAGMA busy_timeout", 10000},
	{"PRAGMA recursive_triggers", 0},
}

// changesQueries tell whether anything was written since they last ran on
// the same connection: total_changes counts the rows this connection
// changed, data_version changes when another connection commits.
var changesQueries = []string{"SELECT total_changes()", "PRAGMA data_version"}

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
	schemaVersion, databases, begin, commit, rollback driver.Stmt
	checks, changes, reset                            []driver.Stmt
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

// discard closes the database and removes its files.
func (p *pooledDB) discard() error {
	p.close()
	err := p.db.Close()
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(p.path + suffix)
	}
	if err != nil {
		return fmt.Errorf("mockservices: close SQLite database %s: %w", p.path, err)
	}
	return nil
}

func (cs *connStmts) closeAll() {
	if cs == nil {
		return
	}
	all := []driver.Stmt{cs.schemaVersion, cs.databases, cs.begin, cs.commit, cs.rollback}
	all = append(append(append(all, cs.checks...), cs.changes...), cs.reset...)
	for _, s := range all {
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

type resetJob struct {
	key string
	pd  *pooledDB
	st  *templateState
}

// get returns an idle database made from the template key, or nil. When
// every database of key is still being reset, it waits for one: a reset
// costs far less than making a database.
func (p *sqlitePool) get(key string) *pooledDB {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.idle[key]) == 0 && p.pending[key] > 0 {
		p.returned.Wait()
	}
	dbs := p.idle[key]
	if len(dbs) == 0 {
		return nil
	}
	pd := dbs[len(dbs)-1]
	p.idle[key] = dbs[:len(dbs)-1]
	return pd
}

// put hands pd to the background reset, after which it is kept for the
// next test with the template key; it reports false when pd cannot be
// kept, and the caller must discard it.
func (p *sqlitePool) put(key string, pd *pooledDB) bool {
	st := stateOf(key)
	if st == nil || st.err != nil || pd.db.Stats().InUse > 0 {
		return false
	}
	p.mu.Lock()
	if len(p.idle[key])+p.pending[key] >= maxIdlePerKey {
		p.mu.Unlock()
		return false
	}
	if p.work == nil {
		p.idle = map[string][]*pooledDB{}
		p.pending = map[string]int{}
		p.returned = sync.NewCond(&p.mu)
		p.work = make(chan resetJob, 64)
		go p.resetLoop()
	}
	p.pending[key]++
	p.mu.Unlock()
	p.work <- resetJob{key: key, pd: pd, st: st}
	return true
}

// resetLoop resets released databases for as long as the process lives.
func (p *sqlitePool) resetLoop() {
	for j := range p.work {
		err := j.pd.resetTo(context.Background(), j.st)
		p.mu.Lock()
		p.pending[j.key]--
		if err == nil {
			p.idle[j.key] = append(p.idle[j.key], j.pd)
		}
		p.returned.Broadcast()
		p.mu.Unlock()
		if err != nil {
			_ = j.pd.discard()
		}
	}
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
	if p.db.Stats().InUse > 0 {
		return errNotResettable
	}
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
		if err := cs.checkState(ctx, st); err != nil {
			return err
		}
		changes, err := cs.readChanges(ctx)
		if err != nil {
			return err
		}
		if c == p.clean && changes == p.cleanState {
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
		if changes, err = cs.readChanges(ctx); err != nil {
			return err
		}
		p.clean, p.cleanState = c, changes
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
	}{{&cs.schemaVersion, "PRAGMA schema_version"}, {&cs.databases, "PRAGMA database_list"},
		{&cs.begin, "BEGIN IMMEDIATE"}, {&cs.commit, "COMMIT"}, {&cs.rollback, "ROLLBACK"}} {
		if *x.dst, err = prep(x.q); err != nil {
			return nil, err
		}
	}
	for _, c := range stateChecks {
		s, err := prep(c.query)
		if err != nil {
			return nil, err
		}
		cs.checks = append(cs.checks, s)
	}
	for _, q := range changesQueries {
		s, err := prep(q)
		if err != nil {
			return nil, err
		}
		cs.changes = append(cs.changes, s)
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

// checkState returns errNotResettable unless the connection's database
// has the template's schema and the connection the fake's state.
func (cs *connStmts) checkState(ctx context.Context, st *templateState) error {
	v, err := queryInts(ctx, cs.schemaVersion, 1)
	if err != nil {
		return err
	}
	if v[0] != st.schemaVersion {
		return errNotResettable
	}
	for i, c := range stateChecks {
		v, err := queryInts(ctx, cs.checks[i], 1)
		if err != nil {
			return err
		}
		if v[0] != c.want {
			return errNotResettable
		}
	}
	// No attached database: only main (and temp) are listed.
	rows, err := cs.databases.(driver.StmtQueryContext).QueryContext(ctx, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(vals); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if name := fmt.Sprint(vals[1]); name != "main" && name != "temp" {
			return errNotResettable
		}
	}
}

// readChanges runs changesQueries.
func (cs *connStmts) readChanges(ctx context.Context) ([2]int64, error) {
	var out [2]int64
	for i, s := range cs.changes {
		v, err := queryInts(ctx, s, 1)
		if err != nil {
			return out, err
		}
		out[i] = v[0]
	}
	return out, nil
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
