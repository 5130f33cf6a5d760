// Package dbtemplate is the contract between package migrate and the
// databases that can start from an image of an already migrated database,
// such as the fake database of package mockservices: migrating a fresh
// SQLite database costs milliseconds per test, copying the image of the
// result microseconds. It is internal: plugins neither implement nor call
// it.
package dbtemplate

import (
	"context"
	"database/sql"
)

// Templater is implemented by such databases. migrate.Up calls
// UpFromTemplate instead of migrating the database itself. key names the
// migrations (the dialect and migrate.Migrations.Hash); up applies them to
// a database. An implementation either runs up on its database, or, when
// its database is still empty, makes it a copy of the database that up
// produced from empty for the same key. The two must be indistinguishable
// to the plugin.
type Templater interface {
	UpFromTemplate(ctx context.Context, key string, up func(ctx context.Context, db *sql.DB) error) error
}
