package mockservices_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
)

func TestLifecycleOrder(t *testing.T) {
	ctx := context.Background()
	lc := mockservices.Lifecycle()
	var got []string
	hook := func(name string, err error) core.Hook {
		return func(context.Context) error { got = append(got, name); return err }
	}
	for _, err := range []error{
		lc.AddStartupHook(hook("start1", nil)),
		lc.AddStartupHook(hook("start2", nil)),
		lc.AddShutdownHook(hook("stop1", errors.New("stop1 failed"))),
		lc.AddShutdownHook(hook("stop2", nil)),
		lc.AddBeforeShutdownHook(hook("before1", nil)),
		lc.AddBeforeShutdownHook(hook("before2", errors.New("before2 failed"))),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := lc.RunStartupHooks(ctx); err != nil {
		t.Fatal(err)
	}
	err := lc.RunShutdownHooks(ctx)
	if want := []string{"start1", "start2", "before1", "before2", "stop2", "stop1"}; !slices.Equal(got, want) {
		t.Errorf("hooks ran in the order %q, want %q", got, want)
	}
	for _, msg := range []string{"before-shutdown hook 2 of 2 failed: before2 failed", "shutdown hook 2 of 2 (counted from the last added) failed: stop1 failed"} {
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("RunShutdownHooks = %v, want an error containing %q", err, msg)
		}
	}
	if err := lc.RunShutdownHooks(ctx); err != nil || len(got) != 6 {
		t.Errorf("a second RunShutdownHooks = %v and ran hooks again: %q", err, got)
	}
}

func TestLifecycleErrors(t *testing.T) {
	ctx := context.Background()
	noop := func(context.Context) error { return nil }
	boom := errors.New("boom")
	tests := []struct {
		name string
		run  func(lc *mockservices.LifecycleService) error
		want string
	}{
		{"a failing startup hook stops the others", func(lc *mockservices.LifecycleService) error {
			ran := false
			_ = lc.AddStartupHook(func(context.Context) error { return boom })
			_ = lc.AddStartupHook(func(context.Context) error { ran = true; return nil })
			err := lc.RunStartupHooks(ctx)
			if ran {
				return errors.New("the second hook ran")
			}
			return err
		}, "startup hook 1 of 2 failed: boom"},
		{"startup runs once", func(lc *mockservices.LifecycleService) error {
			_ = lc.RunStartupHooks(ctx)
			return lc.RunStartupHooks(ctx)
		}, "RunStartupHooks was called twice"},
		{"late startup hook", func(lc *mockservices.LifecycleService) error {
			_ = lc.RunStartupHooks(ctx)
			return lc.AddStartupHook(noop)
		}, "attempted to add a startup hook after startup"},
		{"late shutdown hook", func(lc *mockservices.LifecycleService) error {
			_ = lc.RunShutdownHooks(ctx)
			return lc.AddShutdownHook(noop)
		}, "attempted to add a shutdown hook after shutdown began"},
		{"late before-shutdown hook", func(lc *mockservices.LifecycleService) error {
			_ = lc.RunShutdownHooks(ctx)
			return lc.AddBeforeShutdownHook(noop)
		}, "attempted to add a before-shutdown hook after shutdown began"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(mockservices.Lifecycle())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(tt.want, "boom") && !errors.Is(err, boom) {
				t.Errorf("%v does not wrap the hook's error", err)
			}
		})
	}
}
