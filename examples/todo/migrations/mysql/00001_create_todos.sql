-- +goose Up
CREATE TABLE todos (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner      VARCHAR(255) NOT NULL,
    title      VARCHAR(200) NOT NULL,
    done       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    INDEX todos_owner (owner, id)
) DEFAULT CHARSET = utf8mb4;

-- +goose Down
DROP TABLE todos;
