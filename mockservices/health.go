package mockservices

import (
	"context"
	"sync"

	"github.com/greenroom-dev/greenroom/core"
)

// HealthService is a fake [core.RootHealth] whose answers a test can set.
type HealthService struct {
	mu                  sync.Mutex
	liveness, readiness core.HealthStatus
}

var _ core.RootHealth = (*HealthService)(nil)

var (
	healthOK           = core.HealthStatus{Status: "ok"}
	healthNotStarted   = core.HealthStatus{Status: "error", Message: "Backend has not started yet"}
	healthShuttingDown = core.HealthStatus{Status: "error", Message: "Backend is shutting down"}
)

// RootHealth returns a health service that is live and ready until the test
// says otherwise with SetLiveness or SetReadiness. In a test backend
// ([RootHealthFactory]), readiness follows the root lifecycle as in
// production instead: not ready until the backend has started, and not
// ready again once it begins shutting down.
func RootHealth() *HealthService {
	return &HealthService{liveness: healthOK, readiness: healthOK}
}

// Liveness implements [core.RootHealth].
func (h *HealthService) Liveness(context.Context) core.HealthStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.liveness
}

// Readiness implements [core.RootHealth].
func (h *HealthService) Readiness(context.Context) core.HealthStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.readiness
}

// SetLiveness sets the answer of Liveness.
func (h *HealthService) SetLiveness(s core.HealthStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.liveness = s
}

// SetReadiness sets the answer of Readiness.
func (h *HealthService) SetReadiness(s core.HealthStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.readiness = s
}

// followLifecycle makes readiness follow lc: not ready now, ready after the
// startup hooks, not ready once the before-shutdown hooks run.
func (h *HealthService) followLifecycle(lc core.RootLifecycle) error {
	h.SetReadiness(healthNotStarted)
	if err := lc.AddStartupHook(func(context.Context) error { h.SetReadiness(healthOK); return nil }); err != nil {
		return err
	}
	return lc.AddBeforeShutdownHook(func(context.Context) error { h.SetReadiness(healthShuttingDown); return nil })
}
