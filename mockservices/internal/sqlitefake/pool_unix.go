//go:build unix

package sqlitefake

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

const poolDirPrefix = "greenroom-mockservices-pool-"

// processLock is the lock file of this process's pool directory, held open
// (and flock-ed) for as long as the process lives.
var processLock *os.File

// makeProcessDir makes the pool directory of this process, locked with
// flock so that later processes can tell it from a dead process's, and
// removes the directories of dead processes.
func makeProcessDir() (string, error) {
	base := os.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", poolDirPrefix+"probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			base = "/dev/shm"
		}
	}
	reapDeadPoolDirs(base)
	dir, err := os.MkdirTemp(base, fmt.Sprintf("%s%d-", poolDirPrefix, os.Getpid()))
	if err != nil {
		return "", fmt.Errorf("mockservices: make the database pool directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("mockservices: lock the database pool directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		os.RemoveAll(dir)
		return "", fmt.Errorf("mockservices: lock the database pool directory: %w", err)
	}
	processLock = f
	return dir, nil
}

// reapDeadPoolDirs removes the pool directories whose lock no process
// holds: their process is gone (a killed test binary leaves them behind).
// A live process's directory is never touched, since its lock is held.
func reapDeadPoolDirs(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, poolDirPrefix+"*"))
	for _, d := range dirs {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(d), poolDirPrefix+"%d-", &pid); err == nil && pid > 0 && syscall.Kill(pid, 0) == nil {
			continue // its process is alive (or was just made and not locked yet)
		}
		f, err := os.OpenFile(filepath.Join(d, "lock"), os.O_RDWR, 0)
		if err != nil {
			continue // not a pool directory, or being made right now
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(d)
		}
		f.Close()
	}
}
