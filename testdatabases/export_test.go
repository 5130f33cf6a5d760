package testdatabases

// WaitingStatements reports how many calls on db's connections wait for
// the database session (rollback mode on PostgreSQL and MySQL, where a
// transaction owns the session until it ends); 0 for other databases.
// Tests use it to observe a wait without a clock.
func WaitingStatements(db *DB) int {
	if l, ok := db.lease.(*serverLease); ok {
		return l.sess.Waiting()
	}
	return 0
}
