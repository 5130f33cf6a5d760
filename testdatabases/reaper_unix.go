//go:build unix

package testdatabases

import (
	"os"
	"os/exec"
	"syscall"
)

// The reaper gets its own process group so that a Ctrl-C aimed at the test
// does not stop the cleanup.
func reaperSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// startDirReaper starts a shell that removes dir once this process is gone,
// and reports whether it started. A directory needs no more than that, and
// a run that uses only SQLite then starts no reaper process: that one is a
// copy of the test binary, whose start (the initialization of every package
// the binary links) costs more than the run's first database.
//
// The shell reads a pipe whose write end only this process holds (it is
// close-on-exec and never closed), so end-of-file comes when this process
// exits or is killed. Like the reaper, the shell inherits stdout and
// stderr, so go test waits for the directory to be gone.
func startDirReaper(dir string) bool {
	r, w, err := os.Pipe()
	if err != nil {
		return false
	}
	defer r.Close()
	defer w.Close()
	// The write end outlives w, as a descriptor no *os.File owns (a
	// finalizer would close it); close-on-exec, like w, so that no other
	// child holds it.
	syscall.ForkLock.RLock()
	fd, err := syscall.Dup(int(w.Fd()))
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return false
	}
	cmd := exec.Command("/bin/sh", "-c", `trap '' INT TERM HUP; while read -r _; do :; done; exec rm -rf -- "$1"`, "greenroom-testdatabases-reaper", dir)
	cmd.Stdin = r
	cmd.Stdout = procStdout
	cmd.Stderr = procStderr
	cmd.SysProcAttr = reaperSysProcAttr()
	if err := cmd.Start(); err != nil {
		syscall.Close(fd)
		return false
	}
	go cmd.Wait() //nolint:errcheck // reaped on exit; the shell outlives us
	return true
}
