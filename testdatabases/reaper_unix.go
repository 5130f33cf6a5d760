//go:build unix

package testdatabases

import "syscall"

// The reaper gets its own process group so that a Ctrl-C aimed at the test
// does not stop the cleanup.
func reaperSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
