// Package testcontainers starts the server engines of package
// testdatabases in containers with testcontainers-go, for engines whose
// connection-string variable is not set:
//
//	import (
//		"github.com/greenroom-dev/greenroom/testdatabases"
//		"github.com/greenroom-dev/greenroom/testdatabases/containers/testcontainers"
//	)
//
//	dbs := testdatabases.New(t, testdatabases.Postgres17, testdatabases.WithContainerProvider(testcontainers.Provider()))
//
// It is a Go module of its own: only the test binaries that import it link
// testcontainers-go and its Docker client, containerd and OpenTelemetry
// packages; testdatabases, mockservices and testbackend link none of them.
//
// One container per engine, named greenroom-test-<id>, is reused by name,
// so the test binaries of one go test ./... run share it; testcontainers'
// reaper (Ryuk) removes it after the session. Data lives on tmpfs with
// durability off.
//
// When no Docker-compatible engine answers, Start's error wraps
// testdatabases.ErrNoContainerEngine: the engine's tests skip, or fail
// under CI=true, with a message that says so and names the engine's
// connection-string variable.
package testcontainers
