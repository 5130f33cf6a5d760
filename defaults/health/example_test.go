package health_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/health"
)

// lifecycle is a minimal root lifecycle that runs its hooks on demand.
type lifecycle struct{ startup, beforeShutdown []core.Hook }

func (l *lifecycle) AddStartupHook(h core.Hook) error { l.startup = append(l.startup, h); return nil }
func (l *lifecycle) AddShutdownHook(core.Hook) error  { return nil }
func (l *lifecycle) AddDrainHook(core.Hook) error     { return nil }
func (l *lifecycle) AddBeforeShutdownHook(h core.Hook) error {
	l.beforeShutdown = append(l.beforeShutdown, h)
	return nil
}

func runHooks(hooks []core.Hook) {
	for _, h := range hooks {
		_ = h(context.Background())
	}
}

func ExampleNew() {
	lc := &lifecycle{}
	h, err := health.New(lc)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	fmt.Printf("%+v\n", h.Readiness(ctx))
	runHooks(lc.startup) // the backend has started every plugin
	fmt.Printf("%+v\n", h.Readiness(ctx))
	runHooks(lc.beforeShutdown) // the backend is stopping
	fmt.Printf("%+v\n", h.Readiness(ctx))
	fmt.Printf("%+v\n", h.Liveness(ctx))
	// Output:
	// {Status:error Message:Backend has not started yet}
	// {Status:ok Message:}
	// {Status:error Message:Backend is shutting down}
	// {Status:ok Message:}
}

func ExampleNewHandler() {
	lc := &lifecycle{}
	h, _ := health.New(lc)
	handler := health.NewHandler(h)

	probe := func() {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("GET", health.ReadinessPath, nil))
		fmt.Print(rec.Code, " ", rec.Body)
	}
	probe()
	runHooks(lc.startup)
	probe()
	// Output:
	// 503 {"status":"error","message":"Backend has not started yet"}
	// 200 {"status":"ok"}
}

// The production backend installs Factory as the default root health
// service; a backend built by hand can do the same.
func ExampleFactory() {
	b := backend.New(backend.WithDefaults(health.Factory()))
	_ = b
	fmt.Println(health.Factory().Ref())
	// Output: serviceRef{core.rootHealth}
}
