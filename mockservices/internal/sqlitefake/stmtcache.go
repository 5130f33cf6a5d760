package sqlitefake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"reflect"
	"strings"
	"sync/atomic"

	"modernc.org/sqlite"
)

// The SQLite fake caches prepared statements per connection, by SQL text,
// as pgx does for PostgreSQL: modernc.org/sqlite prepares every
// db.Query/db.Exec anew, and parsing a statement costs more than running a
// typical one. A connection of the fake outlives tests (see the pool), so
// a plugin's queries are parsed once per process rather than once per
// call. No driver offers this for SQLite; it is a thin wrapper.

// maxCachedStmts bounds the statements cached per connection; queries
// beyond it are prepared each time, as without the cache.
const maxCachedStmts = 128

// openCachingSQLite opens dsn with the modernc.org/sqlite driver behind
// the statement cache, and returns what the connections report of the
// statements they run.
func openCachingSQLite(dsn string) (*sql.DB, *connState) {
	st := &connState{}
	return sql.OpenDB(cachingConnector{dsn: dsn, drv: &sqlite.Driver{}, state: st}), st
}

// connState is shared by the connections of one database.
type connState struct {
	// touched is set when a connection ran a statement that may change
	// what a rollback or a reset of the rows does not restore: a
	// connection's settings (PRAGMA), an open transaction (BEGIN,
	// SAVEPOINT as text), an attached database or a temporary object. The
	// pool then closes the connection, rather than checking every setting
	// a test could have changed, and checks the settings stored in the
	// file (see resetTo).
	touched atomic.Bool
}

// touches reports whether query may touch state beyond rows, by its
// keywords. False positives only cost the slow reset.
func touches(query string) bool {
	for _, kw := range touchKeywords {
		if containsFold(query, kw) {
			return true
		}
	}
	return false
}

var touchKeywords = []string{"pragma", "begin", "savepoint", "attach", "temp"}

// containsFold reports whether s contains kw, lower-case ASCII letters,
// in any case.
func containsFold(s, kw string) bool {
	for i := 0; i+len(kw) <= len(s); i++ {
		if s[i]|0x20 == kw[0] && strings.EqualFold(s[i:i+len(kw)], kw) {
			return true
		}
	}
	return false
}

type cachingConnector struct {
	dsn   string
	drv   driver.Driver
	state *connState
}

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{inner: conn, stmts: map[string]*cachedStmt{}, state: c.state}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.drv }

// cachingConn is a connection with its statement cache. database/sql uses
// a connection from one goroutine at a time, so it needs no lock.
type cachingConn struct {
	inner driver.Conn
	stmts map[string]*cachedStmt
	state *connState
}

type cachedStmt struct {
	stmt driver.Stmt
	// busy is set while rows of the statement are open: a query that
	// needs the same SQL meanwhile (nested) is prepared apart.
	busy bool
	// touches: see connState.touched.
	touches bool
}

// ran records that query is about to run.
func (c *cachingConn) ran(cs *cachedStmt, query string) {
	if cs != nil && !cs.touches {
		return
	}
	if cs != nil || touches(query) {
		c.state.touched.Store(true)
	}
}

// cached returns the cached statement of query, preparing it on first
// use, or nil when it is busy or the cache is full.
func (c *cachingConn) cached(ctx context.Context, query string) (*cachedStmt, error) {
	if cs := c.stmts[query]; cs != nil {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil, nil
	}
	s, err := c.inner.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{stmt: s, touches: touches(query)}
	c.stmts[query] = cs
	return cs, nil
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	c.ran(cs, query)
	if cs == nil {
		return c.inner.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, stmt: cs}, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	c.ran(cs, query)
	if cs == nil {
		return c.inner.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	for _, cs := range c.stmts {
		cs.stmt.Close()
	}
	c.stmts = nil
	return c.inner.Close()
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) {
	c.ran(nil, query)
	return c.inner.Prepare(query)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.ran(nil, query)
	return c.inner.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) Begin() (driver.Tx, error) { return c.inner.Begin() } //nolint:staticcheck // part of driver.Conn

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.inner.(driver.Pinger).Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.inner.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.inner.(driver.Validator).IsValid() }

// Unwrap returns the modernc.org/sqlite connection, for code that reaches
// it with sql.Conn.Raw (to use its backup or hook methods). What runs on it
// is not watched, so the pool treats the connection as touched.
func (c *cachingConn) Unwrap() driver.Conn {
	c.state.touched.Store(true)
	return c.inner
}

// cachedRows marks its statement free again when closed, and passes the
// column type information of the driver's rows through.
type cachedRows struct {
	driver.Rows
	stmt *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.stmt.busy = false
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return x.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return x.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if x, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
