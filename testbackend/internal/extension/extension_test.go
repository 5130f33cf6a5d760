package extension

import (
	"testing"
)

// Register is written once: a second registration panics, and Option
// without a registration panics naming the fix. The only test of the
// package that touches the registration.
func TestRegisterOnce(t *testing.T) {
	t.Parallel()
	saved := newOption
	newOption = nil // as before init; restored for the next run (-count)
	t.Cleanup(func() { newOption = saved })
	panics := func(f func()) (msg any) {
		defer func() { msg = recover() }()
		f()
		return nil
	}
	if msg := panics(func() { Option(nil) }); msg == nil {
		t.Error("Option before Register did not panic")
	}
	Register(func(e Extension) any { return "made" })
	if got := Option(nil); got != "made" {
		t.Errorf("Option = %v, want the registered function's result", got)
	}
	if msg := panics(func() { Register(func(Extension) any { return nil }) }); msg == nil {
		t.Error("a second Register did not panic")
	}
	if got := Option(nil); got != "made" {
		t.Errorf("after a second Register, Option = %v, want the first function's result", got)
	}
}
