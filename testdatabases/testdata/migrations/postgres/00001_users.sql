-- +goose Up
CREATE TABLE users (id SERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL);
INSERT INTO users (name) VALUES ('admin');

-- +goose Down
DROP TABLE users;
