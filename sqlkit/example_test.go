package sqlkit_test

import (
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/sqlkit"
)

func ExampleRebind() {
	q := "SELECT id FROM todos WHERE owner = ? AND title <> '?' AND done = ?"
	fmt.Println(sqlkit.Rebind(core.DialectPostgres, q))
	fmt.Println(sqlkit.Rebind(core.DialectMySQL, q))
	// Output:
	// SELECT id FROM todos WHERE owner = $1 AND title <> '?' AND done = $2
	// SELECT id FROM todos WHERE owner = ? AND title <> '?' AND done = ?
}

func ExampleClassify() {
	// What db.ExecContext returns for a duplicate key on MySQL/MariaDB.
	err := fmt.Errorf("create todo: %w", &mysql.MySQLError{Number: 1062, Message: "Duplicate entry 'milk' for key 'todos_owner_title'"})
	switch sqlkit.Classify(err) {
	case sqlkit.Unique:
		fmt.Println("already exists")
	case sqlkit.Serialization:
		fmt.Println("retry")
	default:
		fmt.Println("failed:", err)
	}
	fmt.Println(sqlkit.IsUnique(err))
	// Output:
	// already exists
	// true
}

func ExampleHTTPError() {
	err := fmt.Errorf("create todo: %w", &mysql.MySQLError{Number: 1062, Message: "Duplicate entry 'milk' for key 'todos_owner_title'"})
	herr := sqlkit.HTTPError(err, `a todo titled "milk"`)
	e, _ := errs.As(herr)
	fmt.Println(e.StatusCode(), e.Name)
	fmt.Println(e.Message)
	// The driver's error is still there, for logs and errors.As.
	var myErr *mysql.MySQLError
	fmt.Println(errors.As(herr, &myErr), myErr.Number)
	// Output:
	// 409 ConflictError
	// a todo titled "milk" conflicts with one that already exists
	// true 1062
}

func ExampleIsRetryable() {
	// A deadlock on MySQL/MariaDB: the transaction was rolled back and
	// may run again.
	err := fmt.Errorf("move todo: %w", &mysql.MySQLError{Number: 1213, Message: "Deadlock found when trying to get lock"})
	fmt.Println(sqlkit.IsRetryable(err), sqlkit.Classify(err))
	fmt.Println(sqlkit.IsForeignKey(err))
	// Output:
	// true serialization failure
	// false
}
