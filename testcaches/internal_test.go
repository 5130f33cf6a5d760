package testcaches

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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

// fakeProvider "starts" a container at addr, or fails with err.
type fakeProvider struct {
	addr   string
	err    error
	starts int
	spec   ContainerSpec
}

func (p *fakeProvider) Name() string { return "fake" }
func (p *fakeProvider) Start(_ context.Context, spec ContainerSpec) (string, error) {
	p.starts++
	p.spec = spec
	return p.addr, p.err
}

func TestContainerProvider(t *testing.T) {
	t.Parallel()
	// A provider with no container engine: the engine is unavailable.
	r := &recorder{}
	noEngine := &fakeProvider{err: fmt.Errorf("docker: %w", ErrNoContainerEngine)}
	r.run(func() { New(t, WithContainerProvider(noEngine)).init(r, Redis7, func(string) string { return "" }) })
	if !strings.Contains(r.skipped, "no container engine") || noEngine.starts != 1 {
		t.Errorf("no container engine: skipped %q, failed %q, starts %d; want a skip", r.skipped, r.failed, noEngine.starts)
	}
	if noEngine.spec.Port != "6379/tcp" || !strings.HasPrefix(noEngine.spec.Image, "redis:7") {
		t.Errorf("spec = %+v, want a redis:7 image on 6379/tcp", noEngine.spec)
	}
	// A provider whose container does not answer: a failure.
	r = &recorder{}
	r.run(func() {
		New(t, WithContainerProvider(&fakeProvider{addr: "127.0.0.1:1"})).init(r, Redis7, func(string) string { return "" })
	})
	if !strings.Contains(r.failed, "container of fake") {
		t.Errorf("an unreachable container: failed %q, skipped %q; want a failure naming the provider", r.failed, r.skipped)
	}
}

// A provider's container serves the engine when no connection string is
// set: here the "container" is the Redis of the environment.
func TestContainerProviderServes(t *testing.T) {
	t.Parallel()
	url := os.Getenv(Redis7.EnvVar())
	if url == "" {
		t.Skip(Redis7.EnvVar() + " is not set")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeProvider{addr: opts.Addr}
	set := New(t, Redis7, WithContainerProvider(p))
	c := set.init(t, Redis7, func(string) string { return "" })
	if want := "redis://" + opts.Addr + "/0"; c.ConnectionString != want {
		t.Errorf("ConnectionString = %q, want %q", c.ConnectionString, want)
	}
	if err := c.ForPlugin("p").Set(t.Context(), "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	set.init(t, Redis7, func(string) string { return "" })
	if p.starts != 1 {
		t.Errorf("the provider started %d containers for two tests, want 1", p.starts)
	}
}
