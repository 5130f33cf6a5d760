package testcaches

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Skip and Fatal, which end the
// "test" by a panic that run recovers.
type recorder struct {
	testing.TB      // nil: only the methods below are called
	skipped, failed string
}

type stop struct{}

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(func())   {}
func (r *recorder) Skip(args ...any) { r.skipped = fmt.Sprint(args...); panic(stop{}) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	panic(stop{})
}

func (r *recorder) run(fn func()) {
	defer func() {
		if v := recover(); v != nil && v != (stop{}) {
			panic(v)
		}
	}()
	fn()
}

func TestUnsetRedisSkipsOrFailsUnderCI(t *testing.T) {
	t.Parallel()
	const envVar = "GREENROOM_TEST_CACHE_REDIS7_CONNECTION_STRING"
	if got := Redis7.EnvVar(); got != envVar {
		t.Fatalf("EnvVar() = %q, want %q", got, envVar)
	}
	for _, ci := range []string{"", "true"} {
		r := &recorder{}
		env := func(k string) string {
			if k == "CI" {
				return ci
			}
			return ""
		}
		r.run(func() { New(t).init(r, Redis7, env) })
		msg, want := r.skipped, "skip"
		if ci == "true" {
			msg, want = r.failed, "failure"
		}
		if !strings.Contains(msg, envVar) {
			t.Errorf("CI=%q: %s %q does not name %s (skipped %q, failed %q)", ci, want, msg, envVar, r.skipped, r.failed)
		}
	}
}

func TestUnreachableRedisFails(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	env := func(k string) string {
		if k == Redis7.EnvVar() {
			return "redis://127.0.0.1:1/0"
		}
		return ""
	}
	r.run(func() { New(t).init(r, Redis7, env) })
	if r.failed == "" || !strings.Contains(r.failed, "does not answer") {
		t.Errorf("an unreachable Redis: failed %q, skipped %q; want a failure saying it does not answer", r.failed, r.skipped)
	}
}
