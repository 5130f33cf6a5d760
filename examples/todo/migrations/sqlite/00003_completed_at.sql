-- +goose Up
-- When a todo was completed: set when done becomes true, cleared when it
-- becomes false; the task purge-completed deletes the todos completed long
-- ago. Todos done before this migration count as completed when last
-- updated. (The driver writes times as text in one format, UTC here, whose
-- order is the order of the times, so completed_at < ? compares times.)
ALTER TABLE todos ADD COLUMN completed_at TIMESTAMP;
UPDATE todos SET completed_at = updated_at WHERE done;
CREATE INDEX todos_completed_at ON todos (completed_at);

-- +goose Down
DROP INDEX todos_completed_at;
ALTER TABLE todos DROP COLUMN completed_at;
