package sqlkit_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/sqlkit"
)

// TestClassifyConstructed covers the codes that the engine tests cannot
// provoke without timing (deadlocks, server shutdown) and the errors of
// database/sql and the network.
func TestClassifyConstructed(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return &pgconn.PgError{Code: code, Message: "m"} }
	my := func(n uint16) error { return &mysql.MySQLError{Number: n, Message: "m"} }
	tests := []struct {
		err  error
		want sqlkit.Kind
	}{
		{nil, sqlkit.Unknown},
		{errors.New("boom"), sqlkit.Unknown},
		{sql.ErrNoRows, sqlkit.Unknown},
		{context.Canceled, sqlkit.Unknown},
		{fmt.Errorf("read: %w: %w", context.DeadlineExceeded, &net.OpError{Op: "read", Err: errors.New("timeout")}), sqlkit.Unknown},
		{pg("23P01"), sqlkit.Unique},
		{pg("22003"), sqlkit.ValueInvalid},
		{pg("22007"), sqlkit.ValueInvalid},
		{pg("40P01"), sqlkit.Serialization},
		{pg("57P02"), sqlkit.ConnectionLost},
		{pg("08006"), sqlkit.ConnectionLost},
		{pg("42P01"), sqlkit.Unknown}, // undefined_table: a bug, not the caller's
		{pg(""), sqlkit.Unknown},
		{my(1586), sqlkit.Unique},
		{my(1217), sqlkit.ForeignKey},
		{my(1364), sqlkit.NotNull},
		{my(3819), sqlkit.Check},
		{my(1292), sqlkit.ValueInvalid},
		{my(1213), sqlkit.Serialization},
		{my(2006), sqlkit.ConnectionLost},
		{my(2013), sqlkit.ConnectionLost},
		{my(1927), sqlkit.ConnectionLost},
		{my(1146), sqlkit.Unknown}, // ER_NO_SUCH_TABLE
		{driver.ErrBadConn, sqlkit.ConnectionLost},
		{sql.ErrConnDone, sqlkit.ConnectionLost},
		{mysql.ErrInvalidConn, sqlkit.ConnectionLost},
		{fmt.Errorf("query: %w", io.ErrUnexpectedEOF), sqlkit.ConnectionLost},
		{&net.OpError{Op: "write", Err: syscall.EPIPE}, sqlkit.ConnectionLost},
		{fmt.Errorf("x: %w", syscall.ECONNRESET), sqlkit.ConnectionLost},
	}
	for _, tt := range tests {
		if got := sqlkit.Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%#v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestPredicates(t *testing.T) {
	t.Parallel()
	dup := fmt.Errorf("create: %w", &mysql.MySQLError{Number: 1062})
	fk := &pgconn.PgError{Code: "23503"}
	if !sqlkit.IsUnique(dup) || sqlkit.IsUnique(fk) || !sqlkit.IsForeignKey(fk) || sqlkit.IsForeignKey(dup) {
		t.Error("IsUnique/IsForeignKey disagree with Classify")
	}
	if !sqlkit.IsRetryable(&pgconn.PgError{Code: "40001"}) || !sqlkit.IsRetryable(driver.ErrBadConn) || sqlkit.IsRetryable(dup) {
		t.Error("IsRetryable is wrong")
	}
}

func TestHTTPError(t *testing.T) {
	t.Parallel()
	if sqlkit.HTTPError(nil, "x") != nil {
		t.Error("HTTPError(nil) is not nil")
	}
	plain := errors.New("syntax error at or near SELEC")
	if got := sqlkit.HTTPError(plain, "x"); got != plain || errs.StatusCode(got) != http.StatusInternalServerError {
		t.Errorf("HTTPError(unknown) = %v, want it unchanged (500)", got)
	}
	notFound := fmt.Errorf("get: %w", errs.NewNotFound("todo 1 not found"))
	if got := sqlkit.HTTPError(notFound, "x"); got != notFound {
		t.Errorf("HTTPError(NotFoundError) = %v, want it unchanged", got)
	}
	dup := fmt.Errorf("create todo: %w", &pgconn.PgError{Code: "23505", Message: `duplicate key value violates unique constraint "todos_pkey"`})
	got := sqlkit.HTTPError(dup, `a todo titled "milk"`)
	var pgErr *pgconn.PgError
	if !errors.As(got, &pgErr) || !errors.Is(got, dup) {
		t.Errorf("HTTPError(%v) = %v, which does not wrap the driver error", dup, got)
	}
	rec := responseBody(got)
	if !strings.Contains(rec, `"name":"ConflictError","message":"a todo titled \"milk\" conflicts with one that already exists"`) || strings.Contains(rec, "todos_pkey") {
		t.Errorf("response body %s: want a ConflictError naming the todo and no SQL", rec)
	}
	if got := sqlkit.HTTPError(driver.ErrBadConn, ""); !strings.Contains(got.Error(), "the request could not be completed") {
		t.Errorf("HTTPError(err, \"\") = %v, want it to name the request", got)
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	if sqlkit.Unique.String() != "unique violation" || sqlkit.Kind(99).String() != "Kind(99)" || sqlkit.Kind(-1).String() != "Kind(-1)" {
		t.Errorf("Kind.String: %s, %s", sqlkit.Unique, sqlkit.Kind(99))
	}
}

// responseBody returns the JSON body errs.WriteJSON writes for err.
func responseBody(err error) string {
	rec := httptest.NewRecorder()
	errs.WriteJSON(rec, httptest.NewRequest("POST", "/api/todo/todos", nil), err)
	return strings.TrimSpace(rec.Body.String())
}
