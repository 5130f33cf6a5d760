package mockservices_test

import (
	"fmt"
	"testing"
)

// fakeTB is a testing.TB whose failure and cleanups a test controls, to
// check what helpers do when a test fails. Only the methods below may be
// called; the embedded nil interface makes any other one panic.
type fakeTB struct {
	testing.TB
	real     *testing.T
	failed   bool
	logs     []string
	cleanups []func()
}

func newFakeTB(t *testing.T) *fakeTB { return &fakeTB{real: t} }

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Failed() bool      { return f.failed }
func (f *fakeTB) Log(args ...any)   { f.logs = append(f.logs, fmt.Sprint(args...)) }
func (f *fakeTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Errorf(format string, args ...any) { f.failed = true; f.Logf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	panic("Fatalf")
}
func (f *fakeTB) TempDir() string { return f.real.TempDir() }

// finish runs the cleanups, last registered first, as the testing package
// does when a test ends.
func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.cleanups = nil
}
