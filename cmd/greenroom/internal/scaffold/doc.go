// Package scaffold writes the files of a new Greenroom plugin or module
// into an existing Go module: the code behind "greenroom new plugin" and
// "greenroom new module".
//
// [Plugin] writes a plugin package (plugins/<id> by default): the plugin
// with a small per-user resource, its migrations for SQLite, PostgreSQL and
// MySQL, and tests on testbackend and the testdatabases matrix. [Module]
// writes a module of a plugin (plugins/<plugin>-module-<id>). Both find
// the enclosing go.mod for the new package's import path, refuse invalid
// ids with the rule and an example, and write nothing when any of their
// files exists.
//
// The files come from the templates under templates/, rendered with
// text/template and, for Go files, formatted with go/format. The generated
// code passes go vet and go test as it is; the package's acceptance test
// checks that in a fresh module. See docs/scaffold.md.
package scaffold
