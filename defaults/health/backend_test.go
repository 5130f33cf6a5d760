package health_test

import (
	"context"
	"io"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/health"
	"github.com/greenroom-dev/greenroom/defaults/logger"
)

// TestFactoryFollowsTheBackend checks readiness through the backend's own
// root lifecycle: not ready while plugins start, ready once the backend has
// started, not ready again once it stops.
func TestFactoryFollowsTheBackend(t *testing.T) {
	b := backend.New(backend.WithDefaults(
		config.Factory(config.Env(nil)),
		logger.RootFactory(logger.Writer(io.Discard)),
		logger.Factory(),
		health.Factory(),
	))
	var duringInit core.HealthStatus
	type deps struct{}
	plugin := backend.NewPlugin("probe", backend.Init(func(ctx context.Context, _ deps) error {
		h, err := backend.Resolve(ctx, b, core.RootHealthRef, "")
		if err != nil {
			return err
		}
		duringInit = h.Readiness(ctx)
		return nil
	}))
	if err := b.Add(plugin); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	h, err := backend.Resolve(t.Context(), b, core.RootHealthRef, "")
	if err != nil {
		t.Fatal(err)
	}
	if duringInit.Message != health.NotStartedMessage {
		t.Errorf("readiness while plugins start = %+v, want %q", duringInit, health.NotStartedMessage)
	}
	if got := h.Readiness(t.Context()); !got.OK() {
		t.Errorf("readiness after Start = %+v, want ok", got)
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := h.Readiness(t.Context()); got.Message != health.ShuttingDownMessage {
		t.Errorf("readiness after Stop = %+v, want %q", got, health.ShuttingDownMessage)
	}
	if got := h.Liveness(t.Context()); !got.OK() {
		t.Errorf("liveness after Stop = %+v, want ok", got)
	}
}
