package testbackend_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// TestTryStart checks that TryStart returns the error of a failed start
// with everything that had started already stopped, and that a backend it
// started stops when the test ends.
func TestTryStart(t *testing.T) {
	t.Parallel()
	errRefused := errors.New("refusing to start")
	// stopped counts the shutdowns of the plugin "steady" of one subtest.
	steady := func(stopped *atomic.Int32) *backend.Plugin {
		return backend.NewPlugin("steady", backend.Init(func(ctx context.Context, d struct{ Lifecycle core.Lifecycle }) error {
			return d.Lifecycle.AddShutdownHook(func(context.Context) error {
				stopped.Add(1)
				return nil
			})
		}))
	}
	refusing := backend.NewPlugin("refusing", backend.Init(func(context.Context, struct{}) error { return errRefused }))

	t.Run("failed start", func(t *testing.T) {
		t.Parallel()
		var stopped atomic.Int32
		tb, err := testbackend.TryStart(t, steady(&stopped), refusing)
		if tb != nil {
			t.Errorf("TryStart returned a backend with the error %v", err)
		}
		if !errors.Is(err, errRefused) || !strings.Contains(err.Error(), "Plugin 'refusing' startup failed") {
			t.Fatalf("TryStart = %v, want an error naming plugin 'refusing' and wrapping its cause", err)
		}
		if n := stopped.Load(); n != 1 {
			t.Errorf("plugin 'steady' stopped %d times when TryStart returned, want 1", n)
		}
	})
	t.Run("invalid wiring", func(t *testing.T) {
		t.Parallel()
		_, err := testbackend.TryStart(t, refusing, refusing)
		var werr *backend.WiringError
		if !errors.As(err, &werr) {
			t.Fatalf("TryStart = %v, want a *backend.WiringError", err)
		}
	})
	t.Run("bad option", func(t *testing.T) {
		t.Parallel()
		_, err := testbackend.New(testbackend.WithDefaultUser("mock")).TryStart(t, refusing)
		if err == nil || !strings.Contains(err.Error(), "WithDefaultUser") {
			t.Fatalf("TryStart = %v, want the option's error", err)
		}
	})
	t.Run("success", func(t *testing.T) {
		t.Parallel()
		var stopped atomic.Int32
		t.Run("test", func(t *testing.T) {
			tb, err := testbackend.TryStart(t, steady(&stopped))
			if err != nil {
				t.Fatal(err)
			}
			if got := tb.PluginIDs(); len(got) != 1 || got[0] != "steady" {
				t.Errorf("PluginIDs = %q", got)
			}
			if n := stopped.Load(); n != 0 {
				t.Errorf("plugin 'steady' stopped %d times before the test ended", n)
			}
		})
		if n := stopped.Load(); n != 1 {
			t.Errorf("plugin 'steady' stopped %d times after the test ended, want 1", n)
		}
	})
}

// TestWithExtensionPointPerBackend checks that backends started from one
// Setup with WithExtensionPoint, or with the same module, see their own
// registrations when each has its own implementation.
func TestWithExtensionPointPerBackend(t *testing.T) {
	t.Parallel()
	module := backend.NewModule("greeter", "english", backend.Init(func(ctx context.Context, d struct{ G greetings }) error {
		d.G.Add("hello")
		return nil
	}))
	for range 4 {
		t.Run("backend", func(t *testing.T) {
			t.Parallel()
			var got greetingList
			testbackend.New(testbackend.WithExtensionPoint[greetings](greetingsPoint, &got)).Start(t, module)
			if len(got) != 1 || got[0] != "hello" {
				t.Errorf("registrations = %q, want one hello", got)
			}
		})
	}
}
