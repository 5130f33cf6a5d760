package testdatabases_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

// TestSQLiteSeveralPoolsOnOneFile opens several pools on one SQLite test
// database with DB.DriverDSN, as several instances of a backend sharing a
// database do, and runs transactions that read and then write on all of
// them at once. In SQLite's default rollback-journal mode with deferred
// transactions, two such transactions deadlock and one fails at once with
// SQLITE_BUSY ("database is locked"), without waiting for the busy
// timeout; the test database runs as production does (WAL, transactions
// begun IMMEDIATE), so every one waits its turn.
func TestSQLiteSeveralPoolsOnOneFile(t *testing.T) {
	t.Parallel()
	db := testdatabases.New(t, testdatabases.SQLite3).Init(t, testdatabases.SQLite3, testdatabases.Clone)
	if _, err := db.Exec("CREATE TABLE counter (n INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO counter (n) VALUES (0)"); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("PRAGMA journal_mode = %q, %v; want wal, as production runs SQLite", mode, err)
	}

	driver, dsn := db.DriverDSN()
	const pools, perPool = 4, 10
	var wg sync.WaitGroup
	errc := make(chan error, pools*perPool)
	for range pools {
		p, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		for range perPool {
			wg.Go(func() { errc <- increment(t.Context(), p) })
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("a read-then-write transaction on one of several pools: %v", err)
		}
	}
	var n int
	if err := db.QueryRow("SELECT n FROM counter").Scan(&n); err != nil || n != pools*perPool {
		t.Errorf("counter = %d, %v; want %d (no lost update)", n, err, pools*perPool)
	}
}

// increment reads the counter and writes it back plus one, in one
// transaction.
func increment(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT n FROM counter").Scan(&n); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE counter SET n = ?", n+1); err != nil {
		return err
	}
	return tx.Commit()
}
