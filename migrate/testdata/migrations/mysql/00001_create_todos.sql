-- +goose Up
CREATE TABLE todos (
    id INT PRIMARY KEY,
    title VARCHAR(200) NOT NULL,
    done TINYINT(1) NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- +goose Down
DROP TABLE todos;
