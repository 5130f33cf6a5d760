package testdatabases_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

// eachServer runs f with a Clone-mode Set of one server engine per
// subtest ("postgres15", "mariadb10"); an engine without a connection
// string skips (fails under CI=true).
func eachServer(t *testing.T, f func(t *testing.T, db *testdatabases.DB)) {
	t.Helper()
	for _, id := range []testdatabases.ID{testdatabases.Postgres15, testdatabases.MariaDB10} {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			requireEngine(t, id)
			db := testdatabases.New(t, id, testdatabases.WithMigrator(isoSchema)).Init(t, id, testdatabases.Clone)
			if db.Isolation != testdatabases.Clone {
				t.Fatalf("Isolation = %v, want clone", db.Isolation)
			}
			f(t, db)
		})
	}
}

// testContext is a context that ends shortly before the test's deadline,
// so that a wait that never ends fails the test with a message.
func testContext(t *testing.T) context.Context {
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		c, cancel := context.WithDeadline(ctx, d.Add(-5*time.Second))
		t.Cleanup(cancel)
		ctx = c
	}
	return ctx
}

// conn returns a connection of its own and its server session id.
func conn(t *testing.T, ctx context.Context, db *testdatabases.DB) (*sql.Conn, int64) {
	t.Helper()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	q := "SELECT CONNECTION_ID()"
	if db.Dialect == testdatabases.DialectPostgres {
		q = "SELECT pg_backend_pid()"
	}
	var id int64
	if err := c.QueryRowContext(ctx, q).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return c, id
}

// waitLockWait waits until the server reports that session waits for a
// lock held by another transaction, by asking it; it fails t when ctx ends
// first.
//
// On MySQL/MariaDB it reads SHOW ENGINE INNODB STATUS, which is made anew
// for every call: information_schema.INNODB_TRX is a cache that is only
// refreshed after 0.1 s without readers, so asking it in a loop would
// never see the wait.
func waitLockWait(t *testing.T, ctx context.Context, db *testdatabases.DB, session int64) {
	t.Helper()
	for {
		var waits bool
		if db.Dialect == testdatabases.DialectPostgres {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted", session).Scan(&n); err != nil {
				t.Fatalf("asking the server whether session %d waits for a lock: %v", session, err)
			}
			waits = n > 0
		} else {
			var typ, name, status string
			if err := db.QueryRowContext(ctx, "SHOW ENGINE INNODB STATUS").Scan(&typ, &name, &status); err != nil {
				t.Fatalf("asking the server whether session %d waits for a lock: %v", session, err)
			}
			waits = innodbLockWait(status, session)
		}
		if waits {
			return
		}
	}
}

// innodbLockWait reports whether the transaction of session is in LOCK
// WAIT in the output of SHOW ENGINE INNODB STATUS.
func innodbLockWait(status string, session int64) bool {
	thread := regexp.MustCompile(`(?:MySQL|MariaDB) thread id ` + strconv.FormatInt(session, 10) + `,`)
	for _, trx := range strings.Split(status, "---TRANSACTION ")[1:] {
		if thread.MatchString(trx) {
			return strings.Contains(trx, "\nLOCK WAIT ")
		}
	}
	return false
}

func TestCloneRowLockBlocksOtherConnection(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := testContext(t)
		mustExec(t, db.DB, db, "INSERT INTO items (id, name, n) VALUES (1, 'row', 0)")
		c1, _ := conn(t, ctx, db)
		c2, s2 := conn(t, ctx, db)
		tx, err := c1.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		mustExec(t, tx, db, "UPDATE items SET n = 1 WHERE id = 1")
		done := make(chan error, 1)
		go func() {
			_, err := c2.ExecContext(ctx, q(db, "UPDATE items SET n = n + 10 WHERE id = 1"))
			done <- err
		}()
		waitLockWait(t, ctx, db, s2)
		select {
		case err := <-done:
			t.Fatalf("the second connection's update ended (%v) while the first held the row lock", err)
		default:
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("second connection after the commit: %v", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT n FROM items WHERE id = 1").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 11 {
			t.Errorf("n = %d, want 11 (1 from the first transaction, +10 after it committed)", n)
		}
	})
}

func TestCloneRepeatableRead(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := testContext(t)
		tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		countIn := func(q interface {
			QueryRowContext(context.Context, string, ...any) *sql.Row
		}) int {
			t.Helper()
			var n int
			if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := countIn(tx); n != 0 {
			t.Fatalf("items = %d, want 0", n)
		}
		// Another connection commits a row; the snapshot does not see it.
		mustExec(t, db.DB, db, "INSERT INTO items (name) VALUES ('other')")
		if n := countIn(db.DB); n != 1 {
			t.Errorf("outside the transaction items = %d, want 1", n)
		}
		if n := countIn(tx); n != 0 {
			t.Errorf("REPEATABLE READ transaction sees %d items, want its snapshot's 0", n)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCloneSerializable(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := testContext(t)
		serializable := &sql.TxOptions{Isolation: sql.LevelSerializable}
		if db.Dialect == testdatabases.DialectPostgres {
			// Write skew: each transaction reads what the other writes.
			// One of them must fail with serialization_failure.
			tx1, err := db.BeginTx(ctx, serializable)
			if err != nil {
				t.Fatal(err)
			}
			defer tx1.Rollback()
			tx2, err := db.BeginTx(ctx, serializable)
			if err != nil {
				t.Fatal(err)
			}
			defer tx2.Rollback()
			var n1, n2 int
			if err := tx1.QueryRowContext(ctx, "SELECT COUNT(*) FROM items WHERE n = 2").Scan(&n1); err != nil {
				t.Fatal(err)
			}
			if err := tx2.QueryRowContext(ctx, "SELECT COUNT(*) FROM items WHERE n = 1").Scan(&n2); err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx1, db, "INSERT INTO items (name, n) VALUES ('one', 1)")
			if err := tx1.Commit(); err != nil {
				t.Fatalf("first commit: %v", err)
			}
			_, err = tx2.ExecContext(ctx, "INSERT INTO items (name, n) VALUES ('two', 2)")
			if err == nil {
				err = tx2.Commit()
			}
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "40001" {
				t.Fatalf("second transaction of a write skew: %v, want serialization_failure (40001)", err)
			}
			return
		}
		// InnoDB: SERIALIZABLE reads lock what they read, so an insert
		// into the range read waits for the reader to commit.
		c1, _ := conn(t, ctx, db)
		c2, s2 := conn(t, ctx, db)
		tx, err := c1.BeginTx(ctx, serializable)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil || n != 0 {
			t.Fatalf("count = %d, %v; want 0", n, err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := c2.ExecContext(ctx, "INSERT INTO items (name) VALUES ('writer')")
			done <- err
		}()
		waitLockWait(t, ctx, db, s2)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("insert after the reader committed: %v", err)
		}
	})
}

func TestCloneListenNotify(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, db *testdatabases.DB) {
		if db.Dialect != testdatabases.DialectPostgres {
			t.Skip("LISTEN/NOTIFY is PostgreSQL's")
		}
		ctx := testContext(t)
		listener, _ := conn(t, ctx, db)
		pgxConn := func(f func(c *pgx.Conn) error) error {
			return listener.Raw(func(dc any) error { return f(dc.(*stdlib.Conn).Conn()) })
		}
		if err := pgxConn(func(c *pgx.Conn) error { _, err := c.Exec(ctx, "LISTEN greenroom_events"); return err }); err != nil {
			t.Fatal(err)
		}
		// Another connection of the pool notifies, inside a transaction
		// that commits.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, db, "SELECT pg_notify('greenroom_events', 'item 1 created')")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var got *pgconn.Notification
		if err := pgxConn(func(c *pgx.Conn) (err error) { got, err = c.WaitForNotification(ctx); return err }); err != nil {
			t.Fatalf("waiting for the notification: %v", err)
		}
		if got.Channel != "greenroom_events" || got.Payload != "item 1 created" {
			t.Errorf("notification = %s %q", got.Channel, got.Payload)
		}
	})
}

func TestCloneNowAdvances(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := testContext(t)
		now := "SELECT NOW(6)"
		if db.Dialect == testdatabases.DialectPostgres {
			now = "SELECT now()"
		}
		read := func() time.Time {
			t.Helper()
			var v time.Time
			if err := db.QueryRowContext(ctx, now).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		first := read()
		// Another transaction that takes a row lock in between, so that
		// the two reads are transactions apart.
		mustExec(t, db.DB, db, "INSERT INTO items (name) VALUES ('between')")
		if second := read(); !second.After(first) {
			t.Errorf("now() = %v after %v: it did not advance between transactions", second, first)
		}
	})
}

// Code that uses the *sql.DB while its own transaction is open (it works
// in production because the pool has a second connection).
func TestCloneDBInsideTransaction(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := testContext(t)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		mustExec(t, tx, db, "INSERT INTO items (name) VALUES ('in tx')")
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil {
			t.Fatalf("query on the pool inside a transaction: %v", err)
		}
		if n != 0 {
			t.Errorf("another connection sees %d items before the commit, want 0", n)
		}
		mustExec(t, db.DB, db, "INSERT INTO kinds (name) VALUES ('beside the tx')")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "items"); n != 1 {
			t.Errorf("items = %d after the commit, want 1", n)
		}
	})
}

// Clone-mode tests that run at the same time write the same rows and never
// see each other's, and every test starts from the template.
func TestCloneIsolationParallel(t *testing.T) {
	t.Parallel()
	set := testdatabases.New(t, testdatabases.WithMigrator(isoSchema)).With(testdatabases.Clone)
	var mu sync.Mutex
	names := map[string]string{}
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			set.Each(t, func(t *testing.T, db *testdatabases.DB) {
				t.Parallel()
				if db.Isolation != testdatabases.Clone {
					t.Fatalf("Isolation = %v, want clone", db.Isolation)
				}
				checkPristine(t, db)
				dirty(t, db, fmt.Sprint("clone", i))
				if n := count(t, db, "items"); n != 2 {
					t.Errorf("items = %d, want this test's 2 rows only", n)
				}
				var kind string
				if err := db.QueryRow("SELECT name FROM kinds WHERE id = 1").Scan(&kind); err != nil {
					t.Fatal(err)
				}
				if kind != fmt.Sprint("clone", i) {
					t.Errorf("kinds 1 = %q, want this test's %q", kind, fmt.Sprint("clone", i))
				}
				mu.Lock()
				defer mu.Unlock()
				if other, ok := names[db.Name()]; ok {
					t.Errorf("test %s got the database %s of test %s", t.Name(), db.Name(), other)
				}
				names[db.Name()] = t.Name()
			})
		})
	}
}

// Per-test options: Init(t, id, Clone) overrides the Set's tier; With
// derives a Set and leaves the original alone.
func TestIsolationOptions(t *testing.T) {
	t.Parallel()
	set := testdatabases.New(t, testdatabases.SQLite3, testdatabases.WithMigrator(isoSchema))
	if db := set.Init(t, testdatabases.SQLite3); db.Isolation != testdatabases.Rollback {
		t.Errorf("default Isolation = %v, want rollback", db.Isolation)
	}
	if db := set.Init(t, testdatabases.SQLite3, testdatabases.Clone); db.Isolation != testdatabases.Clone {
		t.Errorf("Init(..., Clone).Isolation = %v, want clone", db.Isolation)
	}
	clone := set.With(testdatabases.Clone)
	if db := clone.Init(t, testdatabases.SQLite3); db.Isolation != testdatabases.Clone {
		t.Errorf("With(Clone) Isolation = %v, want clone", db.Isolation)
	}
	if db := clone.Init(t, testdatabases.SQLite3, testdatabases.Rollback); db.Isolation != testdatabases.Rollback {
		t.Errorf("Init(..., Rollback) on a Clone set: Isolation = %v, want rollback", db.Isolation)
	}
	if db := set.Init(t, testdatabases.SQLite3); db.Isolation != testdatabases.Rollback {
		t.Errorf("With changed the original Set: Isolation = %v", db.Isolation)
	}
	if got := set.With(testdatabases.Postgres15).IDs(); len(got) != 1 || got[0] != testdatabases.Postgres15 {
		t.Errorf("With(Postgres15).IDs() = %v, want [postgres15]", got)
	}
	if got := set.IDs(); len(got) != 1 || got[0] != testdatabases.SQLite3 {
		t.Errorf("IDs() = %v after With, want [sqlite]", got)
	}
}

// An ID passed to Init among its options is a mistake that fails the test
// with a message saying so.
func TestInitRejectsIDOption(t *testing.T) {
	t.Parallel()
	set := testdatabases.New(t, testdatabases.SQLite3)
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		set.Init(r, testdatabases.SQLite3, testdatabases.Postgres15)
	}()
	<-done
	if !strings.Contains(r.msg, `Init(t, "sqlite", ...) got the engine "postgres15" among its options`) {
		t.Errorf("Init with an ID option: Fatalf(%q), want a message naming both engines", r.msg)
	}
}

// fatalRecorder records Fatalf and ends the goroutine, as testing.T does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
