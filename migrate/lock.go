package migrate

import (
	"context"
	"database/sql"
	"runtime"
	"sync"
	"weak"
)

// dbLocks serializes migrations of one *sql.DB within the process. The
// database-level locks cover other processes; this one keeps waiting runs
// from holding pool connections. SQLite has no database-level lock:
// fileLocks serializes the runs of every pool of the process on one
// SQLite file.
//
// It is package state because Up is a function of a database and nothing
// else outlives the calls; entries are keyed by weak pointers and removed
// when their *sql.DB is collected, so they never keep a pool alive.
var dbLocks = struct {
	mu sync.Mutex
	m  map[weak.Pointer[sql.DB]]chan struct{}
}{m: map[weak.Pointer[sql.DB]]chan struct{}{}}

// lockDB takes the process-wide migration lock of db, or gives up when ctx
// ends.
func lockDB(ctx context.Context, db *sql.DB) (unlock func(), err error) {
	key := weak.Make(db)
	dbLocks.mu.Lock()
	sem, ok := dbLocks.m[key]
	if !ok {
		sem = make(chan struct{}, 1)
		dbLocks.m[key] = sem
		runtime.AddCleanup(db, func(k weak.Pointer[sql.DB]) {
			dbLocks.mu.Lock()
			delete(dbLocks.m, k)
			dbLocks.mu.Unlock()
		}, key)
	}
	dbLocks.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fileLocks serializes migrations of one SQLite file within the process,
// whichever pools the runs use: several pools open one file when several
// instances of a backend share a database (package testbackend's
// StartInstances), and SQLite has no advisory lock for goose to take.
// Without it, two runs both find a migration pending and the second fails
// on what the first created. Entries live while a run holds or waits for
// them.
var fileLocks = struct {
	mu sync.Mutex
	m  map[string]*fileLock
}{m: map[string]*fileLock{}}

type fileLock struct {
	sem  chan struct{}
	refs int
}

// lockSQLiteFile takes the process-wide migration lock of the SQLite file
// that db opens, or does nothing for an in-memory database (private to its
// pool, which dbLocks covers). It gives up when ctx ends.
func lockSQLiteFile(ctx context.Context, db *sql.DB) (unlock func(), err error) {
	path, err := sqliteFile(ctx, db)
	if err != nil || path == "" {
		return func() {}, err
	}
	fileLocks.mu.Lock()
	l := fileLocks.m[path]
	if l == nil {
		l = &fileLock{sem: make(chan struct{}, 1)}
		fileLocks.m[path] = l
	}
	l.refs++
	fileLocks.mu.Unlock()
	release := func() {
		fileLocks.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(fileLocks.m, path)
		}
		fileLocks.mu.Unlock()
	}
	select {
	case l.sem <- struct{}{}:
		return func() { <-l.sem; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// sqliteFile returns the path of the main database file of db, or "" for
// an in-memory database.
func sqliteFile(ctx context.Context, db *sql.DB) (string, error) {
	rows, err := db.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var name, file string
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return "", err
		}
		if name == "main" {
			return file, rows.Err()
		}
	}
	return "", rows.Err()
}
