// Package txmux multiplexes any number of database/sql connections of one
// test onto a single physical server session that runs inside an outer
// transaction, so that everything the test does can be undone with one
// ROLLBACK.
//
// Mapping:
//   - every driver.Conn handed to database/sql is a virtual connection;
//   - a virtual connection's transaction becomes a SAVEPOINT; Commit becomes
//     RELEASE SAVEPOINT and Rollback becomes ROLLBACK TO SAVEPOINT;
//   - a virtual transaction owns the session until it ends: statements of
//     other virtual connections wait for it, like a second session would wait
//     for a row lock (they do not see its uncommitted rows half-way);
//   - query results are read completely before the session is released, so
//     several result sets can be open at once, from any goroutine;
//   - on PostgreSQL a failed statement outside a virtual transaction must not
//     abort the outer transaction, so each such statement runs under an
//     automatic savepoint that is rolled back on error.
//
// When a statement would escape the outer transaction (transaction control
// text, MySQL DDL that commits implicitly, or a caller switching to direct
// mode to share the database with other sessions), the session switches to
// direct mode: the outer transaction is committed and from then on statements
// run as they would on a plain connection. The session is then "tainted" and
// its owner must recycle the database the slow way.
package txmux

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/testdatabases/internal/sqlscan"
)

// Dialect selects SQL details.
type Dialect int

const (
	Postgres Dialect = iota
	MySQL
)

// Hooks let the engine interpret driver errors.
type Hooks struct {
	// TxLost reports whether err means the server rolled back the whole
	// outer transaction (MySQL deadlock). May be nil.
	TxLost func(err error) bool
	// AfterDDL runs after a schema change succeeded, with the session
	// locked (PostgreSQL: forget cached statement plans). May be nil.
	AfterDDL func(ctx context.Context, phys driver.Conn) error
	// Unshadow, when set, means the session's tables are shadowed by
	// session-local copies (MySQL TEMPORARY tables of the same names) that
	// only this session can see. It is called, with the session locked and
	// at most once, before anything that would tell the copies from the
	// real tables: before the session goes direct (other sessions must see
	// what the test wrote), before a statement that creates or drops a
	// temporary table or that inspects table definitions (SHOW CREATE TABLE,
	// SHOW TABLE STATUS, information_schema). It must move the copies'
	// contents into the real tables and drop the copies. keepTx reports
	// whether the outer transaction is open and should stay open; committed
	// reports that Unshadow had to commit it (then the session goes direct).
	Unshadow func(ctx context.Context, phys driver.Conn, keepTx bool) (committed bool, err error)
	// Watch lists names (lower case) to look for in the test's SQL text;
	// State.Mentioned reports which of them appeared in any statement.
	// (A shadow table's counter can only move through a statement that
	// names it: routines, triggers and views disqualify a template from
	// shadowing, and CALL, EXECUTE and PREPARE leave the shadows.)
	Watch []string
	// Interrupt, when set, stops the statement phys is running, from
	// another connection (PostgreSQL: a cancel request; MySQL: KILL
	// QUERY). With it, a statement whose context is cancelled is stopped
	// on the server and the session stays usable, as a real connection
	// pool stays usable; without it the driver's own cancellation may close
	// the session's only connection. The driver then never sees the
	// cancellation: statements run with context.WithoutCancel.
	Interrupt func(phys driver.Conn) error
	// CommitRolledBack, when set, is the error a failed commit wraps, as
	// the driver reports a COMMIT of a failed transaction
	// (pgx.ErrTxCommitRollback).
	CommitRolledBack error
}

// Session is one physical connection in an outer transaction, shared by the
// virtual connections of one test.
type Session struct {
	phys    driver.Conn
	dialect Dialect
	hooks   Hooks

	lock chan struct{} // held while a statement runs or a virtual tx is open
	pm   sync.Mutex    // held during each call on phys

	mu        sync.Mutex
	direct    bool   // outer transaction no longer exists
	inOuter   bool   // outer transaction has been started (PostgreSQL starts it lazily)
	autoSP    bool   // PostgreSQL automatic savepoint exists
	pristine  bool   // the outer transaction holds nothing of the test yet
	owner     *vconn // virtual connection whose transaction holds lock
	spSeq     int
	taint     string // why the database must be recycled the slow way
	sessDirty bool   // session state that a rollback does not undo
	ddl       bool   // the schema was changed (and will be rolled back)
	locks     bool   // MySQL named locks (server-wide) may be held
	used      bool   // any statement ran
	broken    error
	closed    bool
	shadowed  bool   // Hooks.Unshadow has yet to run
	mentioned []bool // per Hooks.Watch
	unshadow  bool   // Hooks.Unshadow ran
	wait      time.Duration
	waiting   int // statements waiting for the session lock
}

// NewSession wraps phys, which must be idle and (for MySQL) already inside the
// outer transaction when outerStarted is true. For PostgreSQL pass false: the
// outer transaction is started together with the first statement.
func NewSession(phys driver.Conn, d Dialect, h Hooks, outerStarted bool) *Session {
	return &Session{phys: phys, dialect: d, hooks: h, lock: make(chan struct{}, 1), inOuter: outerStarted, pristine: true, wait: 30 * time.Second, shadowed: h.Unshadow != nil, mentioned: make([]bool, len(h.Watch))}
}

// Connector returns a driver.Connector for sql.OpenDB whose connections are
// virtual connections on s.
func (s *Session) Connector(d driver.Driver) driver.Connector { return connector{s, d} }

// State reports what the test did, for recycling. Call after Close.
type State struct {
	Taint        string // non-empty: recycle the slow way (reason)
	SessionDirty bool   // session state must be reset (reconnect)
	Used         bool
	DDL          bool   // the test changed the schema
	NamedLocks   bool   // MySQL GET_LOCK was called: release before reuse
	Broken       error  // the physical connection is unusable
	InOuter      bool   // the outer transaction is open (roll it back)
	Unshadowed   bool   // Hooks.Unshadow ran
	Mentioned    []bool // which Hooks.Watch names appeared in the test's SQL
}

// Close detaches the session from its virtual connections: later use of
// them fails. It waits for a running statement or open virtual transaction
// for at most the lock wait and then returns the state.
func (s *Session) Close() State {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.pm.Lock() // wait for a call in flight
	defer s.pm.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{Taint: s.taint, SessionDirty: s.sessDirty, Used: s.used, DDL: s.ddl, NamedLocks: s.locks, Broken: s.broken, InOuter: s.inOuter && !s.direct, Unshadowed: s.unshadow, Mentioned: s.mentioned}
}

// do runs f on the physical connection unless the session was closed.
func (s *Session) do(f func() error) error {
	s.pm.Lock()
	defer s.pm.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("testdatabases: the test's database was released (the test ended): %w", driver.ErrBadConn)
	}
	return f()
}

// Waiting reports how many calls wait for the session: for a statement or
// a transaction of another virtual connection to end, or for a free
// session. Tests use it to tell "waits" from "slow" without a clock.
func (s *Session) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

// interruptible runs f, a call on the physical connection, for a statement
// whose context is ctx. With Hooks.Interrupt the driver gets a context
// that is never cancelled, and a cancellation of ctx while f runs
// interrupts the statement on the server instead; the caller then gets
// ctx's error (wrapping the statement's, if any), as from a driver that
// was cancelled. The interrupt is sent only while f runs, and f returns
// only after it was sent, so that it cannot reach the next statement.
func (s *Session) interruptible(ctx context.Context, f func(ctx context.Context) error) error {
	if s.hooks.Interrupt == nil || ctx.Done() == nil {
		return f(ctx)
	}
	var (
		mu          sync.Mutex
		running     = true
		interrupted bool
	)
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if running {
			interrupted = true
			// Failing to interrupt leaves the statement to finish by itself;
			// the caller gets ctx's error either way.
			_ = s.hooks.Interrupt(s.phys)
		}
	})
	err := f(context.WithoutCancel(ctx))
	mu.Lock()
	running = false
	mu.Unlock()
	stop()
	if !interrupted {
		return err
	}
	if err == nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w (%w)", ctx.Err(), err)
}

// Physical returns the physical connection (for the owner, after Close).
func (s *Session) Physical() driver.Conn { return s.phys }

// Taint marks the session for slow recycling and switches it to direct mode
// so that other sessions (opened with the connection string) see what the
// test wrote and do not wait on its locks.
func (s *Session) GoDirect(ctx context.Context, reason string) error {
	if err := s.acquire(ctx, nil); err != nil {
		return err
	}
	defer s.release(nil)
	return s.goDirectLocked(ctx, reason)
}

// acquire takes the session lock for v unless v's transaction holds it.
func (s *Session) acquire(ctx context.Context, v *vconn) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("testdatabases: the test's database was released (the test ended): %w", driver.ErrBadConn)
	}
	if s.broken != nil {
		err := s.broken
		s.mu.Unlock()
		return fmt.Errorf("testdatabases: the database session is unusable: %v: %w", err, driver.ErrBadConn)
	}
	if v != nil && s.owner == v {
		s.mu.Unlock()
		return nil
	}
	wait := s.wait
	s.waiting++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
	}()
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout:
		return fmt.Errorf("testdatabases: a statement waited %v for a transaction on another connection of the same test to end; "+
			"all connections of a test share one database session, so a statement outside a transaction waits while "+
			"another connection's transaction is open. Fix: run the statements inside the transaction on the transaction, "+
			"or give the test a real connection pool with testdatabases.Clone (Set.With(testdatabases.Clone), or Init(t, id, testdatabases.Clone))", wait)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		<-s.lock
		return fmt.Errorf("testdatabases: the test's database was released (the test ended): %w", driver.ErrBadConn)
	}
	return nil
}

func (s *Session) release(v *vconn) {
	s.mu.Lock()
	owned := v != nil && s.owner == v
	s.mu.Unlock()
	if !owned {
		<-s.lock
	}
}

// control runs SQL without arguments on the physical connection. It is
// not cancelled with ctx: a control statement cut short could leave the
// session's transactions in an unknown state (and some drivers close the
// connection on cancellation).
func (s *Session) control(ctx context.Context, q string) error {
	ex, ok := s.phys.(driver.ExecerContext)
	if !ok {
		return errors.New("testdatabases: driver connection does not implement ExecContext")
	}
	ctx = context.WithoutCancel(ctx)
	err := s.do(func() error { _, err := ex.ExecContext(ctx, q, nil); return err })
	if err != nil {
		return fmt.Errorf("testdatabases: %q: %w", q, err)
	}
	return nil
}

func (s *Session) fail(err error) error {
	s.mu.Lock()
	if s.broken == nil {
		s.broken = err
	}
	s.mu.Unlock()
	return err
}

// goDirectLocked commits the outer transaction. Caller holds the lock.
func (s *Session) goDirectLocked(ctx context.Context, reason string) error {
	s.mu.Lock()
	if s.taint == "" {
		s.taint = reason
	}
	shadowed := s.shadowed
	if s.direct && !shadowed {
		s.mu.Unlock()
		return nil
	}
	wasDirect := s.direct
	s.direct = true
	inOuter := s.inOuter
	owner := s.owner
	s.autoSP = false
	s.shadowed = false
	s.mu.Unlock()
	if owner != nil && !wasDirect {
		// The open virtual transaction is committed with the outer one, as
		// MySQL does for DDL inside a transaction.
		owner.tx.implicitlyEnded = true
	}
	if shadowed {
		// Unshadow commits (it may need DDL after the commit).
		s.mu.Lock()
		s.unshadow = true
		s.mu.Unlock()
		if err := s.do(func() error { _, err := s.hooks.Unshadow(ctx, s.phys, false); return err }); err != nil {
			return s.fail(fmt.Errorf("testdatabases: moving the test's rows out of the session's temporary tables: %w", err))
		}
		return nil
	}
	if inOuter {
		if err := s.control(ctx, "COMMIT"); err != nil {
			return s.fail(err)
		}
	}
	return nil
}

// unshadowLocked runs Hooks.Unshadow keeping the outer transaction when it
// can. Caller holds the lock; the session is shadowed and not direct; q is
// the statement that needs it, run by v.
//
// Inside a transaction of the test the rows are moved after the
// transaction's savepoint, so rolling the transaction back would take them
// back out of the real tables while the shadow copies are gone: the rows
// the test wrote before the transaction would be lost. When nothing ran in
// the transaction yet, the savepoint is released and set again around the
// move, which is exact; when nothing ran before the transaction, the real
// tables after a rollback are what the test had (the template's rows);
// otherwise the transaction is marked, and rolling it back breaks the
// session with an explanation (see vtx.end).
func (s *Session) unshadowLocked(ctx context.Context, v *vconn, q string) error {
	s.mu.Lock()
	s.shadowed = false
	s.unshadow = true
	var t *vtx
	if v != nil && s.owner == v {
		t = v.tx
	}
	s.mu.Unlock()
	exact := t != nil && t.real == nil && t.stmts == 0
	if exact {
		if err := s.control(ctx, "RELEASE SAVEPOINT "+t.sp); err != nil {
			return s.fail(err)
		}
	}
	var committed bool
	err := s.do(func() (err error) { committed, err = s.hooks.Unshadow(ctx, s.phys, true); return err })
	if err != nil {
		return s.fail(fmt.Errorf("testdatabases: moving the test's rows out of the session's temporary tables: %w", err))
	}
	if committed {
		s.mu.Lock()
		s.direct = true
		s.autoSP = false
		if s.taint == "" {
			s.taint = "restoring AUTO_INCREMENT counters of the session's temporary tables needed DDL"
		}
		s.mu.Unlock()
	}
	switch {
	case exact && committed:
		// The outer transaction is gone: the test's transaction goes on as
		// a real one.
		b, ok := s.phys.(driver.ConnBeginTx)
		if !ok {
			return s.fail(errors.New("testdatabases: driver connection does not implement BeginTx"))
		}
		if err := s.do(func() (err error) {
			t.real, err = b.BeginTx(context.WithoutCancel(ctx), driver.TxOptions{})
			return err
		}); err != nil {
			return s.fail(err)
		}
	case exact:
		if err := s.control(ctx, "SAVEPOINT "+t.sp); err != nil {
			return s.fail(err)
		}
	case t != nil && committed:
		// As MySQL does for DDL inside a transaction.
		t.implicitlyEnded = true
	case t != nil && t.afterWork:
		t.unshadowedBy = q
	}
	return nil
}

// before prepares the session for one statement of v (lock held).
// It returns whether an automatic savepoint guards the statement.
func (s *Session) before(ctx context.Context, v *vconn, q string) (stmtInfo, error) {
	f := sqlscan.Classify(q, s.dialect == MySQL)
	info := stmtInfo{ddl: f&sqlscan.DDL != 0}
	s.mu.Lock()
	s.used = true
	if f&sqlscan.DDL != 0 {
		s.ddl = true
	}
	if s.dialect == MySQL && containsFold(q, "get_lock") {
		s.locks = true
	}
	if f&sqlscan.SessionState != 0 {
		s.sessDirty = true
	}
	if len(s.hooks.Watch) > 0 {
		lq := strings.ToLower(q)
		for i, n := range s.hooks.Watch {
			if !s.mentioned[i] && strings.Contains(lq, n) {
				s.mentioned[i] = true
			}
		}
	}
	direct := s.direct
	shadowed := s.shadowed
	inTx := s.owner == v && v != nil
	s.mu.Unlock()
	if shadowed && direct {
		// The server ended the outer transaction (deadlock): the session is
		// a plain one now, so its tables must be the real ones.
		if err := s.goDirectLocked(ctx, ""); err != nil {
			return info, err
		}
	} else if shadowed && (f&(sqlscan.Introspect|sqlscan.Call) != 0 || containsFold(q, "information_schema") ||
		(f&sqlscan.SessionState != 0 && (containsFold(q, "temporary") || containsFold(q, "show")))) {
		// The statement could tell the session's shadow tables from the
		// real ones, or collide with their names; a procedure or a
		// prepared statement (PREPARE ... FROM 'SHOW CREATE ...') is
		// opaque, so it gets the real tables too.
		if err := s.unshadowLocked(ctx, v, q); err != nil {
			return info, err
		}
		s.mu.Lock()
		direct = s.direct
		s.mu.Unlock()
	}
	if inTx {
		v.tx.stmts++
	}
	if !direct {
		switch {
		case f&sqlscan.TxControl != 0 && inTx && userSavepoint(q, s.dialect == MySQL):
			// A savepoint of the test's own inside its transaction (nested
			// transactions, error recovery on PostgreSQL) nests inside the
			// transaction's savepoint: it runs as it is.
		case f&sqlscan.TxControl != 0:
			if err := s.goDirectLocked(ctx, "the test ran transaction control statements as SQL text"); err != nil {
				return info, err
			}
			direct = true
		case s.dialect == MySQL && f&sqlscan.ImplicitCommit != 0:
			if err := s.goDirectLocked(ctx, "the test ran a statement that commits implicitly on MySQL (DDL)"); err != nil {
				return info, err
			}
			direct = true
		case s.dialect == MySQL && f&sqlscan.Call != 0:
			// A procedure may commit: keep the outer transaction but never
			// trust it for reuse.
			s.mu.Lock()
			if s.taint == "" {
				s.taint = "the test called a stored procedure, which may commit"
			}
			s.mu.Unlock()
		}
	}
	if direct || inTx || s.dialect != Postgres {
		return info, nil
	}
	s.mu.Lock()
	if s.pristine {
		// Nothing to lose yet: no savepoint; if the statement fails, the
		// outer transaction is simply restarted.
		begin := !s.inOuter
		s.mu.Unlock()
		if begin {
			if err := s.control(ctx, "BEGIN"); err != nil {
				return info, s.fail(err)
			}
			s.mu.Lock()
			s.inOuter = true
			s.mu.Unlock()
		}
		info.restart = true
		return info, nil
	}
	var pre string
	if !s.inOuter {
		pre = "BEGIN; SAVEPOINT greenroom_auto"
	} else if s.autoSP {
		pre = "RELEASE SAVEPOINT greenroom_auto; SAVEPOINT greenroom_auto"
	} else {
		pre = "SAVEPOINT greenroom_auto"
	}
	s.mu.Unlock()
	if err := s.control(ctx, pre); err != nil {
		return info, s.fail(err)
	}
	s.mu.Lock()
	s.inOuter, s.autoSP = true, true
	s.mu.Unlock()
	info.auto = true
	return info, nil
}

// stmtInfo describes one statement: whether an automatic savepoint guards
// it and whether it changes the schema.
type stmtInfo struct{ auto, restart, ddl bool }

// after handles a statement's outcome (lock held).
func (s *Session) after(ctx context.Context, info stmtInfo, err error) error {
	autoSP := info.auto
	if err == nil {
		s.mu.Lock()
		s.pristine = false
		s.mu.Unlock()
		if info.ddl && s.hooks.AfterDDL != nil {
			if herr := s.do(func() error { return s.hooks.AfterDDL(ctx, s.phys) }); herr != nil {
				return s.fail(herr)
			}
		}
		return nil
	}
	if errors.Is(err, driver.ErrBadConn) || isClosedConn(s.phys) {
		return s.fail(err)
	}
	if s.hooks.TxLost != nil && s.hooks.TxLost(err) {
		s.mu.Lock()
		if !s.direct {
			s.direct = true
			if s.taint == "" {
				s.taint = "the server rolled back the test's outer transaction (deadlock)"
			}
			if s.owner != nil {
				s.owner.tx.implicitlyEnded = true
			}
		}
		s.mu.Unlock()
		return err
	}
	switch {
	case autoSP:
		if rerr := s.control(ctx, "ROLLBACK TO SAVEPOINT greenroom_auto"); rerr != nil {
			s.fail(rerr)
		}
	case info.restart:
		if rerr := s.control(ctx, "ROLLBACK; BEGIN"); rerr != nil {
			s.fail(rerr)
		}
	}
	return err
}

// userSavepoint reports whether q is a single statement that sets, rolls
// back to or releases a savepoint of the caller's: SAVEPOINT x,
// ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT] x, RELEASE [SAVEPOINT] x.
//
// It matches the whole text against a strict pattern instead of scanning
// it: a statement run as it is must not hide anything else, and text with
// comments or quotes can read differently per server setting (MySQL
// executable comments, backslash escapes). Anything with a comment, a
// quoted name or a second statement is not a user savepoint, and takes the
// safe path. Names of the session's own savepoints (greenroom_...) do not
// count. mysql is accepted for symmetry with the scanner; both dialects
// spell these statements alike.
func userSavepoint(q string, mysql bool) bool {
	_ = mysql
	m := userSavepointRE.FindStringSubmatch(q)
	return m != nil && !strings.HasPrefix(strings.ToLower(m[1]), "greenroom_")
}

var userSavepointRE = regexp.MustCompile(`(?i)^[ \t\r\n]*(?:SAVEPOINT|ROLLBACK(?:[ \t\r\n]+(?:WORK|TRANSACTION))?[ \t\r\n]+TO(?:[ \t\r\n]+SAVEPOINT)?|RELEASE(?:[ \t\r\n]+SAVEPOINT)?)[ \t\r\n]+([A-Za-z_][A-Za-z0-9_]*)[ \t\r\n]*;?[ \t\r\n]*$`)

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func isClosedConn(c driver.Conn) bool {
	if v, ok := c.(driver.Validator); ok {
		return !v.IsValid()
	}
	return false
}

type connector struct {
	s *Session
	d driver.Driver
}

func (c connector) Connect(context.Context) (driver.Conn, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.closed {
		return nil, errors.New("testdatabases: the test's database was released (the test ended)")
	}
	return &vconn{s: c.s}, nil
}

func (c connector) Driver() driver.Driver { return c.d }

// vconn is one virtual connection.
type vconn struct {
	s      *Session
	tx     *vtx
	closed bool
}

var (
	_ driver.Conn               = (*vconn)(nil)
	_ driver.ConnBeginTx        = (*vconn)(nil)
	_ driver.ExecerContext      = (*vconn)(nil)
	_ driver.QueryerContext     = (*vconn)(nil)
	_ driver.ConnPrepareContext = (*vconn)(nil)
	_ driver.Pinger             = (*vconn)(nil)
	_ driver.NamedValueChecker  = (*vconn)(nil)
	_ driver.SessionResetter    = (*vconn)(nil)
	_ driver.Validator          = (*vconn)(nil)
)

func (v *vconn) Prepare(q string) (driver.Stmt, error) {
	return v.PrepareContext(context.Background(), q)
}

func (v *vconn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return &vstmt{v: v, q: q}, nil
}

func (v *vconn) Close() error {
	if v.tx != nil {
		_ = v.tx.Rollback()
	}
	v.closed = true
	return nil
}

func (v *vconn) Begin() (driver.Tx, error) {
	return v.BeginTx(context.Background(), driver.TxOptions{})
}

func (v *vconn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if v.tx != nil {
		return nil, errors.New("testdatabases: transaction already in progress on this connection")
	}
	s := v.s
	if err := s.acquire(ctx, v); err != nil {
		return nil, err
	}
	s.mu.Lock()
	direct, inOuter := s.direct, s.inOuter
	s.spSeq++
	name := fmt.Sprintf("greenroom_tx_%d", s.spSeq)
	afterWork := !s.pristine
	s.mu.Unlock()
	t := &vtx{v: v, sp: name, afterWork: afterWork}
	var err error
	if direct {
		if b, ok := s.phys.(driver.ConnBeginTx); ok {
			// Not cancelled with ctx: drivers close a connection whose
			// call is cancelled, and the session has only this one.
			err = s.do(func() (err error) { t.real, err = b.BeginTx(context.WithoutCancel(ctx), opts); return err })
		} else {
			err = errors.New("testdatabases: driver connection does not implement BeginTx")
		}
	} else {
		q := "SAVEPOINT " + name
		if s.dialect == Postgres && !inOuter {
			q = "BEGIN; " + q
		}
		err = s.control(ctx, q)
		if err == nil {
			s.mu.Lock()
			s.inOuter = true
			s.mu.Unlock()
		}
	}
	if err != nil {
		<-s.lock
		return nil, s.after(ctx, stmtInfo{}, err)
	}
	s.mu.Lock()
	s.owner = v
	s.used = true
	s.pristine = false
	s.mu.Unlock()
	v.tx = t
	return t, nil
}

func (v *vconn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	s := v.s
	if err := s.acquire(ctx, v); err != nil {
		return nil, err
	}
	defer s.release(v)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	info, err := s.before(ctx, v, q)
	if err != nil {
		return nil, err
	}
	ex, ok := s.phys.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	var r result
	err = s.do(func() error {
		return s.interruptible(ctx, func(ctx context.Context) error {
			res, err := ex.ExecContext(ctx, q, args)
			if err != nil {
				return err
			}
			// Resolve lazily computed results while the session is ours.
			r.id, r.idErr = res.LastInsertId()
			r.n, r.nErr = res.RowsAffected()
			return nil
		})
	})
	if err := s.after(ctx, info, err); err != nil {
		return nil, err
	}
	return r, nil
}

type result struct {
	id    int64
	idErr error
	n     int64
	nErr  error
}

func (r result) LastInsertId() (int64, error) { return r.id, r.idErr }
func (r result) RowsAffected() (int64, error) { return r.n, r.nErr }

func (v *vconn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	s := v.s
	if err := s.acquire(ctx, v); err != nil {
		return nil, err
	}
	defer s.release(v)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	info, err := s.before(ctx, v, q)
	if err != nil {
		return nil, err
	}
	qu, ok := s.phys.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	var b *brows
	err = s.do(func() error {
		return s.interruptible(ctx, func(ctx context.Context) error {
			rows, err := qu.QueryContext(ctx, q, args)
			if err != nil {
				return err
			}
			b, err = buffer(rows)
			return err
		})
	})
	if err := s.after(ctx, info, err); err != nil {
		return nil, err
	}
	return b, nil
}

func (v *vconn) Ping(ctx context.Context) error {
	s := v.s
	if err := s.acquire(ctx, v); err != nil {
		return err
	}
	defer s.release(v)
	if p, ok := s.phys.(driver.Pinger); ok {
		// Not cancelled with ctx, as BeginTx.
		return s.do(func() error { return p.Ping(context.WithoutCancel(ctx)) })
	}
	return nil
}

func (v *vconn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := v.s.phys.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (v *vconn) ResetSession(context.Context) error {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	if v.s.closed || v.s.broken != nil {
		return driver.ErrBadConn
	}
	return nil
}

func (v *vconn) IsValid() bool {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	return !v.s.closed && v.s.broken == nil && !v.closed
}

// vtx is a virtual transaction: a savepoint, or a real transaction in
// direct mode.
type vtx struct {
	v               *vconn
	sp              string
	real            driver.Tx
	implicitlyEnded bool
	done            bool
	stmts           int    // statements run in it so far
	afterWork       bool   // statements of the test ran before it began
	unshadowedBy    string // the statement that unshadowed the session inside it (MySQL)
}

func (t *vtx) Commit() error   { return t.end(true) }
func (t *vtx) Rollback() error { return t.end(false) }

func (t *vtx) end(commit bool) error {
	if t.done {
		return errors.New("testdatabases: transaction has already been committed or rolled back")
	}
	t.done = true
	v, s := t.v, t.v.s
	ctx := context.Background()
	defer func() {
		s.mu.Lock()
		if s.owner == v {
			s.owner = nil
			s.mu.Unlock()
			<-s.lock
		} else {
			s.mu.Unlock()
		}
		v.tx = nil
	}()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return driver.ErrBadConn
	}
	switch {
	case t.implicitlyEnded:
		return nil
	case t.real != nil:
		if commit {
			return s.do(t.real.Commit)
		}
		return s.do(t.real.Rollback)
	case commit:
		err := s.control(ctx, "RELEASE SAVEPOINT "+t.sp)
		if err != nil {
			// PostgreSQL: the transaction failed; roll it back like COMMIT would.
			if rerr := s.control(ctx, "ROLLBACK TO SAVEPOINT "+t.sp+"; RELEASE SAVEPOINT "+t.sp); rerr != nil {
				s.fail(rerr)
			}
			if s.hooks.CommitRolledBack != nil {
				return fmt.Errorf("testdatabases: %w (%w)", s.hooks.CommitRolledBack, err)
			}
			return fmt.Errorf("testdatabases: commit failed, transaction rolled back: %w", err)
		}
		return nil
	default:
		q := "ROLLBACK TO SAVEPOINT " + t.sp + "; RELEASE SAVEPOINT " + t.sp
		if err := s.control(ctx, q); err != nil {
			return s.fail(err)
		}
		if t.unshadowedBy != "" {
			return s.fail(fmt.Errorf("testdatabases: a transaction was rolled back after a statement in it (%.80q) "+
				"needed the rows of the session's MySQL shadow tables moved into the real tables; the rollback took them out again, "+
				"so what the test wrote before the transaction is lost and the database cannot be used for the rest of the test. "+
				"Run that statement before the transaction begins (or before any transaction: once moved, the rows stay)", t.unshadowedBy))
		}
		return nil
	}
}

// vstmt runs its query text on each execution (no server-side statement).
type vstmt struct {
	v *vconn
	q string
}

func (st *vstmt) Close() error  { return nil }
func (st *vstmt) NumInput() int { return -1 }
func (st *vstmt) Exec(args []driver.Value) (driver.Result, error) {
	return st.v.ExecContext(context.Background(), st.q, named(args))
}
func (st *vstmt) Query(args []driver.Value) (driver.Rows, error) {
	return st.v.QueryContext(context.Background(), st.q, named(args))
}
func (st *vstmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return st.v.ExecContext(ctx, st.q, args)
}
func (st *vstmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return st.v.QueryContext(ctx, st.q, args)
}
func (st *vstmt) CheckNamedValue(nv *driver.NamedValue) error { return st.v.CheckNamedValue(nv) }

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return out
}

// ---- buffered rows ----

type colType struct {
	dbType            string
	scan              reflect.Type
	length            int64
	hasLength         bool
	nullable, hasNull bool
	prec, scale       int64
	hasPrec           bool
}

type resultSet struct {
	cols  []string
	types []colType
	rows  [][]driver.Value
}

type brows struct {
	sets []resultSet
	set  int
	pos  int
}

func capture(r driver.Rows) (resultSet, error) {
	rs := resultSet{cols: r.Columns()}
	rs.types = make([]colType, len(rs.cols))
	for i := range rs.cols {
		ct := &rs.types[i]
		if x, ok := r.(driver.RowsColumnTypeDatabaseTypeName); ok {
			ct.dbType = x.ColumnTypeDatabaseTypeName(i)
		}
		if x, ok := r.(driver.RowsColumnTypeScanType); ok {
			ct.scan = x.ColumnTypeScanType(i)
		}
		if x, ok := r.(driver.RowsColumnTypeLength); ok {
			ct.length, ct.hasLength = x.ColumnTypeLength(i)
		}
		if x, ok := r.(driver.RowsColumnTypeNullable); ok {
			ct.nullable, ct.hasNull = x.ColumnTypeNullable(i)
		}
		if x, ok := r.(driver.RowsColumnTypePrecisionScale); ok {
			ct.prec, ct.scale, ct.hasPrec = x.ColumnTypePrecisionScale(i)
		}
	}
	for {
		dest := make([]driver.Value, len(rs.cols))
		err := r.Next(dest)
		if err == io.EOF {
			return rs, nil
		}
		if err != nil {
			return rs, err
		}
		for i, d := range dest {
			if b, ok := d.([]byte); ok {
				dest[i] = append([]byte(nil), b...)
			}
		}
		rs.rows = append(rs.rows, dest)
	}
}

func buffer(r driver.Rows) (*brows, error) {
	defer r.Close()
	b := &brows{}
	for {
		rs, err := capture(r)
		if err != nil {
			return nil, err
		}
		b.sets = append(b.sets, rs)
		nrs, ok := r.(driver.RowsNextResultSet)
		if !ok || !nrs.HasNextResultSet() {
			break
		}
		if err := nrs.NextResultSet(); err != nil {
			if err == io.EOF {
				break
			}
			return nil, err
		}
	}
	return b, nil
}

func (b *brows) cur() *resultSet { return &b.sets[b.set] }

func (b *brows) Columns() []string { return b.cur().cols }
func (b *brows) Close() error      { return nil }
func (b *brows) Next(dest []driver.Value) error {
	rs := b.cur()
	if b.pos >= len(rs.rows) {
		return io.EOF
	}
	copy(dest, rs.rows[b.pos])
	b.pos++
	return nil
}
func (b *brows) HasNextResultSet() bool { return b.set+1 < len(b.sets) }
func (b *brows) NextResultSet() error {
	if !b.HasNextResultSet() {
		return io.EOF
	}
	b.set++
	b.pos = 0
	return nil
}
func (b *brows) ColumnTypeDatabaseTypeName(i int) string { return b.cur().types[i].dbType }
func (b *brows) ColumnTypeScanType(i int) reflect.Type {
	if t := b.cur().types[i].scan; t != nil {
		return t
	}
	return reflect.TypeOf(new(any)).Elem()
}
func (b *brows) ColumnTypeLength(i int) (int64, bool) {
	t := b.cur().types[i]
	return t.length, t.hasLength
}
func (b *brows) ColumnTypeNullable(i int) (bool, bool) {
	t := b.cur().types[i]
	return t.nullable, t.hasNull
}
func (b *brows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	t := b.cur().types[i]
	return t.prec, t.scale, t.hasPrec
}
