//go:build unix

package testdatabases

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

var lockFiles sync.Map // keeps run locks open for the life of the process

// lockDir takes an exclusive lock on dir/lock, held until the process dies.
func lockDir(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("creating run lock in %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("locking %s: %w", dir, err)
	}
	lockFiles.Store(dir, f)
	return nil
}

// dirIsDead reports whether no live process holds dir's lock.
func dirIsDead(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR, 0)
	if err != nil {
		return os.IsNotExist(err)
	}
	defer f.Close()
	if _, held := lockFiles.Load(dir); held {
		return false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}
