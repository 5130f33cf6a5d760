package openapitest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// echo is a plugin without a contract: GET /health answers without
// credentials.
var echo = backend.NewPlugin("echo", backend.Init(func(ctx context.Context, d struct{ Router core.HTTPRouter }) error {
	d.Router.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
	})
	d.Router.AddAuthPolicy("/health", core.AllowUnauthenticated)
	return nil
}))

// exampleT stands in for the *testing.T of a test function, so that the
// examples run: a failure prints the message (and Fatal panics, which
// fails the example); cleanups run at finish.
type exampleT struct {
	testing.TB // nil: only the methods below are called
	cleanups   []func()
	ctx        context.Context
	cancel     context.CancelFunc
	failed     bool
}

func newExampleT() *exampleT {
	ctx, cancel := context.WithCancel(context.Background())
	return &exampleT{ctx: ctx, cancel: cancel}
}

func (t *exampleT) Helper()                         {}
func (t *exampleT) Name() string                    { return "Example" }
func (t *exampleT) Context() context.Context        { return t.ctx }
func (t *exampleT) Cleanup(f func())                { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Failed() bool                    { return t.failed }
func (t *exampleT) Log(args ...any)                 { fmt.Println(args...) }
func (t *exampleT) Logf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (t *exampleT) Error(args ...any)               { t.failed = true; fmt.Println(args...) }
func (t *exampleT) Errorf(format string, args ...any) {
	t.failed = true
	fmt.Printf(format+"\n", args...)
}
func (t *exampleT) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) FailNow()                          { panic("FailNow") }

// finish ends the "test": the context is cancelled and the cleanups run,
// last first, as the testing package does when a test returns.
func (t *exampleT) finish() {
	t.cancel()
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
}

// fakeTB is a testing.TB that records failures instead of failing, to
// test what the check reports. Methods it does not override go to the
// real test's TB. Run code with it through record.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Error(args ...any) { f.Errorf("%s", fmt.Sprint(args...)) }

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) FailNow()          { f.Fatalf("FailNow") }
func (f *fakeTB) Fail()             { f.Errorf("Fail") }

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors) > 0
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// output returns the recorded failures, joined.
func (f *fakeTB) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errors, "\n")
}

// record runs fn with a fakeTB in its own goroutine, as the testing
// package runs a test, so that Fatalf can stop it; then it runs the
// cleanups registered with the fakeTB, last first.
func record(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	t.Helper()
	f := &fakeTB{TB: t}
	run := func(fn func()) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			fn()
		}()
		<-done
	}
	run(func() { fn(f) })
	f.mu.Lock()
	cleanups := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	run(func() { // a cleanup may call Fatalf too
		for _, c := range slices.Backward(cleanups) {
			c()
		}
	})
	return f
}

// opTB is the testing.TB of one benchmark operation: its cleanups run when
// the operation ends rather than with the benchmark, so that each
// operation starts and stops a whole backend.
type opTB struct {
	testing.TB
	cleanups []func()
}

func (o *opTB) Cleanup(f func()) { o.cleanups = append(o.cleanups, f) }

func (o *opTB) end() {
	for _, f := range slices.Backward(o.cleanups) {
		f()
	}
	o.cleanups = nil
}
