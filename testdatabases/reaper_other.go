//go:build !unix

package testdatabases

import "syscall"

func reaperSysProcAttr() *syscall.SysProcAttr { return nil }
