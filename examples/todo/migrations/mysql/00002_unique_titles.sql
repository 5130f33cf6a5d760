-- +goose Up
-- A user's titles are unique; a duplicate is a 409 (sqlkit.HTTPError).
-- The binary collation makes titles that differ in case differ, as they do
-- on PostgreSQL and SQLite; the default collation would call "Milk" a
-- duplicate of "milk". (Like every PAD SPACE collation it ignores trailing
-- spaces; the plugin stores titles trimmed.)
ALTER TABLE todos MODIFY title VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
CREATE UNIQUE INDEX todos_owner_title ON todos (owner, title);

-- +goose Down
DROP INDEX todos_owner_title ON todos;
ALTER TABLE todos MODIFY title VARCHAR(200) NOT NULL;
