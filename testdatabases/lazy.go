package testdatabases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// A source hands out per-test databases of one engine, migration hash and
// isolation tier, prepared in the background.
type source interface {
	// acquire takes a database, waiting for one if none is ready.
	acquire(ctx context.Context) (lease, error)
	// driver is the driver of the test's connections, known before any
	// database is taken.
	driver() driver.Driver
	// maxIdleConns is the number of idle connections the test's *sql.DB
	// keeps (database/sql's default, 2, when 0).
	maxIdleConns() int
}

// lease is one test's database, from acquire until release.
type lease interface {
	// connector opens the test's connections (the first may be one that
	// was opened ahead of time).
	connector() driver.Connector
	name() string
	// share prepares the database for clients that connect on their own.
	share(ctx context.Context) error
	url() string
	driverDSN() (string, string)
	// release gives the database back after the test's *sql.DB is closed;
	// keep keeps it (a failed test's database, see KeepFailed).
	release(keep bool, logf func(string, ...any))
}

// handle takes a DB's database from its source when the test first needs
// it, rather than when Init returns: a test paused in t.Parallel then holds
// no database, so paused tests cannot hold every database while the
// running ones wait for one.
type handle struct {
	id  ID
	iso Isolation
	src source
	t   testing.TB // nil for Set.Open

	ready atomic.Bool   // l is set
	sem   chan struct{} // held while acquiring
	mu    sync.Mutex
	l     lease
	err   error // why no database could be had; later calls fail alike
	// closed: the DB was closed; done: its test finished (t must not be
	// used any more); reported: err was reported on t.
	closed, done, reported bool
}

func newDB(id ID, iso Isolation, src source, t testing.TB) *DB {
	h := &handle{id: id, iso: iso, src: src, t: t, sem: make(chan struct{}, 1)}
	db := sql.OpenDB(lazyConnector{h})
	if n := src.maxIdleConns(); n > 0 {
		db.SetMaxIdleConns(n)
	}
	return &DB{
		DB:        db,
		ID:        id,
		Dialect:   id.Dialect(),
		Isolation: iso,
		h:         h,
	}
}

var errClosed = errors.New("the test's database was already released (the test ended or DB.Close was called)")

// get returns the lease, taking a database on first use.
func (h *handle) get(ctx context.Context) (lease, error) {
	if h.ready.Load() {
		return h.l, nil
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, h.describe(ctx.Err())
	}
	defer func() { <-h.sem }()
	h.mu.Lock()
	switch {
	case h.l != nil:
		h.mu.Unlock()
		return h.l, nil
	case h.err != nil:
		h.mu.Unlock()
		return nil, h.err
	case h.closed:
		h.mu.Unlock()
		return nil, h.describe(errClosed)
	}
	h.mu.Unlock()

	l, err := h.src.acquire(ctx)

	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		err = h.describe(err)
		if ctx.Err() != nil {
			// The caller gave up; another call may still succeed.
			return nil, err
		}
		h.err = err
		if h.t != nil && !h.done && !h.reported {
			// Errorf is safe from any goroutine while the test runs; done
			// is set (under mu) before the test's cleanups finish.
			h.reported = true
			h.t.Errorf("%v", err)
		}
		return nil, err
	}
	if h.closed {
		go l.release(false, func(string, ...any) {})
		return nil, h.describe(errClosed)
	}
	h.l = l
	h.ready.Store(true)
	return l, nil
}

// describe says which database of which test could not be had.
func (h *handle) describe(err error) error {
	who := "Set.Open"
	if h.t != nil {
		who = "test " + h.t.Name()
	}
	return &acquireError{id: h.id, iso: h.iso, who: who, err: err}
}

// close marks the handle closed and returns the lease to release, if a
// database was taken and this is the first close.
func (h *handle) close() lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed, h.done = true, true
	return h.l
}

// acquireError reports that a test's database could not be had: the
// statement that first needed it returns it, and the test fails with it.
type acquireError struct {
	id  ID
	iso Isolation
	who string // "test <name>" or "Set.Open"
	err error  // the cause, with the fix where one is known
}

func (e *acquireError) Error() string {
	return fmt.Sprintf("testdatabases: %s got no %s database (%s isolation): %v", e.who, e.id, e.iso, e.err)
}

func (e *acquireError) Unwrap() error { return e.err }

// lazyConnector is the connector of a DB's *sql.DB: the first connection
// takes the database.
type lazyConnector struct{ h *handle }

func (c lazyConnector) Connect(ctx context.Context) (driver.Conn, error) {
	l, err := c.h.get(ctx)
	if err != nil {
		return nil, err
	}
	return l.connector().Connect(ctx)
}

func (c lazyConnector) Driver() driver.Driver { return c.h.src.driver() }

// warmConnector hands out a connection opened ahead of time first, then
// opens new ones with next.
type warmConnector struct {
	mu   sync.Mutex
	conn driver.Conn
	next driver.Connector
}

func (w *warmConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if c := w.take(); c != nil {
		return c, nil
	}
	return w.next.Connect(ctx)
}

func (w *warmConnector) Driver() driver.Driver { return w.next.Driver() }

// take returns the connection opened ahead if nobody took it yet.
func (w *warmConnector) take() driver.Conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.conn
	w.conn = nil
	return c
}

// dsnConnector opens connections with a driver that has no connector of
// its own (modernc.org/sqlite).
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }
