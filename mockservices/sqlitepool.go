package mockservices

import (
	"context"
	"database/sql"
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
	// deferred, that rewrite a database to the template's rows: a DELETE
	// and at most one INSERT per table, so they stay few enough for the
	// connection's statement cache.
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

// pooledDB is a database of the pool. Its check and reset statements go
// through the connection's statement cache (see stmtcache.go), so they are
// parsed once per connection and finalized with it.
type pooledDB struct {
	db   *sql.DB
	path string
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
	var id any
	if err := conn.Raw(func(dc any) error { id = dc; return nil }); err != nil {
		return err
	}
	if err := checkState(ctx, conn, st); err != nil {
		return err
	}
	changes, err := readChanges(ctx, conn)
	if err != nil {
		return err
	}
	if id == p.clean && changes == p.cleanState {
		return nil // nothing was written: the database is as it was
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, q := range st.reset {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if changes, err = readChanges(ctx, conn); err != nil {
		return err
	}
	p.clean, p.cleanState = id, changes
	return nil
}

// checkState returns errNotResettable unless the connection's database
// has the template's schema and the connection the fake's state.
func checkState(ctx context.Context, conn *sql.Conn, st *templateState) error {
	var v int64
	if err := conn.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&v); err != nil {
		return err
	}
	if v != st.schemaVersion {
		return errNotResettable
	}
	for _, c := range stateChecks {
		if err := conn.QueryRowContext(ctx, c.query).Scan(&v); err != nil {
			return err
		}
		if v != c.want {
			return errNotResettable
		}
	}
	// No attached database: only main (and temp) are listed.
	rows, err := conn.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var name string
		var file sql.NullString
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return err
		}
		if name != "main" && name != "temp" {
			return errNotResettable
		}
	}
	return rows.Err()
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
