package todo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/sqlkit"
)

// Todo is one item of a user's list.
type Todo struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Done      bool      `json:"done"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// store keeps todos in the plugin's database. Every query is scoped to an
// owner, so one user can never read or change another's todos.
//
// Errors go through sqlkit.HTTPError (only errors: naming what failed costs
// an allocation the successful calls need not pay): a duplicate title (the unique index
// todos_owner_title) is a 409, a value the database refuses a 400, a lost
// connection or a lost race a 503, and anything else stays a 500.
type store struct {
	db      *sql.DB
	dialect core.Dialect
	now     func() time.Time
}

// q rewrites the ? placeholders of query for the database's dialect.
func (s *store) q(query string) string { return sqlkit.Rebind(s.dialect, query) }

const todoColumns = "id, title, done, created_at, updated_at"

func scanTodo(row interface{ Scan(...any) error }) (Todo, error) {
	var t Todo
	err := row.Scan(&t.ID, &t.Title, &t.Done, &t.CreatedAt, &t.UpdatedAt)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, err
}

func (s *store) list(ctx context.Context, owner string) (_ []Todo, err error) {
	defer func() {
		if err != nil {
			err = sqlkit.HTTPError(err, "the list of todos")
		}
	}()
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+todoColumns+" FROM todos WHERE owner = ? ORDER BY id"), owner)
	if err != nil {
		return nil, fmt.Errorf("list todos: %w", err)
	}
	defer rows.Close()
	todos := []Todo{}
	for rows.Next() {
		t, err := scanTodo(rows)
		if err != nil {
			return nil, fmt.Errorf("list todos: %w", err)
		}
		todos = append(todos, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list todos: %w", err)
	}
	return todos, nil
}

func (s *store) create(ctx context.Context, owner, title string, done bool) (t Todo, err error) {
	defer func() {
		if err != nil {
			err = sqlkit.HTTPError(err, titled(title))
		}
	}()
	now := s.now().UTC().Truncate(time.Microsecond)
	var completedAt *time.Time // NULL unless done
	if done {
		completedAt = &now
	}
	const insert = "INSERT INTO todos (owner, title, done, created_at, updated_at, completed_at) VALUES (?, ?, ?, ?, ?, ?)"
	var id int64
	if s.dialect == core.DialectPostgres {
		err := s.db.QueryRowContext(ctx, s.q(insert+" RETURNING id"), owner, title, done, now, now, completedAt).Scan(&id)
		if err != nil {
			return Todo{}, fmt.Errorf("create todo: %w", err)
		}
	} else {
		res, err := s.db.ExecContext(ctx, insert, owner, title, done, now, now, completedAt)
		if err != nil {
			return Todo{}, fmt.Errorf("create todo: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return Todo{}, fmt.Errorf("create todo: %w", err)
		}
	}
	return Todo{ID: id, Title: title, Done: done, CreatedAt: now, UpdatedAt: now}, nil
}

// update changes the fields that are not nil, in one transaction so that
// the returned todo is the one stored.
func (s *store) update(ctx context.Context, owner string, id int64, title *string, done *bool) (_ Todo, err error) {
	defer func() {
		if err == nil {
			return
		}
		what := fmt.Sprintf("todo %d", id)
		if title != nil {
			what = titled(*title)
		}
		err = sqlkit.HTTPError(err, what)
	}()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Todo{}, fmt.Errorf("update todo %d: %w", id, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	t, err := scanTodo(tx.QueryRowContext(ctx, s.q("SELECT "+todoColumns+" FROM todos WHERE owner = ? AND id = ?"), owner, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Todo{}, errs.NewNotFound("todo %d not found", id)
	}
	if err != nil {
		return Todo{}, fmt.Errorf("update todo %d: %w", id, err)
	}
	if title != nil {
		t.Title = *title
	}
	wasDone := t.Done
	if done != nil {
		t.Done = *done
	}
	t.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	query := "UPDATE todos SET title = ?, done = ?, updated_at = ?"
	args := []any{t.Title, t.Done, t.UpdatedAt}
	// completed_at is when the todo was last completed: set as it becomes
	// done, cleared as it is reopened, kept otherwise.
	switch {
	case t.Done && !wasDone:
		query += ", completed_at = ?"
		args = append(args, t.UpdatedAt)
	case !t.Done:
		query += ", completed_at = NULL"
	}
	if _, err := tx.ExecContext(ctx, s.q(query+" WHERE owner = ? AND id = ?"), append(args, owner, id)...); err != nil {
		return Todo{}, fmt.Errorf("update todo %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return Todo{}, fmt.Errorf("update todo %d: %w", id, err)
	}
	return t, nil
}

// find returns the todo id, whoever owns it, and its owner: the delete
// route decides with the permissions service who may act on it.
func (s *store) find(ctx context.Context, id int64) (_ Todo, owner string, err error) {
	defer func() {
		if err != nil {
			err = sqlkit.HTTPError(err, fmt.Sprintf("todo %d", id))
		}
	}()
	var t Todo
	err = s.db.QueryRowContext(ctx, s.q("SELECT "+todoColumns+", owner FROM todos WHERE id = ?"), id).
		Scan(&t.ID, &t.Title, &t.Done, &t.CreatedAt, &t.UpdatedAt, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		return Todo{}, "", errs.NewNotFound("todo %d not found", id)
	}
	if err != nil {
		return Todo{}, "", fmt.Errorf("get todo %d: %w", id, err)
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, owner, nil
}

// delete deletes the todo id of owner. The caller has checked that it may.
func (s *store) delete(ctx context.Context, owner string, id int64) (err error) {
	defer func() {
		if err != nil {
			err = sqlkit.HTTPError(err, fmt.Sprintf("todo %d", id))
		}
	}()
	res, err := s.db.ExecContext(ctx, s.q("DELETE FROM todos WHERE owner = ? AND id = ?"), owner, id)
	if err != nil {
		return fmt.Errorf("delete todo %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete todo %d: %w", id, err)
	}
	if n == 0 {
		return errs.NewNotFound("todo %d not found", id)
	}
	return nil
}

// purgeBatch bounds the ids of one purge statement (and its placeholders).
const purgeBatch = 500

// purgeCompleted deletes every todo (of every owner) completed before
// cutoff and returns the ids it deleted, so that their cache entries can
// be dropped, and how many it deleted. It reads the ids, then deletes them
// in batches with the same condition, so a todo reopened in between is
// kept (its id is among those returned all the same: dropping a cache
// entry costs nothing). Open todos, whose completed_at is NULL, never
// match.
func (s *store) purgeCompleted(ctx context.Context, cutoff time.Time) (n int64, ids []int64, err error) {
	cut := cutoff.UTC().Truncate(time.Microsecond)
	var done []int64
	fail := func(err error) (int64, []int64, error) {
		return n, done, fmt.Errorf("purge the todos completed before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT id FROM todos WHERE completed_at < ? ORDER BY id"), cut)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fail(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), purgeBatch)]
		ids = ids[len(batch):]
		args := make([]any, 0, len(batch)+1)
		args = append(args, cut)
		for _, id := range batch {
			args = append(args, id)
		}
		q := "DELETE FROM todos WHERE completed_at < ? AND id IN (?" + strings.Repeat(", ?", len(batch)-1) + ")"
		res, err := s.db.ExecContext(ctx, s.q(q), args...)
		if err != nil {
			return fail(err)
		}
		done = append(done, batch...)
		k, err := res.RowsAffected()
		if err != nil {
			return fail(err)
		}
		n += k
	}
	return n, done, nil
}

// titled names a todo by its title in an error message.
func titled(title string) string { return fmt.Sprintf("a todo titled %q", title) }
