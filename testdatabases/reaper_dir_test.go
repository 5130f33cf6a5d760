//go:build unix

package testdatabases

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const dirReaperTestEnv = "GREENROOM_TEST_DIR_REAPER"

// TestDirReaperRemovesTheDirectoryWhenTheProcessExits runs a process that
// starts the shell reaper of a directory and exits; once the process's
// output closes (the shell holds it, as go test's does), the directory is
// gone.
func TestDirReaperRemovesTheDirectoryWhenTheProcessExits(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run dir") // a space, for the shell's quoting
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "db.sqlite"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDirReaperChild$", "-test.v")
	cmd.Env = append(os.Environ(), dirReaperTestEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("after the process exited, %s: %v; want it removed\nchild output:\n%s", dir, err, out)
	}
}

// TestDirReaperChild is the process of the test above.
func TestDirReaperChild(t *testing.T) {
	dir := os.Getenv(dirReaperTestEnv)
	if dir == "" {
		t.Skip("run by TestDirReaperRemovesTheDirectoryWhenTheProcessExits")
	}
	if !startDirReaper(dir) {
		t.Fatal("startDirReaper did not start")
	}
	// The directory stays while this process lives.
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}
