package reqctx_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/reqctx"
)

func TestFromWithoutState(t *testing.T) {
	if s := reqctx.From(context.Background()); s != nil {
		t.Fatalf("From(empty context) = %+v, want nil", s)
	}
	// A nil State computes every time.
	var s *reqctx.State
	calls := 0
	for range 2 {
		if _, err := s.Credentials(func() (core.Credentials, error) { calls++; return core.Credentials{}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Fatalf("nil State computed %d times, want 2", calls)
	}
}

func TestCredentialsAreMemoizedOncePerRequest(t *testing.T) {
	s := &reqctx.State{PluginID: "todo", LimitedAccess: true}
	ctx := reqctx.With(context.Background(), s)
	if got := reqctx.From(ctx); got != s {
		t.Fatalf("From = %p, want the State given to With %p", got, s)
	}
	want := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}, time.Time{}, "tok")
	boom := errors.New("verification failed")
	var mu sync.Mutex
	calls := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c, err := reqctx.From(ctx).Credentials(func() (core.Credentials, error) {
				mu.Lock()
				calls++
				mu.Unlock()
				return want, boom
			})
			if c.Principal != want.Principal || !errors.Is(err, boom) {
				t.Errorf("Credentials = %v, %v; want the memoized result", c, err)
			}
		})
	}
	wg.Wait()
	if calls != 1 {
		t.Fatalf("credentials computed %d times, want once per request", calls)
	}
}
