//go:build !unix

package testdatabases

import "syscall"

func reaperSysProcAttr() *syscall.SysProcAttr { return nil }

// startDirReaper leaves dir to the reaper process.
func startDirReaper(string) bool { return false }
