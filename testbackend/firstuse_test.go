package testbackend_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkFirstUse measures what a small test binary pays for its first
// isolated database (package testdatabases) or its first test backend: the
// binary of testdata/firstuse, built once outside the timer, runs one test
// per operation in a fresh process. ns/op is the wall time until the
// process's output closes, which is what go test waits for (the
// testdatabases reaper, a child process, holds it until it has cleaned
// up); exit-ns/op is the wall time until the process exits; first-use-ns/op
// is the time the test itself measured, from its start to the end of the
// first use (a database with BenchmarkIsolatedDatabase's schema and one
// insert, or testbackend.Start of the todo plugin and one request).
//
// postgres and mysql use the first server of each kind whose connection
// string is set, as BenchmarkIsolatedDatabase does, and skip without one.
//
// GREENROOM_FIRSTUSE_BINARY names a binary built beforehand (go test -c
// ./testbackend/testdata/firstuse), to compare two versions of the code.
func BenchmarkFirstUse(b *testing.B) {
	bin := os.Getenv("GREENROOM_FIRSTUSE_BINARY")
	if bin == "" {
		goTool, err := exec.LookPath("go")
		if err != nil {
			b.Skipf("the go command is needed to build the test binary: %v", err)
		}
		bin = filepath.Join(b.TempDir(), "firstuse.test")
		build := exec.Command(goTool, "test", "-c", "-o", bin, "./testdata/firstuse")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("building testdata/firstuse: %v\n%s", err, out)
		}
	}
	for _, c := range []struct{ name, test string }{
		{"sqlite", "TestSQLite"},
		{"postgres", "TestPostgres"},
		{"mysql", "TestMySQL"},
		{"testbackend", "TestBackend"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var exit, firstUse time.Duration
			for b.Loop() {
				r, err := runFirstUse(bin, c.test)
				if err != nil {
					b.Fatal(err)
				}
				if r.skipped != "" {
					b.Skip(r.skipped)
				}
				exit += r.exit
				firstUse += r.firstUse
			}
			b.ReportMetric(float64(exit.Nanoseconds())/float64(b.N), "exit-ns/op")
			b.ReportMetric(float64(firstUse.Nanoseconds())/float64(b.N), "first-use-ns/op")
		})
	}
}

type firstUseRun struct {
	exit, firstUse time.Duration
	skipped        string // why the test skipped, or ""
}

// runFirstUse runs test alone in a new process of bin and returns when its
// output closes.
func runFirstUse(bin, test string) (firstUseRun, error) {
	var r firstUseRun
	// A pipe of our own rather than cmd.StdoutPipe, so that Wait returns
	// when the process exits, before its children close the output.
	pr, pw, err := os.Pipe()
	if err != nil {
		return r, err
	}
	defer pr.Close()
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Stdout, cmd.Stderr = pw, pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		return r, err
	}
	pw.Close()
	var out bytes.Buffer
	read := make(chan error, 1)
	go func() { _, err := io.Copy(&out, pr); read <- err }()
	werr := cmd.Wait()
	r.exit = time.Since(start)
	if err := <-read; err != nil {
		return r, err
	}
	if werr != nil {
		return r, fmt.Errorf("%s %s: %v\n%s", bin, test, werr, out.Bytes())
	}
	text := out.String()
	if strings.Contains(text, "--- SKIP") {
		r.skipped = text
		return r, nil
	}
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "greenroom-first-use-ns "); ok {
			ns, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return r, fmt.Errorf("%s %s printed %q: %v", bin, test, line, err)
			}
			r.firstUse = time.Duration(ns)
			return r, nil
		}
	}
	return r, fmt.Errorf("%s %s printed no first-use time:\n%s", bin, test, text)
}
