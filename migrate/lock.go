package migrate

import (
	"context"
	"database/sql"
	"runtime"
	"sync"
	"weak"
)

// dbLocks serializes migrations of one *sql.DB within the process. The
// database-level locks cover other processes; this one also covers SQLite,
// which has none, and keeps waiting runs from holding pool connections.
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
