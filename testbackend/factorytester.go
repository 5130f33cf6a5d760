package testbackend

import (
	"context"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/internal/refindex"
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
// by the given factories. The backend is not started: each service is
// created when [Service] first asks for it or for a service depending on
// it, and the shutdown hooks of the created services run when the test
// finishes. It is New().NewFactoryTester: see [Setup.NewFactoryTester].
func NewFactoryTester(t testing.TB, subject *backend.ServiceFactory, factories ...*backend.ServiceFactory) *FactoryTester {
	t.Helper()
	return (&Setup{}).NewFactoryTester(t, subject, factories...)
}

// NewFactoryTester is the package function [NewFactoryTester] with the
// setup's options, such as [WithConfig].
func (s *Setup) NewFactoryTester(t testing.TB, subject *backend.ServiceFactory, factories ...*backend.ServiceFactory) *FactoryTester {
	t.Helper()
	if subject == nil {
		t.Fatalf("testbackend.NewFactoryTester: the subject factory is nil")
	}
	features := make([]backend.Feature, 0, len(factories)+1)
	for _, f := range factories {
		if f != nil && f.Ref().ID() == subject.Ref().ID() && !refindex.Default.ByID(f.Ref().ID()).Multiton {
			t.Fatalf("testbackend.NewFactoryTester: %s is the subject's service; pass only the factories of its dependencies", f)
		}
		features = append(features, f)
	}
	st, err := newSettings(s.opts, append(features, subject))
	if err != nil {
		t.Fatalf("testbackend.NewFactoryTester: %v", err)
	}
	b, err := st.build(t, nil)
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
