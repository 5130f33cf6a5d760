package sqlitefake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
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
// the migrations made (schema_version unchanged), no connection or
// transaction is still in use, and the migrations made no triggers (a
// trigger could write rows while the reset deletes them). Anything else
// closes and removes the database, as when pooling is off. A reset deletes
// every row of every table, puts back the rows the migrations wrote (such
// as their version table's), and restores the AUTOINCREMENT counters, so
// the next test sees exactly what a fresh copy would hold.
//
// Settings are state too. Those of a connection (every pragma of
// modernc.org/sqlite's SQLite but the ones below, and case_sensitive_like),
// an open transaction, temporary objects and attached databases can only
// change through a statement with PRAGMA, BEGIN, SAVEPOINT, TEMP or ATTACH
// in its text; the fake's connections note any such statement (see
// connState), and the pool then closes the connection, so the next test
// gets a new one with the fake's settings, and checks what the file keeps:
// the schema text (writable_schema), journal_mode, auto_vacuum and
// page_size (a database that differs is discarded), and user_version,
// application_id and default_cache_size (the reset puts them back). A test
// that runs none of these statements costs no check. soft_heap_limit,
// hard_heap_limit and temp_store_directory are settings of the process, not
// of a database, and no reset can isolate them.
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
	// file are the settings the database file keeps, as the migrations
	// left them (see fileSettings), and schema its sqlite_master.
	file   [len(fileSettings)]int64
	schema string
	// reset are the statements, run in one transaction with foreign keys
	// deferred, that rewrite a database to the template's rows: a DELETE
	// and at most one INSERT per table, so they stay few enough for the
	// connection's statement cache.
	reset []string
	// err is why databases of this template cannot be reset.
	err error
}

// changesQueries tell whether anything was written since they last ran on
// the same connection: total_changes counts the rows this connection
// changed, data_version changes when another connection commits.
var changesQueries = []string{"SELECT total_changes()", "PRAGMA data_version"}

// pooledDB is a database of the pool. Its check and reset statements go
// through the connection's statement cache (see stmtcache.go), so they are
// parsed once per connection and finalized with it.
type pooledDB struct {
	db    *sql.DB
	path  string
	conns *connState
	// clean is the driver connection and its changesQueries results right
	// after the last reset: when they are unchanged at release, nothing was
	// written.
	clean      any
	cleanState [2]int64
}

// discard closes the database and removes its files.
func (p *pooledDB) discard() error {
	err := p.db.Close()
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(p.path + suffix)
	}
	if err != nil {
		return fmt.Errorf("mockservices: close SQLite database %s: %w", p.path, err)
	}
	return nil
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
	for i, s := range fileSettings {
		if err := db.QueryRowContext(ctx, "PRAGMA "+s.name).Scan(&st.file[i]); err != nil {
			return fail(err)
		}
	}
	if err := db.QueryRowContext(ctx, schemaQuery).Scan(&st.schema); err != nil {
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
		// Build one INSERT of the template's rows with SQLite's own
		// quote(), so every value round-trips exactly.
		quoted := make([]string, len(cols))
		idents := make([]string, len(cols))
		for i, c := range cols {
			idents[i] = quoteIdent(c)
			quoted[i] = "quote(" + quoteIdent(c) + ")"
		}
		q := fmt.Sprintf("SELECT '(' || %s || ')' FROM %s", strings.Join(quoted, " || ', ' || "), quoteIdent(t))
		rows, err := queryStrings(ctx, db, q)
		if err != nil {
			return fail(err)
		}
		if len(rows) > 0 {
			reset = append(reset, fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", quoteIdent(t), strings.Join(idents, ", "), strings.Join(rows, ", ")))
		}
	}
	var hasSeq int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'").Scan(&hasSeq); err != nil {
		return fail(err)
	}
	if hasSeq > 0 {
		reset = append(reset, "DELETE FROM sqlite_sequence")
		seqs, err := queryStrings(ctx, db, "SELECT '(' || quote(name) || ', ' || quote(seq) || ')' FROM sqlite_sequence")
		if err != nil {
			return fail(err)
		}
		if len(seqs) > 0 {
			reset = append(reset, "INSERT INTO sqlite_sequence (name, seq) VALUES "+strings.Join(seqs, ", "))
		}
	}
	st.reset = reset
	return st
}

// errNotResettable is returned when a test left a database in a state a
// reset cannot undo exactly.
var errNotResettable = errors.New("mockservices: the test changed the database's schema or connection state")

// fileSettings are the pragmas whose values the database file keeps:
// those of reset are put back by the reset, the others are only checked.
var fileSettings = [...]struct {
	name  string
	reset bool
}{
	{"user_version", true},
	{"application_id", true},
	{"default_cache_size", true},
	{"auto_vacuum", false},
	{"page_size", false},
}

// schemaQuery reads the schema as a whole, to tell an edit of
// sqlite_master under writable_schema, which leaves schema_version alone.
const schemaQuery = "SELECT coalesce(group_concat(type || ' ' || name || ' ' || tbl_name || ' ' || rootpage || ' ' || coalesce(sql, ''), char(10)), '') FROM (SELECT * FROM sqlite_master ORDER BY rowid)"

// resetTo checks that the database can be reset exactly and, unless
// nothing was written since its last reset, resets it to the template state
// st. The pool keeps at most one idle connection per database and nothing
// else uses the database now, so the connection pinned here is the only one
// whose state could differ; when the test ran a statement that may have
// changed it, that connection is closed and the reset runs on a new one.
func (p *pooledDB) resetTo(ctx context.Context, st *templateState) error {
	if p.db.Stats().InUse > 0 {
		return errNotResettable
	}
	touched := p.conns.touched.Load()
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return err
	}
	if touched {
		// database/sql closes a connection whose Raw returns ErrBadConn.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		if conn, err = p.db.Conn(ctx); err != nil {
			return err
		}
	}
	defer conn.Close()
	var id any
	if err := conn.Raw(func(dc any) error { id = dc; return nil }); err != nil {
		return err
	}
	fix, err := checkState(ctx, conn, st, touched)
	if err != nil {
		return err
	}
	changes, err := readChanges(ctx, conn)
	if err != nil {
		return err
	}
	if !touched && id == p.clean && changes == p.cleanState {
		p.conns.touched.Store(false) // by the checks
		return nil                   // nothing was written: the database is as it was
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, q := range append(st.reset, fix...) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if len(fix) > 0 {
		// Setting default_cache_size set this connection's cache_size
		// too: the next test gets a new connection.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		p.clean = nil
		p.conns.touched.Store(false)
		return nil
	}
	if changes, err = readChanges(ctx, conn); err != nil {
		return err
	}
	p.clean, p.cleanState = id, changes
	p.conns.touched.Store(false)
	return nil
}

// checkState returns errNotResettable unless the connection's database
// has the template's schema. When the test touched the database's settings
// (see connState), it also checks those the file keeps, and returns the
// statements that put back the ones a reset can.
func checkState(ctx context.Context, conn *sql.Conn, st *templateState, touched bool) (fix []string, err error) {
	var v int64
	if err := conn.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&v); err != nil {
		return nil, err
	}
	if v != st.schemaVersion {
		return nil, errNotResettable
	}
	if !touched {
		return nil, nil
	}
	var mode, schema string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, err
	}
	if err := conn.QueryRowContext(ctx, schemaQuery).Scan(&schema); err != nil {
		return nil, err
	}
	if mode != "wal" || schema != st.schema {
		return nil, errNotResettable
	}
	for i, s := range fileSettings {
		if err := conn.QueryRowContext(ctx, "PRAGMA "+s.name).Scan(&v); err != nil {
			return nil, err
		}
		switch {
		case v == st.file[i]:
		case s.reset:
			want := st.file[i]
			if s.name == "default_cache_size" {
				// It reads as the default (negative) when the file holds
				// 0, which is what setting 0 writes back.
				want = max(want, 0)
			}
			fix = append(fix, fmt.Sprintf("PRAGMA %s = %d", s.name, want))
		default:
			return nil, errNotResettable
		}
	}
	return fix, nil
}

// readChanges runs changesQueries.
func readChanges(ctx context.Context, conn *sql.Conn) ([2]int64, error) {
	var out [2]int64
	for i, q := range changesQueries {
		if err := conn.QueryRowContext(ctx, q).Scan(&out[i]); err != nil {
			return out, err
		}
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
