package testbackend_test

import (
	"net/http"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// opTB is the testing.TB of one benchmark operation: its cleanups run, and
// its temporary directories go, when the operation ends rather than with
// the benchmark, so that each operation starts and stops a whole backend.
type opTB struct {
	testing.TB
	cleanups []func()
}

func (o *opTB) Cleanup(f func()) { o.cleanups = append(o.cleanups, f) }

func (o *opTB) TempDir() string {
	dir, err := os.MkdirTemp("", "testbackend-bench-")
	if err != nil {
		o.Fatal(err)
	}
	o.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (o *opTB) end() {
	for _, f := range slices.Backward(o.cleanups) {
		f()
	}
}

// reportCPU adds the metric cpu-ns/op: the process's CPU time (user and
// system, every goroutine) per operation. Unlike ns/op it hardly moves
// when other processes compete for the machine's cores.
func reportCPU(b *testing.B) {
	start := cpuTime()
	b.Cleanup(func() {
		b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStart boots the todo plugin with all mock services (its SQLite
// database migrated), serves one authenticated request through the whole
// chain and stops the backend.
func BenchmarkStart(b *testing.B) {
	reportCPU(b)
	for b.Loop() {
		t := &opTB{TB: b}
		tb := testbackend.Start(t, todo.Plugin)
		tb.Get("/api/todo/todos").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusOK)
		t.end()
	}
}

// BenchmarkStartWrite is BenchmarkStart with a request that writes (it
// creates a todo), as most tests of a plugin do: the database the next
// operation gets must then be reset, where BenchmarkStart's read-only
// request lets the pool skip the reset. Every operation checks that it
// started from the migrated state: its todo gets id 1.
func BenchmarkStartWrite(b *testing.B) {
	reportCPU(b)
	body := map[string]any{"title": "milk"}
	for b.Loop() {
		t := &opTB{TB: b}
		tb := testbackend.Start(t, todo.Plugin)
		var created todo.Todo
		tb.Post("/api/todo/todos", body).AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusCreated).DecodeJSON(t, &created)
		if created.ID != 1 {
			b.Fatalf("the todo got id %d, want 1: the database was not reset to its migrated state", created.ID)
		}
		t.end()
	}
}

// BenchmarkStartWithoutDatabase is BenchmarkStart for a plugin that uses no
// database, to tell the cost of the backend from that of SQLite.
func BenchmarkStartWithoutDatabase(b *testing.B) {
	reportCPU(b)
	for b.Loop() {
		t := &opTB{TB: b}
		tb := testbackend.Start(t, echo)
		tb.Get("/api/echo/whoami").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusOK)
		t.end()
	}
}

// BenchmarkRequest is one authenticated request to a started backend.
func BenchmarkRequest(b *testing.B) {
	tb := testbackend.Start(b, todo.Plugin)
	reportCPU(b)
	for b.Loop() {
		tb.Get("/api/todo/todos").AsUser("user:default/alice").Do(b).ExpectStatus(b, http.StatusOK)
	}
}

// BenchmarkStartInstances starts three instances of the todo plugin's
// backend on one SQLite database of the operation (taken from
// testdatabases, migrated by the instances' inits, once), serves one
// authenticated request through each, and stops them.
func BenchmarkStartInstances(b *testing.B) {
	reportCPU(b)
	for b.Loop() {
		t := &opTB{TB: b}
		for _, tb := range testbackend.StartInstances(t, 3, todo.Plugin) {
			tb.Get("/api/todo/todos").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusOK)
		}
		t.end()
	}
}

// BenchmarkStartInstancesMigrated is BenchmarkStartInstances on a SQLite
// test database that starts migrated (testdatabases.WithMigrator), given
// with WithDatabase: the instances' migrations find nothing to apply.
func BenchmarkStartInstancesMigrated(b *testing.B) {
	reportCPU(b)
	dbs := testdatabases.New(b, testdatabases.SQLite3, testdatabases.WithMigrator(todo.Migrations))
	for b.Loop() {
		t := &opTB{TB: b}
		db := dbs.Init(t, testdatabases.SQLite3, testdatabases.Clone)
		for _, tb := range testbackend.New(testbackend.WithDatabase(db)).StartInstances(t, 3, todo.Plugin) {
			tb.Get("/api/todo/todos").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusOK)
		}
		t.end()
	}
}
