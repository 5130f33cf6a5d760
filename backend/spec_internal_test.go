package backend

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
)

// lateSvc is a service type whose refs the test declares while it runs.
type lateSvc interface{ Late() }

// lateRefs numbers the refs of TestSpecCacheSeesLaterRefs, so that every
// run (under -count) declares a new one.
var lateRefs atomic.Int64

// TestSpecCacheSeesLaterRefs checks that the process-wide cache of
// dependency analyses is not stale when a ref is declared after a struct
// naming it was analysed.
func TestSpecCacheSeesLaterRefs(t *testing.T) {
	id := fmt.Sprintf("test.specLate%d", lateRefs.Add(1))
	// A struct type made for this run, naming the ref by its new id.
	deps := reflect.StructOf([]reflect.StructField{{
		Name: "L",
		Type: reflect.TypeFor[lateSvc](),
		Tag:  reflect.StructTag(fmt.Sprintf(`greenroom:%q`, id)),
	}})

	before := specOf(deps)
	if len(before) != 1 || before[0].ref != nil || !strings.Contains(before[0].problem, "no service ref or extension point has the id") {
		t.Fatalf("before the ref is declared: %+v, want one field with a problem naming the missing id", before)
	}
	if again := specOf(deps); &again[0] != &before[0] {
		t.Errorf("a second analysis of an unchanged type was not served from the cache")
	}

	ref := core.NewServiceRef[lateSvc](id)
	after := specOf(deps)
	if len(after) != 1 || after[0].problem != "" || after[0].ref == nil || after[0].ref.ID() != ref.ID() {
		t.Fatalf("after the ref is declared: %+v, want the field resolved to %s", after, ref)
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
