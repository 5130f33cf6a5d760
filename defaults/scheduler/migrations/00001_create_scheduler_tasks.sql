-- +goose Up
-- One row per global task of a plugin. Times are milliseconds since the
-- Unix epoch, read from and compared with the database's clock.
CREATE TABLE greenroom_scheduler_tasks (
  plugin_id VARCHAR(255) NOT NULL,
  id VARCHAR(255) NOT NULL,
  settings TEXT NOT NULL,
  next_run_at BIGINT NULL,
  run_ticket VARCHAR(64) NULL,
  run_owner VARCHAR(255) NULL,
  run_started_at BIGINT NULL,
  lease_expires_at BIGINT NULL,
  last_run_started_at BIGINT NULL,
  last_run_ended_at BIGINT NULL,
  last_error TEXT NULL,
  PRIMARY KEY (plugin_id, id)
);

-- +goose Down
DROP TABLE greenroom_scheduler_tasks;
