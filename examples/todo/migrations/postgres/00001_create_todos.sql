-- +goose Up
CREATE TABLE todos (
    id         BIGSERIAL PRIMARY KEY,
    owner      VARCHAR(255) NOT NULL,
    title      VARCHAR(200) NOT NULL,
    done       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX todos_owner ON todos (owner, id);

-- +goose Down
DROP TABLE todos;
