package backend_test

import (
	"context"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
)

// The graph holds modules, extension points and the problems, runs
// nothing, and marks only the nodes the problems are about.
func TestGraph(t *testing.T) {
	t.Parallel()
	var ran counter
	b := backend.New(backend.WithDefaults(backend.NewRootServiceFactory(rootARef, func(context.Context, struct{}) (rootA, error) {
		ran.Add()
		return named("a"), nil
	})))
	err := b.Add(
		backend.NewPlugin("todo", backend.ProvideExtensionPoint(epARef, func() epA { ran.Add(); return nil }),
			backend.Init(func(context.Context, struct{ A plugA }) error { ran.Add(); return nil })),
		backend.NewModule("todo", "extra", backend.Init(func(context.Context, struct {
			E epA
			R rootA
		}) error {
			ran.Add()
			return nil
		})),
	)
	if err != nil {
		t.Fatal(err)
	}
	g := b.Graph()
	want := `plugin todo [problem]
  depends on service test.plugA (plugin)
  provides extension point test.epA
module todo/extra
  depends on extension point test.epA
  depends on service test.rootA (root)
  extends plugin todo
service test.plugA (plugin) [problem]
service test.rootA (root)
extension point test.epA
backend wiring has 1 problem:
  - Plugin 'todo' (declared at backend/graph_test.go:21) depends on serviceRef{test.plugA} (field A backend_test.plugA), but no factory provides it; add its factory with backend.Add
`
	if got := g.String(); got != want {
		t.Errorf("String() =\n%s\nwant:\n%s", got, want)
	}
	if n := len(g.Problems()); n != 1 {
		t.Errorf("Problems() has %d problems, want 1", n)
	}
	dot := g.DOT()
	for _, line := range []string{
		`"plugin:todo" [label="plugin todo", shape=box, color=red, fontcolor=red];`,
		`"module:todo/extra" [label="module todo/extra", shape=box];`,
		`"extensionPoint:test.epA" [label="extension point test.epA", shape=diamond];`,
		`"module:todo/extra" -> "plugin:todo" [label="extends"];`,
		`"plugin:todo" -> "extensionPoint:test.epA" [label="provides"];`,
	} {
		if !strings.Contains(dot, "\t"+line+"\n") {
			t.Errorf("DOT() lacks %s:\n%s", line, dot)
		}
	}
	if n := ran.Get(); n != 0 {
		t.Errorf("%d factories, constructors or inits ran; Graph must run none", n)
	}
}
