// Package sqlitefake is the machinery behind the default database of
// mockservices.Database: a SQLite file per test, opened on first use,
// written from the image of its migrations instead of migrated statement
// by statement, reset and kept for the next test of the process when the
// test ends, with a statement cache per connection.
//
// It is mechanism, not API: package mockservices exposes it as a
// core.Database, and its documentation says what a test can rely on. See
// [DB] for the life of one database, pool.go for the recycling and
// image.go for the images.
package sqlitefake
