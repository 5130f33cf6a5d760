package testdatabases_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

// The parallel pattern of issue 8: tests that call t.Parallel and then
// dbs.Each with a test function that calls t.Parallel again. It used to
// deadlock on PostgreSQL and MariaDB: Each took a database before the test
// function ran, so subtests paused in t.Parallel held every pooled database
// while the tests that waited for the pool held the parallel slots.
//
// TestParallelPattern runs the pattern in a child process (this test
// binary, re-executed with -test.run=^TestParallelPatternChild$), once per
// engine, number of tests and -parallel, with a -test.timeout so that a
// deadlock fails the child instead of hanging the run.

const (
	patternEnv       = "GREENROOM_TESTDATABASES_PATTERN"        // "<engine>:<tests>" in the child
	patternBeforeEnv = "GREENROOM_TESTDATABASES_PATTERN_BEFORE" // "1": use the database before t.Parallel
	patternCloneEnv  = "GREENROOM_TESTDATABASES_PATTERN_CLONE"  // "1": in Clone mode
	patternTimeout   = "90s"                                    // the child's -test.timeout
)

// TestParallelPatternChild is the pattern itself. It runs only in the
// child. Its subtests stand for top-level tests: top-level tests are
// subtests of the testing package's root test, with the same t.Parallel
// rules, so N parallel subtests here behave as N parallel Test functions.
func TestParallelPatternChild(t *testing.T) {
	spec := os.Getenv(patternEnv)
	if spec == "" {
		t.Skip("runs only in the child process of TestParallelPattern")
	}
	engine, n, ok := strings.Cut(spec, ":")
	tests, err := strconv.Atoi(n)
	if !ok || err != nil {
		t.Fatalf("bad %s=%q, want <engine>:<number of tests>", patternEnv, spec)
	}
	before := os.Getenv(patternBeforeEnv) == "1"
	dbs := testdatabases.New(t, testdatabases.ID(engine), testdatabases.WithMigrator(isoSchema))
	if os.Getenv(patternCloneEnv) == "1" {
		dbs = dbs.With(testdatabases.Clone)
	}
	for i := range tests {
		t.Run(fmt.Sprintf("test%03d", i), func(t *testing.T) {
			t.Parallel()
			dbs.Each(t, func(t *testing.T, db *testdatabases.DB) {
				if before {
					// Take the database, then pause holding it.
					checkPristine(t, db)
					if t.Failed() {
						t.FailNow()
					}
				}
				t.Parallel()
				checkPristine(t, db)
				dirty(t, db, fmt.Sprint(i))
			})
		})
	}
}

func TestParallelPattern(t *testing.T) {
	t.Parallel()
	if os.Getenv(patternEnv) != "" {
		t.Skip("this is the child process")
	}
	if testing.Short() {
		t.Skip("re-executes the test binary 32 times; skipped with -short")
	}
	for _, id := range []testdatabases.ID{testdatabases.SQLite3, testdatabases.Postgres15, testdatabases.MariaDB10} {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			requireEngine(t, id)
			for _, tests := range []int{12, 100} {
				for _, parallel := range []int{1, 2, 8, 64} {
					t.Run(fmt.Sprintf("tests=%d/parallel=%d", tests, parallel), func(t *testing.T) {
						t.Parallel()
						runPatternChild(t, id, tests, parallel, nil)
					})
				}
			}
			t.Run("clone/tests=12/parallel=8", func(t *testing.T) {
				t.Parallel()
				runPatternChild(t, id, 12, 8, []string{patternCloneEnv + "=1"})
			})
			// Each test uses its database before t.Parallel, so paused tests
			// hold 12 databases, more than a pool keeps warm: the pool grows.
			t.Run("before/tests=12/parallel=2", func(t *testing.T) {
				t.Parallel()
				runPatternChild(t, id, 12, 2, []string{patternBeforeEnv + "=1"})
			})
			if id == testdatabases.SQLite3 {
				return // no cap: files, not server sessions
			}
			// The same with a cap of 3 databases: the fourth test cannot be
			// served and fails with an explanation, instead of hanging.
			t.Run("before/cap=3", func(t *testing.T) {
				t.Parallel()
				out, err := runChild(id, 6, 2, []string{patternBeforeEnv + "=1",
					"GREENROOM_TEST_DATABASE_POOL_MAX=3", "GREENROOM_TEST_DATABASE_POOL_WAIT=1s"})
				var exit *exec.ExitError
				if !errors.As(err, &exit) || strings.Contains(out, "test timed out") {
					t.Fatalf("child: %v, want a failing exit before the timeout:\n%s", err, tail(out, 60))
				}
				for _, want := range []string{
					"got no " + string(id) + " database (rollback isolation): no " + string(id) + " database became free for 1s",
					"holds 3 " + string(id) + " databases, its cap (GREENROOM_TEST_DATABASE_POOL_MAX=3), 3 of them taken by tests",
					"paused in t.Parallel()",
					"Fix: use the database only after t.Parallel()",
				} {
					if !strings.Contains(out, want) {
						t.Errorf("child output lacks %q:\n%s", want, tail(out, 60))
					}
				}
				// Which tests wait depends on the order the parallel slots
				// are handed out; the first three always get a database.
				p := len(patternResults("PASS", id).FindAllString(out, -1))
				f := len(patternResults("FAIL", id).FindAllString(out, -1))
				if p < 3 || f < 1 || p+f != 6 {
					t.Errorf("%d tests passed and %d failed, want 3 or more to pass and the others to fail:\n%s", p, f, tail(out, 60))
				}
			})
		})
	}
}

// requireEngine skips t (fails it under CI=true) unless the server engine
// id has a connection string.
func requireEngine(t *testing.T, id testdatabases.ID) {
	t.Helper()
	if id == testdatabases.SQLite3 || os.Getenv(id.EnvVar()) != "" {
		return
	}
	msg := fmt.Sprintf("set %s to run this test on %s", id.EnvVar(), id)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true requires every engine)")
	}
	t.Skip(msg)
}

// runPatternChild runs TestParallelPatternChild in a child process and
// checks that every engine subtest ran and passed.
func runPatternChild(t *testing.T, id testdatabases.ID, tests, parallel int, env []string) {
	t.Helper()
	out, err := runChild(id, tests, parallel, env)
	if err != nil {
		t.Fatalf("child (%d tests, -parallel %d on %s) failed: %v\n%s", tests, parallel, id, err, tail(out, 60))
	}
	if got := len(patternResults("PASS", id).FindAllString(out, -1)); got != tests {
		t.Fatalf("child ran %d passing %s subtests, want %d (skipped?):\n%s", got, id, tests, tail(out, 60))
	}
}

// runChild runs TestParallelPatternChild with tests tests on engine id at
// -parallel parallel, and returns its output.
func runChild(id testdatabases.ID, tests, parallel int, env []string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestParallelPatternChild$", "-test.v",
		"-test.parallel="+strconv.Itoa(parallel), "-test.timeout="+patternTimeout, "-test.count=1")
	cmd.Env = append(os.Environ(), patternEnv+"="+string(id)+":"+strconv.Itoa(tests))
	// A race-enabled binary sleeps 1 s on exit by default; the child and
	// its reaper would add 2 s to every case.
	cmd.Env = append(cmd.Env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// patternResults matches the child's result lines of engine subtests.
func patternResults(result string, id testdatabases.ID) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\s*--- ` + result + `: TestParallelPatternChild/test\d+/` + regexp.QuoteMeta(string(id)) + ` `)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
