-- +goose Up
-- A user's titles are unique; a duplicate is a 409 (sqlkit.HTTPError).
CREATE UNIQUE INDEX todos_owner_title ON todos (owner, title);

-- +goose Down
DROP INDEX todos_owner_title;
