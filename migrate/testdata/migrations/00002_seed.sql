-- +goose Up
INSERT INTO todos (id, title) VALUES (1, 'try Greenroom');

-- +goose Down
DELETE FROM todos WHERE id = 1;
