package testbackend

import (
	"context"
	"slices"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
)

// FactoryTester builds the services of one service factory, the subject,
// with its dependencies, to unit-test a service of your own without a
// plugin. Get the subject's instances (or those of its dependencies) with
// [Service].
type FactoryTester struct {
	b *backend.Backend
}

// NewFactoryTester returns a tester of the factory subject. Its
// dependencies are the mockservices fakes of the core services, replaced
// by the service factories among features; options such as [WithConfig]
// apply too. The backend is not started: each service is created when
// [Service] first asks for it or for a service depending on it, and the
// shutdown hooks of the created services run when the test finishes.
func NewFactoryTester(t testing.TB, subject *backend.ServiceFactory, features ...backend.Feature) *FactoryTester {
	t.Helper()
	if subject == nil {
		t.Fatalf("testbackend.NewFactoryTester: the subject factory is nil")
	}
	for _, f := range features {
		switch f.(type) {
		case *backend.Plugin, *backend.Module:
			t.Fatalf("testbackend.NewFactoryTester: %s: a factory tester takes service factories and options only; use Start to test plugins and modules", f)
		}
		if sf, ok := f.(*backend.ServiceFactory); ok && sf != nil && sf.Ref().ID() == subject.Ref().ID() && !sf.Ref().Multiton() {
			t.Fatalf("testbackend.NewFactoryTester: %s is the subject's service; pass only the factories of its dependencies", sf)
		}
	}
	s, err := newSettings(append(slices.Clone(features), subject))
	if err != nil {
		t.Fatalf("testbackend.NewFactoryTester: %v", err)
	}
	b, err := s.build(t, nil)
	if err != nil {
		t.Fatalf("testbackend.NewFactoryTester: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Stop(context.Background()); err != nil {
			t.Errorf("testbackend: stopping the factory tester: %v", err)
		}
	})
	return &FactoryTester{b: b}
}

func (ft *FactoryTester) backend() *backend.Backend { return ft.b }
