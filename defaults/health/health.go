package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// The paths of the health endpoints on the root router.
const (
	LivenessPath  = "/.greenroom/health/v1/liveness"
	ReadinessPath = "/.greenroom/health/v1/readiness"
)

// The readiness messages while the backend is not ready.
const (
	NotStartedMessage   = "Backend has not started yet"
	ShuttingDownMessage = "Backend is shutting down"
)

// state is the phase of the backend as seen by readiness.
type state int32

const (
	starting state = iota
	ready
	shuttingDown
)

// Health is the default [core.RootHealth]. Build it with [New].
type Health struct {
	state atomic.Int32
}

var _ core.RootHealth = (*Health)(nil)

// New returns a Health that follows lc: it adds a startup hook that makes
// the backend ready and a before-shutdown hook that makes it not ready
// again. It fails if lc refuses the hooks, for example because the
// backend has already started.
func New(lc core.RootLifecycle) (*Health, error) {
	h := &Health{}
	if err := lc.AddStartupHook(func(context.Context) error {
		// A backend that began shutting down during startup stays down.
		h.state.CompareAndSwap(int32(starting), int32(ready))
		return nil
	}); err != nil {
		return nil, fmt.Errorf("health: add the root startup hook that marks the backend ready: %w", err)
	}
	if err := lc.AddBeforeShutdownHook(func(context.Context) error {
		h.state.Store(int32(shuttingDown))
		return nil
	}); err != nil {
		return nil, fmt.Errorf("health: add the root before-shutdown hook that marks the backend not ready: %w", err)
	}
	return h, nil
}

// Liveness is always ok.
func (h *Health) Liveness(context.Context) core.HealthStatus {
	return core.HealthStatus{Status: "ok"}
}

// Readiness is ok between the root startup hooks and the before-shutdown
// hooks, and an error naming the phase otherwise.
func (h *Health) Readiness(context.Context) core.HealthStatus {
	switch state(h.state.Load()) {
	case ready:
		return core.HealthStatus{Status: "ok"}
	case shuttingDown:
		return core.HealthStatus{Status: "error", Message: ShuttingDownMessage}
	default:
		return core.HealthStatus{Status: "error", Message: NotStartedMessage}
	}
}

// Factory returns the default factory of [core.RootHealthRef]. It depends on
// the root lifecycle.
func Factory() *backend.ServiceFactory {
	return backend.NewRootServiceFactory(core.RootHealthRef,
		func(ctx context.Context, deps struct{ Lifecycle core.RootLifecycle }) (core.RootHealth, error) {
			return New(deps.Lifecycle)
		})
}

// NewHandler returns a handler serving h at [LivenessPath] and
// [ReadinessPath]: GET and HEAD answer 200 with the status as JSON when it
// is ok and 503 when it is not. Other methods answer 405 and other paths
// 404, with the JSON error body of package errs. Responses are never
// cached.
func NewHandler(h core.RootHealth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var check func(context.Context) core.HealthStatus
		switch r.URL.Path {
		case LivenessPath:
			check = h.Liveness
		case ReadinessPath:
			check = h.Readiness
		default:
			errs.WriteJSON(w, r, errs.NewNotFound("no health endpoint at %s; use %s or %s", r.URL.Path, LivenessPath, ReadinessPath))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			errs.WriteJSON(w, r, errs.New(errs.MethodNotAllowed, "%s does not allow %s; use GET", r.URL.Path, r.Method))
			return
		}
		s := check(r.Context())
		code := http.StatusOK
		if !s.OK() {
			code = http.StatusServiceUnavailable
		}
		body, err := json.Marshal(s)
		if err != nil { // A HealthStatus of two strings always encodes.
			errs.WriteJSON(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		if r.Method != http.MethodHead {
			_, _ = w.Write(append(body, '\n'))
		}
	})
}
