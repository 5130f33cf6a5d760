// Package database is the production implementation of the core.database
// service: each plugin gets its own database on one server, reached through
// database/sql.
//
// # Configuration
//
// Everything lives under backend.database; nothing configured means SQLite in
// memory, one independent database per plugin.
//
//	backend:
//	  database:
//	    client: postgres              # sqlite (default) | postgres (or pg) | mysql
//	    connection: postgres://greenroom:${DB_PASSWORD}@db:5432/postgres
//	    prefix: greenroom_plugin_      # database name = prefix + plugin id
//	    pluginDivisionMode: database   # database (default) | schema (PostgreSQL only)
//	    ensureExists: true             # create missing databases and schemas
//	    skipMigrations: false          # reported by Database.MigrationsSkipped
//	    pool:
//	      maxOpenConns: 5              # per plugin
//	      maxIdleConns: 2
//	      connMaxIdleTime: 5m
//	      connMaxLifetime: 0           # 0: connections are not closed for age
//	    plugin:
//	      catalog:                     # overrides for one plugin
//	        connection: postgres://catalog@catalog-db:5432/catalog
//	        skipMigrations: true
//
// Clients and connections:
//
//   - sqlite (driver modernc.org/sqlite, pure Go): connection is ":memory:"
//     (the default) or a directory. In memory, every plugin gets its own
//     database, kept alive by a pinned connection until the backend stops,
//     and its pool holds one connection (so a transaction and a query outside
//     it, at the same time, wait for each other). In a directory, the file is
//     <directory>/<prefix><pluginId>.sqlite, created when missing, in WAL
//     mode with immediate transactions. Every connection has foreign keys on
//     and a 5 s busy timeout.
//   - postgres (driver github.com/jackc/pgx/v5/stdlib): connection is a URL
//     postgres://user:password@host:port/database?params. With the database
//     division mode, the plugin's database is <prefix><pluginId>; when
//     ensureExists is on it is created through the database named in the
//     URL (default postgres), which the user must be allowed to connect to,
//     and CREATE DATABASE must be granted. With the schema division mode, all
//     plugins share the database of the URL and each gets the schema named
//     after its id, set as the search_path of every connection.
//   - mysql (driver github.com/go-sql-driver/mysql, MySQL and MariaDB):
//     connection is a URL mysql://user:password@host:port/database?params
//     over TCP; params are those of the driver's DSN (tls, charset,
//     timeout, ...). parseTime is on. The plugin's database is
//     <prefix><pluginId>, created with CREATE DATABASE IF NOT EXISTS.
//
// The database named in the base connection URL is never a plugin's
// database in the database division mode; a per-plugin connection that
// names a database uses that database. A per-plugin client that differs
// from the base client drops the base connection entirely, as in Backstage.
//
// # Lifecycle
//
// [Factory] creates one [Manager] per backend, which caches one pool per
// plugin; the pool is opened (and its database created) on the first call
// of Database.DB, and every pool is closed by a root lifecycle shutdown
// hook, after the plugins' own shutdown hooks.
//
// Migrations are the plugin's business: see package migrate.
package database
