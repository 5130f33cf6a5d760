-- The public service keys of the plugins that use this database, one row
-- per key and instance (package defaults/auth, the database key store).
-- Several plugins may share a database (in tests), hence plugin_id in the
-- primary key. Times are milliseconds since the Unix epoch.
-- +goose Up
CREATE TABLE greenroom_auth_public_keys (
    plugin_id VARCHAR(255) NOT NULL,
    kid VARCHAR(128) NOT NULL,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (plugin_id, kid)
);

-- +goose Down
DROP TABLE greenroom_auth_public_keys;
