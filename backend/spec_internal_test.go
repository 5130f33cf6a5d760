package backend

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
)

// lateSvc is a service type whose refs a test declares while it runs.
type lateSvc interface{ Late() }

// lateRefs numbers the refs of TestStartSeesRefsDeclaredSinceEarlierBackends,
// so that every run (under -count) declares a new one.
var lateRefs atomic.Int64

// latePlugin returns a plugin whose dependency struct, made for the run,
// has one field of type lateSvc tagged with the ref id id. (Init needs the
// struct type at compile time; the registration is built by hand.)
func latePlugin(id string) *Plugin {
	deps := reflect.StructOf([]reflect.StructField{{
		Name: "L",
		Type: reflect.TypeFor[lateSvc](),
		Tag:  reflect.StructTag(fmt.Sprintf(`greenroom:%q`, id)),
	}})
	return &Plugin{id: "late", reg: registration{initCalls: 1, init: &initFunc{
		deps: deps,
		fn:   func(context.Context, reflect.Value) error { return nil },
	}}}
}

type lateImpl struct{}

func (lateImpl) Late() {}

// TestStartSeesRefsDeclaredSinceEarlierBackends checks that a backend's
// validation depends on the refs declared when it starts, not on what an
// earlier backend of the process saw: the same plugin is rejected before
// its ref is declared and accepted after, and the analysis of the
// dependency struct made by the first backend is not reused.
func TestStartSeesRefsDeclaredSinceEarlierBackends(t *testing.T) {
	t.Parallel()
	id := fmt.Sprintf("test.specLate%d", lateRefs.Add(1))
	p := latePlugin(id)
	ctx := t.Context()

	first := New()
	if err := first.Add(p); err != nil {
		t.Fatal(err)
	}
	err := first.Start(ctx)
	var werr *WiringError
	if !errors.As(err, &werr) || !strings.Contains(err.Error(), fmt.Sprintf("no service ref or extension point has the id %q", id)) {
		t.Fatalf("first Start, before the ref is declared: %v, want a *WiringError naming the missing id", err)
	}
	t.Cleanup(func() { first.Stop(context.Background()) })

	ref := core.NewServiceRef[lateSvc](id)
	second := New()
	if err := second.Add(p, NewPluginServiceFactory(ref, func(context.Context, struct{}) (lateSvc, error) { return lateImpl{}, nil })); err != nil {
		t.Fatal(err)
	}
	if err := second.Start(ctx); err != nil {
		t.Fatalf("second Start, after the ref is declared: %v", err)
	}
	if err := second.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// FuzzValidIDFollowsThePattern checks validID against the pattern it
// implements; go test runs the seeds, go test -fuzz more.
func FuzzValidIDFollowsThePattern(f *testing.F) {
	pattern := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	for _, s := range []string{"", "a", "todo", "todo-list", "todo2", "a-1-b", "-a", "a-", "a--b", "A", "aB", "1a", "a_b", "a.b", "a b", "todo-", "é", "a\n", "a-b-", "ab-c2-d3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validID(s), pattern.MatchString(s); got != want {
			t.Errorf("validID(%q) = %v, want %v", s, got, want)
		}
	})
}
