-- +goose Up
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(100) NOT NULL);
INSERT INTO users (name) VALUES ('admin');

-- +goose Down
DROP TABLE users;
