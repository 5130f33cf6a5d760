package backend_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// hintClock is a service interface that only realClock implements, so
// that the hint naming it is not ambiguous.
type hintClock interface{ HintNow() int64 }

type realClock struct{}

func (realClock) HintNow() int64 { return 0 }

var hintClockRef = core.NewServiceRef[hintClock]("test.hintClock")

// Each near miss of a dependency gets a hint with the likely fix.
func TestProblemHints(t *testing.T) {
	t.Parallel()
	plugin := func(init backend.Option) []backend.Feature {
		return []backend.Feature{backend.NewPlugin("todo", init)}
	}
	tests := []struct {
		name     string
		features []backend.Feature
		want     string
	}{
		{
			name:     "interface a service of the other scope implements",
			features: plugin(backend.Init(func(context.Context, struct{ C core.Config }) error { return nil })),
			want:     "has field C core.Config, but no service ref or extension point has the type core.Config; did you mean core.RootConfig (serviceRef{core.rootConfig}, root scoped), which implements core.Config? declare the field with that type",
		},
		{
			name: "root service asking for the plugin one",
			features: []backend.Feature{backend.NewRootServiceFactory(rootARef, func(context.Context, struct{ L core.Logger }) (rootA, error) {
				return named("a"), nil
			})},
			want: "depends on serviceRef{core.logger} (field L core.Logger), which is plugin scoped; serviceRef{test.rootA} is a root service and can depend only on root services; did you mean core.RootLogger (serviceRef{core.rootLogger}, root scoped)? declare the field with that type",
		},
		{
			name:     "pointer to an interface",
			features: plugin(backend.Init(func(context.Context, struct{ L *core.Logger }) error { return nil })),
			want:     "Plugin 'todo' (declared at backend/hints_test.go:27) has field L *core.Logger, a pointer to an interface, but services are received as the interface itself; declare the field as core.Logger (serviceRef{core.logger})",
		},
		{
			name:     "concrete type implementing a service interface",
			features: plugin(backend.Init(func(context.Context, struct{ C realClock }) error { return nil })),
			want:     "has field C backend_test.realClock, but no service ref or extension point has the type backend_test.realClock; backend_test.realClock is a concrete type, and a dependency names the service's interface: did you mean backend_test.hintClock (serviceRef{test.hintClock}, plugin scoped), which backend_test.realClock implements? declare the field with that type",
		},
		{
			name: "typo in a tag",
			features: plugin(backend.Init(func(context.Context, struct {
				R core.HTTPRouter `greenroom:"core.httpRuter"`
			}) error {
				return nil
			})),
			want: "but no service ref or extension point has the id \"core.httpRuter\"; did you mean \"core.httpRouter\"? (or check that the package declaring the ref is imported)",
		},
		{
			name:     "singleton asked as a slice",
			features: plugin(backend.Init(func(context.Context, struct{ C []hintClock }) error { return nil })),
			want:     "has field C []backend_test.hintClock, but serviceRef{test.hintClock} is not a multiton; declare the field as backend_test.hintClock",
		},
		{
			name:     "multiton asked as a single value",
			features: plugin(backend.Init(func(context.Context, struct{ M multi }) error { return nil })),
			want:     "has field M backend_test.multi, but serviceRef{test.multi} is a multiton; declare the field as []backend_test.multi",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := backend.New()
			if err := b.Add(tt.features...); err != nil {
				t.Fatal(err)
			}
			err := b.Start(t.Context())
			var werr *backend.WiringError
			if !errors.As(err, &werr) {
				t.Fatalf("Start() = %v, want a *WiringError", err)
			}
			for _, p := range werr.Problems {
				if strings.Contains(p.Message, tt.want) {
					return
				}
			}
			t.Errorf("no problem contains\n%s\nerror:\n%v", tt.want, err)
		})
	}
}

// A misspelt tag far from every id gets no guess.
func TestNoHintForFarTypo(t *testing.T) {
	t.Parallel()
	b := backend.New()
	if err := b.Add(backend.NewPlugin("todo", backend.Init(func(context.Context, struct {
		R core.HTTPRouter `greenroom:"zzzzzzzzzzzzzzzzzzzz"`
	}) error {
		return nil
	}))); err != nil {
		t.Fatal(err)
	}
	err := b.Start(t.Context())
	if err == nil || strings.Contains(err.Error(), "did you mean") || !strings.Contains(err.Error(), "check the id") {
		t.Errorf("Start() = %v, want a problem without a guess", err)
	}
}
