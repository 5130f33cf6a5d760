// Package sqlkit helps a plugin use its database the same way on SQLite,
// PostgreSQL and MySQL/MariaDB, the engines core.Database gives:
//
//   - [Classify] tells what a driver error means (a unique or foreign-key
//     violation, a value the column cannot hold, a serialization failure or
//     deadlock, a lost connection) without the plugin importing any driver;
//   - [HTTPError] turns those errors into the HTTP error a caller should see:
//     409 for a conflict, 400 for data the database refuses, 503 for a
//     failure worth retrying, and otherwise the error as it is, which
//     answers 500 without showing internals;
//   - [Rebind] rewrites ? placeholders to PostgreSQL's $1, $2, ... so that
//     one query text serves every dialect.
//
// A store function typically ends like this:
//
//	_, err := db.ExecContext(ctx, sqlkit.Rebind(dialect,
//		"INSERT INTO todos (owner, title) VALUES (?, ?)"), owner, title)
//	if err != nil {
//		return sqlkit.HTTPError(fmt.Errorf("create todo: %w", err), fmt.Sprintf("a todo titled %q", title))
//	}
//
// Classify recognises the error types of the drivers Greenroom uses:
// github.com/jackc/pgx/v5 (*pgconn.PgError, through its database/sql
// driver), github.com/go-sql-driver/mysql (*mysql.MySQLError) and
// modernc.org/sqlite (*sqlite.Error). All three are linked into every
// backend already, by the default database service.
package sqlkit
