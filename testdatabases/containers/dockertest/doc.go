// Package dockertest starts the server engines of package testdatabases
// in containers with ory/dockertest, for engines whose connection-string
// variable is not set:
//
//	import (
//		"github.com/greenroom-dev/greenroom/testdatabases"
//		"github.com/greenroom-dev/greenroom/testdatabases/containers/dockertest"
//	)
//
//	dbs := testdatabases.New(t, testdatabases.Postgres17, testdatabases.WithContainerProvider(dockertest.Provider()))
//
// It is a Go module of its own: only the test binaries that import it link
// dockertest and its Docker client; testdatabases, mockservices and
// testbackend link none of it.
//
// One container per engine, named greenroom-test-<id>, is reused by name,
// so the test binaries of one go test ./... run share it. Containers are
// removed when they stop and expire after 30 minutes: they outlive the
// binary that started them so that the run's other binaries can use them.
// Data lives on tmpfs with durability off.
//
// When no Docker-compatible engine answers (DOCKER_HOST, else the default
// socket), Start's error wraps testdatabases.ErrNoContainerEngine: the
// engine's tests skip, or fail under CI=true, with a message that says so
// and names the engine's connection-string variable.
package dockertest
