package testdatabases

// WaitingStatements reports how many calls on db's connections wait for
// the database session (rollback mode on PostgreSQL and MySQL, where a
// transaction owns the session until it ends); 0 for other databases and
// for a database not taken yet. Tests use it to observe a wait without a
// clock.
func WaitingStatements(db *DB) int {
	db.h.mu.Lock()
	l := db.h.l
	db.h.mu.Unlock()
	if l, ok := l.(*serverLease); ok {
		return l.sess.Waiting()
	}
	return 0
}
