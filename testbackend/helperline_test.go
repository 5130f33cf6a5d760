package testbackend_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// TestFailuresPointAtTheCaller checks that the failures of Start, Do and
// ExpectStatus are reported at the line of the test that called them (the
// helpers mark themselves with t.Helper), by running failing tests in a
// child process and reading their output.
func TestFailuresPointAtTheCaller(t *testing.T) {
	if os.Getenv("TESTBACKEND_HELPERLINE_CHILD") != "" {
		t.Skip("run by the parent test")
	}
	// The lines of this file marked "reported here".
	src, err := os.Open("helperline_test.go")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var lines []int
	sc := bufio.NewScanner(src)
	for n := 1; sc.Scan(); n++ {
		if strings.HasSuffix(sc.Text(), "// reported here") {
			lines = append(lines, n)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLineChild$", "-test.v")
	cmd.Env = append(os.Environ(), "TESTBACKEND_HELPERLINE_CHILD=1")
	out, _ := cmd.CombinedOutput() // the child's tests fail
	if len(lines) != 3 {
		t.Fatalf("found %d marked lines, want 3", len(lines))
	}
	for _, n := range lines {
		if want := fmt.Sprintf("helperline_test.go:%d: ", n); !strings.Contains(string(out), want) {
			t.Errorf("child output does not report a failure at %q:\n%s", want, out)
		}
	}
}

// TestHelperLineChild fails on purpose; TestFailuresPointAtTheCaller runs
// it in a child process.
func TestHelperLineChild(t *testing.T) {
	if os.Getenv("TESTBACKEND_HELPERLINE_CHILD") == "" {
		t.Skip("run by TestFailuresPointAtTheCaller")
	}
	t.Run("Start", func(t *testing.T) {
		failing := backend.NewPlugin("failing", backend.Init(func(context.Context, struct{}) error { return fmt.Errorf("boom") }))
		testbackend.Start(t, failing) // reported here
	})
	t.Run("Do", func(t *testing.T) {
		tb := testbackend.Start(t, echo)
		tb.Get("http://example.com/").Do(t) // reported here
	})
	t.Run("ExpectStatus", func(t *testing.T) {
		tb := testbackend.Start(t, echo)
		tb.Get("/api/echo/whoami").Do(t).ExpectStatus(t, http.StatusTeapot) // reported here
	})
}
