package txmux

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeConn records the SQL sent to the "server"; statements containing
// "fail" return an error, and queries return one row whose []byte value the
// driver then overwrites (as real drivers reuse buffers).
type fakeConn struct {
	mu  sync.Mutex
	log []string
	buf []byte
}

func (c *fakeConn) record(q string) {
	c.mu.Lock()
	c.log = append(c.log, q)
	c.mu.Unlock()
}

func (c *fakeConn) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.log
	c.log = nil
	return l
}

func (c *fakeConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("no prepare") }
func (c *fakeConn) Close() error                        { return nil }
func (c *fakeConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}
func (c *fakeConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	c.record("REAL BEGIN")
	return fakeTx{c}, nil
}
func (c *fakeConn) ExecContext(_ context.Context, q string, _ []driver.NamedValue) (driver.Result, error) {
	c.record(q)
	if strings.Contains(q, "fail") {
		return nil, errors.New("statement failed")
	}
	return driver.RowsAffected(1), nil
}
func (c *fakeConn) QueryContext(_ context.Context, q string, _ []driver.NamedValue) (driver.Rows, error) {
	c.record(q)
	if strings.Contains(q, "fail") {
		return nil, errors.New("query failed")
	}
	c.buf = []byte("value")
	return &fakeRows{c: c}, nil
}

type fakeTx struct{ c *fakeConn }

func (t fakeTx) Commit() error   { t.c.record("REAL COMMIT"); return nil }
func (t fakeTx) Rollback() error { t.c.record("REAL ROLLBACK"); return nil }

type fakeRows struct {
	c    *fakeConn
	done bool
}

func (r *fakeRows) Columns() []string { return []string{"v"} }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.done {
		copy(r.c.buf, "XXXXX") // the driver reuses its buffer
		return io.EOF
	}
	r.done = true
	dest[0] = r.c.buf
	return nil
}

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("use the connector") }

func open(t *testing.T, d Dialect) (*sql.DB, *fakeConn, *Session) {
	t.Helper()
	fc := &fakeConn{}
	s := NewSession(fc, d, Hooks{}, true)
	db := sql.OpenDB(s.Connector(fakeDriver{}))
	t.Cleanup(func() { db.Close() })
	return db, fc, s
}

func equal(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("server saw\n  %q\nwant\n  %q", got, want)
	}
}

func TestPostgresStatementsAndSavepoints(t *testing.T) {
	db, fc, s := open(t, Postgres)
	// The first statement needs no savepoint; a failure restarts the outer
	// transaction, because nothing of the test is in it yet.
	db.Exec("fail 1")
	equal(t, fc.take(), "fail 1", "ROLLBACK; BEGIN")
	db.Exec("INSERT 1")
	equal(t, fc.take(), "INSERT 1")
	// From now on a failing statement rolls back to its own savepoint.
	db.Exec("INSERT 2")
	equal(t, fc.take(), "SAVEPOINT greenroom_auto", "INSERT 2")
	db.Exec("fail 2")
	equal(t, fc.take(), "RELEASE SAVEPOINT greenroom_auto; SAVEPOINT greenroom_auto", "fail 2", "ROLLBACK TO SAVEPOINT greenroom_auto")
	// A transaction is a savepoint.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	tx.Exec("INSERT 3")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	equal(t, fc.take(), "SAVEPOINT greenroom_tx_1", "INSERT 3", "RELEASE SAVEPOINT greenroom_tx_1")
	tx, _ = db.Begin()
	tx.Rollback()
	equal(t, fc.take(), "SAVEPOINT greenroom_tx_2", "ROLLBACK TO SAVEPOINT greenroom_tx_2; RELEASE SAVEPOINT greenroom_tx_2")
	st := s.Close()
	if st.Taint != "" || !st.Used || !st.InOuter {
		t.Errorf("state = %+v", st)
	}
	if _, err := db.Exec("INSERT 4"); err == nil {
		t.Error("statement after Close succeeded")
	}
}

func TestTransactionTextGoesDirect(t *testing.T) {
	db, fc, s := open(t, Postgres)
	db.Exec("INSERT 1")
	fc.take()
	db.Exec("COMMIT")
	equal(t, fc.take(), "COMMIT", "COMMIT") // ours (the outer transaction), then the test's
	tx, _ := db.Begin()
	tx.Commit()
	equal(t, fc.take(), "REAL BEGIN", "REAL COMMIT")
	if st := s.Close(); st.Taint == "" || st.InOuter {
		t.Errorf("state = %+v, want tainted and no outer transaction", st)
	}
}

func TestMySQLImplicitCommit(t *testing.T) {
	db, fc, s := open(t, MySQL)
	tx, _ := db.Begin()
	tx.Exec("INSERT 1")
	tx.Exec("CREATE TABLE x (id int)")
	// MySQL committed the transaction before the DDL: ending it is a no-op.
	if err := tx.Rollback(); err != nil {
		t.Errorf("rollback after implicit commit: %v", err)
	}
	equal(t, fc.take(), "SAVEPOINT greenroom_tx_1", "INSERT 1", "COMMIT", "CREATE TABLE x (id int)")
	if st := s.Close(); st.Taint == "" || !st.DDL {
		t.Errorf("state = %+v", st)
	}
}

func TestMySQLSessionState(t *testing.T) {
	db, _, s := open(t, MySQL)
	db.Exec("SET @x = 1")
	db.Exec("SELECT GET_LOCK('a', 0)")
	if st := s.Close(); !st.SessionDirty || !st.NamedLocks || st.Taint != "" {
		t.Errorf("state = %+v", st)
	}
}

func TestRowsAreCopied(t *testing.T) {
	db, _, _ := open(t, MySQL)
	var v []byte
	if err := db.QueryRow("SELECT v").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if string(v) != "value" {
		t.Errorf("value = %q: the buffer was not copied", v)
	}
}

func TestTransactionOwnsTheSession(t *testing.T) {
	db, fc, _ := open(t, MySQL)
	tx, _ := db.Begin()
	done := make(chan struct{})
	go func() {
		db.Exec("INSERT other")
		close(done)
	}()
	tx.Exec("INSERT in tx")
	tx.Commit()
	<-done
	// The other connection's statement ran after the transaction ended.
	equal(t, fc.take(), "SAVEPOINT greenroom_tx_1", "INSERT in tx", "RELEASE SAVEPOINT greenroom_tx_1", "INSERT other")
}

// With Hooks.Unshadow the session leaves its shadow tables before anything
// that could tell them from the real ones, once, and keeps the outer
// transaction where it can.
func TestMySQLUnshadow(t *testing.T) {
	cases := []struct {
		name      string
		stmts     []string
		committed bool     // what the hook reports
		want      []string // server log
		keepTx    []bool   // hook calls
		tainted   bool     // recycled the slow way
	}{
		{"plain statements stay shadowed",
			[]string{"INSERT INTO t0 (a) VALUES (1)", "SELECT * FROM t1", "SHOW TABLES"}, false,
			[]string{"INSERT INTO t0 (a) VALUES (1)", "SELECT * FROM t1", "SHOW TABLES"}, nil, false},
		{"SHOW CREATE TABLE keeps the transaction",
			[]string{"SHOW CREATE TABLE t0", "SELECT 1 FROM information_schema.TABLES"}, false,
			[]string{"UNSHADOW", "SHOW CREATE TABLE t0", "SELECT 1 FROM information_schema.TABLES"}, []bool{true}, false},
		{"information_schema, counters need DDL",
			[]string{"select * from INFORMATION_SCHEMA.tables", "INSERT INTO t0 (a) VALUES (1)"}, true,
			[]string{"UNSHADOW", "select * from INFORMATION_SCHEMA.tables", "INSERT INTO t0 (a) VALUES (1)"}, []bool{true}, true},
		{"temporary table", []string{"CREATE TEMPORARY TABLE t0 (a int)"}, false,
			[]string{"UNSHADOW", "CREATE TEMPORARY TABLE t0 (a int)"}, []bool{true}, false},
		{"prepared SHOW", []string{"PREPARE s FROM 'SHOW CREATE TABLE t0'"}, false,
			[]string{"UNSHADOW", "PREPARE s FROM 'SHOW CREATE TABLE t0'"}, []bool{true}, false},
		{"CALL", []string{"CALL p()"}, false, []string{"UNSHADOW", "CALL p()"}, []bool{true}, true},
		{"DDL commits through the hook", []string{"DROP TABLE t0", "TRUNCATE t1"}, true,
			[]string{"UNSHADOW", "DROP TABLE t0", "TRUNCATE t1"}, []bool{false}, true},
		{"transaction text", []string{"BEGIN"}, true, []string{"UNSHADOW", "BEGIN"}, []bool{false}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fc := &fakeConn{}
			var calls []bool
			h := Hooks{
				Watch: []string{"t0", "t1", "t2"},
				Unshadow: func(_ context.Context, phys driver.Conn, keepTx bool) (bool, error) {
					phys.(*fakeConn).record("UNSHADOW")
					calls = append(calls, keepTx)
					return c.committed || !keepTx, nil
				},
			}
			s := NewSession(fc, MySQL, h, true)
			db := sql.OpenDB(s.Connector(fakeDriver{}))
			defer db.Close()
			for _, q := range c.stmts {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			equal(t, fc.take(), c.want...)
			if len(calls) != len(c.keepTx) || (len(calls) > 0 && calls[0] != c.keepTx[0]) {
				t.Errorf("Unshadow calls (keepTx) = %v, want %v", calls, c.keepTx)
			}
			st := s.Close()
			if st.Unshadowed != (len(c.keepTx) > 0) || (st.Taint != "") != c.tainted {
				t.Errorf("state = %+v", st)
			}
			wantMentioned := []bool{false, false, false}
			for i, n := range h.Watch {
				for _, q := range c.stmts {
					if strings.Contains(q, n) {
						wantMentioned[i] = true
					}
				}
			}
			if !slicesEqual(st.Mentioned, wantMentioned) {
				t.Errorf("Mentioned = %v, want %v", st.Mentioned, wantMentioned)
			}
		})
	}
}

func slicesEqual(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestUserSavepoint(t *testing.T) {
	for q, want := range map[string]bool{
		"SAVEPOINT s1":                       true,
		"savepoint s1;":                      true,
		"ROLLBACK TO SAVEPOINT s1":           true,
		"ROLLBACK TO s1":                     true,
		"rollback work to savepoint s1":      true,
		"RELEASE SAVEPOINT s1":               true,
		"RELEASE s1":                         true,
		"ROLLBACK":                           false,
		"ROLLBACK AND CHAIN":                 false,
		"COMMIT":                             false,
		"SAVEPOINT greenroom_tx_1":           false, // the session's own
		"RELEASE SAVEPOINT GREENROOM_AUTO":   false,
		`SAVEPOINT "quoted"`:                 false, // not read: the safe way
		"SAVEPOINT s1; COMMIT":               false,
		"SAVEPOINT s1 /* c */":               false, // comments can hide statements (MySQL /*! */)
		"SAVEPOINT s1 /*! ; COMMIT */":       false,
		"SAVEPOINT s1 -- c\nCOMMIT":          false,
		"SAVEPOINT s1 # c":                   false,
		"ROLLBACK TO SAVEPOINT s1; SELECT 1": false,
	} {
		for _, mysql := range []bool{false, true} {
			if got := userSavepoint(q, mysql); got != want {
				t.Errorf("userSavepoint(%q, mysql=%v) = %v, want %v", q, mysql, got, want)
			}
		}
	}
}

// A savepoint of the test inside its transaction runs as it is; outside a
// transaction it still takes the session direct (it would fail on
// PostgreSQL either way, as on a real connection).
func TestUserSavepointsNestInTheTransaction(t *testing.T) {
	db, fc, s := open(t, Postgres)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SAVEPOINT s1", "INSERT 1", "ROLLBACK TO SAVEPOINT s1", "RELEASE SAVEPOINT s1"} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	equal(t, fc.take(), "SAVEPOINT greenroom_tx_1", "SAVEPOINT s1", "INSERT 1", "ROLLBACK TO SAVEPOINT s1", "RELEASE SAVEPOINT s1", "RELEASE SAVEPOINT greenroom_tx_1")
	if _, err := db.Exec("SAVEPOINT s2"); err != nil {
		t.Fatal(err)
	}
	equal(t, fc.take(), "COMMIT", "SAVEPOINT s2")
	if st := s.Close(); st.Taint == "" {
		t.Errorf("state = %+v, want tainted by the savepoint outside a transaction", st)
	}
}

// blockingConn is a fakeConn whose statement "block" runs until the
// Interrupt hook stops it; the driver never sees a cancelled context.
type blockingConn struct {
	fakeConn
	started   chan struct{}
	interrupt chan struct{}
}

func (c *blockingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if q != "block" {
		return c.fakeConn.ExecContext(ctx, q, args)
	}
	c.record(q)
	close(c.started)
	select {
	case <-c.interrupt:
		return nil, errors.New("canceling statement due to user request")
	case <-ctx.Done():
		return nil, errors.New("the driver saw the cancellation and closed the connection")
	}
}

func TestCancelledStatementIsInterrupted(t *testing.T) {
	bc := &blockingConn{started: make(chan struct{}), interrupt: make(chan struct{})}
	var interrupts int
	s := NewSession(bc, Postgres, Hooks{Interrupt: func(phys driver.Conn) error {
		interrupts++
		close(phys.(*blockingConn).interrupt)
		return nil
	}}, false)
	db := sql.OpenDB(s.Connector(fakeDriver{}))
	defer db.Close()
	if _, err := db.Exec("INSERT 1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, "block")
		done <- err
	}()
	<-bc.started
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "user request") {
		t.Errorf("cancelled statement = %v, want context.Canceled wrapping the server's error", err)
	}
	if interrupts != 1 {
		t.Errorf("%d interrupts, want 1", interrupts)
	}
	if _, err := db.Exec("INSERT 2"); err != nil {
		t.Errorf("statement after the cancellation: %v", err)
	}
	equal(t, bc.take(), "BEGIN", "INSERT 1", "SAVEPOINT greenroom_auto", "block", "ROLLBACK TO SAVEPOINT greenroom_auto",
		"RELEASE SAVEPOINT greenroom_auto; SAVEPOINT greenroom_auto", "INSERT 2")
	if st := s.Close(); st.Broken != nil {
		t.Errorf("session broken: %v", st.Broken)
	}
	// A statement whose context is done before it runs does not run.
	if _, err := db.ExecContext(ctx, "INSERT 3"); !errors.Is(err, context.Canceled) {
		t.Errorf("statement with a done context = %v", err)
	}
}

// releaseFails is a fakeConn on which the transaction's RELEASE fails, as
// on PostgreSQL after an error in the transaction.
type releaseFails struct{ fakeConn }

func (c *releaseFails) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if q == "RELEASE SAVEPOINT greenroom_tx_1" {
		c.record(q)
		return nil, errors.New("current transaction is aborted")
	}
	return c.fakeConn.ExecContext(ctx, q, args)
}

// A commit that fails because the transaction failed wraps the driver's
// error for it.
func TestCommitRolledBack(t *testing.T) {
	rc := &releaseFails{}
	errRolledBack := errors.New("commit unexpectedly resulted in rollback")
	s := NewSession(rc, Postgres, Hooks{CommitRolledBack: errRolledBack}, true)
	db := sql.OpenDB(s.Connector(fakeDriver{}))
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	err = tx.Commit()
	if !errors.Is(err, errRolledBack) || !strings.Contains(err.Error(), "current transaction is aborted") {
		t.Errorf("commit = %v, want the driver's rolled-back error wrapping the server's", err)
	}
	equal(t, rc.take(), "SAVEPOINT greenroom_tx_1", "RELEASE SAVEPOINT greenroom_tx_1",
		"ROLLBACK TO SAVEPOINT greenroom_tx_1; RELEASE SAVEPOINT greenroom_tx_1")
}

// Unshadowing inside a transaction: before its first statement the
// savepoint is moved after the unshadowing (exact); after a write, rolling
// the transaction back is exact when the test did nothing before it, and
// otherwise breaks the session with an explanation.
func TestUnshadowInsideATransaction(t *testing.T) {
	const rollback = "ROLLBACK TO SAVEPOINT greenroom_tx_1; RELEASE SAVEPOINT greenroom_tx_1"
	for _, c := range []struct {
		name          string
		before, stmts []string
		want          []string
		rollbackOK    bool
	}{
		{"first statement", []string{"INSERT INTO t0 VALUES (0)"}, []string{"SHOW CREATE TABLE t0", "INSERT INTO t0 VALUES (1)"},
			[]string{"INSERT INTO t0 VALUES (0)", "SAVEPOINT greenroom_tx_1", "RELEASE SAVEPOINT greenroom_tx_1", "UNSHADOW", "SAVEPOINT greenroom_tx_1",
				"SHOW CREATE TABLE t0", "INSERT INTO t0 VALUES (1)", rollback}, true},
		{"after a write, the test's first transaction", nil, []string{"INSERT INTO t0 VALUES (1)", "SHOW CREATE TABLE t0"},
			[]string{"SAVEPOINT greenroom_tx_1", "INSERT INTO t0 VALUES (1)", "UNSHADOW", "SHOW CREATE TABLE t0", rollback}, true},
		{"after a write, after the test wrote", []string{"INSERT INTO t0 VALUES (0)"}, []string{"INSERT INTO t0 VALUES (1)", "SHOW CREATE TABLE t0"},
			[]string{"INSERT INTO t0 VALUES (0)", "SAVEPOINT greenroom_tx_1", "INSERT INTO t0 VALUES (1)", "UNSHADOW", "SHOW CREATE TABLE t0", rollback}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fc := &fakeConn{}
			s := NewSession(fc, MySQL, Hooks{Unshadow: func(_ context.Context, phys driver.Conn, keepTx bool) (bool, error) {
				phys.(*fakeConn).record("UNSHADOW")
				return false, nil
			}}, true)
			db := sql.OpenDB(s.Connector(fakeDriver{}))
			defer db.Close()
			for _, q := range c.before {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range c.stmts {
				if _, err := tx.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			err = tx.Rollback()
			equal(t, fc.take(), c.want...)
			if c.rollbackOK {
				if err != nil {
					t.Errorf("rollback: %v", err)
				}
				if _, err := db.Exec("SELECT 1"); err != nil {
					t.Errorf("statement after the rollback: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "Run that statement before the transaction begins") {
				t.Errorf("rollback = %v, want an explanation", err)
			}
			if _, err := db.Exec("SELECT 1"); err == nil || !strings.Contains(err.Error(), "shadow tables") {
				t.Errorf("statement after the lossy rollback = %v, want the explanation", err)
			}
		})
	}
}

// A statement that waits for another connection's transaction of the same
// test fails with the fix, which names the Clone tier: a test whose code
// uses the pool inside a transaction needs real connections.
func TestWaitForTransactionNamesTheFix(t *testing.T) {
	t.Parallel()
	db, _, s := open(t, Postgres)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// The transaction holds the session: the wait cannot end otherwise.
	s.mu.Lock()
	s.wait = time.Nanosecond
	s.mu.Unlock()
	_, err = db.Exec("INSERT 1")
	for _, want := range []string{"waited", "for a transaction on another connection", "Fix:", "testdatabases.Clone"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("statement outside the open transaction = %v, want an error with %q", err, want)
		}
	}
}
