package sqlkit

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/greenroom-dev/greenroom/errs"
)

// Kind is what a database error means, whatever the engine.
type Kind int

const (
	// Unknown is any other error, and nil.
	Unknown Kind = iota
	// Unique is a unique or primary key violation (and a PostgreSQL
	// exclusion constraint violation): the row conflicts with one that
	// exists.
	Unique
	// ForeignKey is a foreign key violation: a row refers to a row that
	// does not exist, or a row still referred to was deleted.
	ForeignKey
	// NotNull is a NULL (or missing value) for a NOT NULL column.
	NotNull
	// Check is a CHECK constraint violation.
	Check
	// ValueInvalid is a value the column cannot hold: too long, out of
	// range, of the wrong type, or text the database cannot store (such as
	// NUL or invalid UTF-8 on PostgreSQL).
	ValueInvalid
	// Serialization is a transaction that lost to a concurrent one: a
	// serialization failure, a deadlock, a lock wait timeout, or SQLite's
	// busy or locked database. Retrying the transaction may succeed.
	Serialization
	// ConnectionLost is a connection that broke or was closed: the server
	// went away, shut down or killed the session. Retrying on a new
	// connection may succeed.
	ConnectionLost
)

var kindNames = [...]string{
	Unknown:        "unknown",
	Unique:         "unique violation",
	ForeignKey:     "foreign key violation",
	NotNull:        "not-null violation",
	Check:          "check violation",
	ValueInvalid:   "invalid value",
	Serialization:  "serialization failure",
	ConnectionLost: "connection lost",
}

// String names the kind, such as "unique violation".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Classify tells what err, an error from database/sql with any of
// Greenroom's drivers, means. It looks through wrapping (errors.As), so
// err may be wrapped with fmt.Errorf("...: %w", err).
//
// Errors of no known kind, nil, sql.ErrNoRows and context cancellation
// are [Unknown].
func Classify(err error) Kind {
	if err == nil {
		return Unknown
	}
	var (
		pgErr     *pgconn.PgError
		myErr     *mysql.MySQLError
		sqliteErr *sqlite.Error
	)
	switch {
	case errors.As(err, &pgErr):
		return postgresKind(pgErr.Code)
	case errors.As(err, &myErr):
		return mysqlKind(myErr.Number)
	case errors.As(err, &sqliteErr):
		return sqliteKind(sqliteErr.Code())
	}
	if isConnectionLost(err) {
		return ConnectionLost
	}
	return Unknown
}

// IsUnique reports whether err is a unique violation.
func IsUnique(err error) bool { return Classify(err) == Unique }

// IsForeignKey reports whether err is a foreign key violation.
func IsForeignKey(err error) bool { return Classify(err) == ForeignKey }

// IsRetryable reports whether running the transaction again may succeed:
// err is a [Serialization] failure or a [ConnectionLost].
func IsRetryable(err error) bool {
	k := Classify(err)
	return k == Serialization || k == ConnectionLost
}

// postgresKind classifies a SQLSTATE code of PostgreSQL
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
func postgresKind(code string) Kind {
	switch code {
	case "23505", "23P01": // unique_violation, exclusion_violation
		return Unique
	case "23503": // foreign_key_violation
		return ForeignKey
	case "23502": // not_null_violation
		return NotNull
	case "23514": // check_violation
		return Check
	case "40001", "40P01", "55P03": // serialization_failure, deadlock_detected, lock_not_available
		return Serialization
	case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
		return ConnectionLost
	}
	switch code[:min(2, len(code))] {
	case "22": // data_exception: string_data_right_truncation 22001, character_not_in_repertoire 22021, invalid_text_representation 22P02, numeric_value_out_of_range 22003, ...
		return ValueInvalid
	case "08": // connection_exception
		return ConnectionLost
	}
	return Unknown
}

// mysqlKind classifies a MySQL or MariaDB error number
// (https://mariadb.com/kb/en/mariadb-error-code-reference/).
func mysqlKind(n uint16) Kind {
	switch n {
	case 1062, 1022, 1586: // ER_DUP_ENTRY, ER_DUP_KEY, ER_DUP_ENTRY_WITH_KEY_NAME
		return Unique
	case 1451, 1452, 1216, 1217: // ER_ROW_IS_REFERENCED_2, ER_NO_REFERENCED_ROW_2, ER_NO_REFERENCED_ROW, ER_ROW_IS_REFERENCED
		return ForeignKey
	case 1048, 1364: // ER_BAD_NULL_ERROR, ER_NO_DEFAULT_FOR_FIELD
		return NotNull
	case 4025, 3819: // ER_CONSTRAINT_FAILED (MariaDB), ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
		return Check
	case 1406, 1366, 1264, 1265, 1292, 1300, 1367, 3140: // ER_DATA_TOO_LONG, ER_TRUNCATED_WRONG_VALUE_FOR_FIELD, ER_WARN_DATA_OUT_OF_RANGE, WARN_DATA_TRUNCATED, ER_TRUNCATED_WRONG_VALUE, ER_INVALID_CHARACTER_STRING, ER_ILLEGAL_VALUE_FOR_TYPE, ER_INVALID_JSON_TEXT
		return ValueInvalid
	case 1213, 1205, 1020: // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, ER_CHECKREAD (MariaDB snapshot isolation)
		return Serialization
	case 1053, 1927, 2006, 2013, 4031: // ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED, CR_SERVER_GONE_ERROR, CR_SERVER_LOST, ER_CLIENT_INTERACTION_TIMEOUT
		return ConnectionLost
	}
	return Unknown
}

// SQLite result codes (https://www.sqlite.org/rescode.html). modernc.org/sqlite
// turns extended result codes on, so constraint errors carry the extended
// code; the primary code is its low byte.
const (
	sqliteBusy               = 5
	sqliteLocked             = 6
	sqliteTooBig             = 18
	sqliteConstraint         = 19
	sqliteMismatch           = 20
	sqliteConstraintCheck    = 275
	sqliteConstraintFK       = 787
	sqliteConstraintNotNull  = 1299
	sqliteConstraintPK       = 1555
	sqliteConstraintUnique   = 2067
	sqliteConstraintDatatype = 3091
)

func sqliteKind(code int) Kind {
	switch code {
	case sqliteConstraintUnique, sqliteConstraintPK:
		return Unique
	case sqliteConstraintFK:
		return ForeignKey
	case sqliteConstraintNotNull:
		return NotNull
	case sqliteConstraintCheck:
		return Check
	case sqliteConstraintDatatype:
		return ValueInvalid
	}
	switch code & 0xff {
	case sqliteBusy, sqliteLocked:
		return Serialization
	case sqliteTooBig, sqliteMismatch:
		return ValueInvalid
	}
	return Unknown
}

// isConnectionLost reports errors of database/sql and of the network that
// mean the connection is gone. A canceled or timed-out context is not one:
// the caller gave up, the connection did not break.
func isConnectionLost(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &netErr)
}

// HTTPError returns the error a handler should return for err, a database
// error, when storing or changing what describes, such as
// `a todo titled "milk"`:
//
//   - [Unique] and [ForeignKey]: a ConflictError (409);
//   - [NotNull], [Check] and [ValueInvalid]: an InputError (400);
//   - [Serialization] and [ConnectionLost]: a ServiceUnavailableError
//     (503), which the caller may retry;
//   - anything else, an *errs.Error already, and nil: err unchanged, so
//     that other errors answer 500 with a generic message.
//
// The returned error wraps err, so errors.Is and errors.As still find the
// driver's error and logs show it; the message a caller sees names what
// and says what went wrong, never the SQL or the driver's text.
func HTTPError(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := errs.As(err); ok {
		return err
	}
	if what == "" {
		what = "the request"
	}
	switch Classify(err) {
	case Unique:
		return errs.Wrap(errs.Conflict, err, "%s conflicts with one that already exists", what)
	case ForeignKey:
		return errs.Wrap(errs.Conflict, err, "%s refers to something that does not exist, or something else still refers to it", what)
	case NotNull:
		return errs.Wrap(errs.Input, err, "%s is missing a required value", what)
	case Check:
		return errs.Wrap(errs.Input, err, "%s has a value that is not allowed", what)
	case ValueInvalid:
		return errs.Wrap(errs.Input, err, "%s has a value the database cannot store: too long, out of range or not valid text", what)
	case Serialization:
		return errs.Wrap(errs.ServiceUnavailable, err, "%s could not be completed because of a concurrent change; try again", what)
	case ConnectionLost:
		return errs.Wrap(errs.ServiceUnavailable, err, "%s could not be completed because the database connection was lost; try again", what)
	}
	return err
}
