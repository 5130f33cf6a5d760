package backend_test

import (
	"context"
	"fmt"
	"os"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Graph shows what Start would wire, without running anything.
func ExampleBackend_Graph() {
	b := backend.New(backend.WithDefaults(GreeterFactory, ClockFactory))
	err := b.Add(backend.NewPlugin("hello", backend.Init(func(ctx context.Context, d struct {
		Greeter Greeter
		Meta    core.PluginMetadata
	}) error {
		return nil
	})))
	if err != nil {
		panic(err)
	}
	fmt.Print(b.Graph())
	// Output:
	// plugin hello
	//   depends on service core.pluginMetadata (plugin)
	//   depends on service example.greeter (plugin)
	// service core.pluginMetadata (plugin)
	// service example.clock (root)
	// service example.greeter (plugin)
	//   depends on service core.pluginMetadata (plugin)
	//   depends on service example.clock (root)
}

// The DOT form renders with Graphviz (dot -Tsvg); the nodes a problem is
// about are red: here, a plugin depends on a service that no factory
// provides.
func ExampleGraph_WriteDOT() {
	b := backend.New()
	err := b.Add(backend.NewPlugin("hello", backend.Init(func(ctx context.Context, d struct{ Greeter Greeter }) error {
		return nil
	})))
	if err != nil {
		panic(err)
	}
	if err := b.Graph().WriteDOT(os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// digraph backend {
	// 	rankdir=LR;
	// 	"plugin:hello" [label="plugin hello", shape=box, color=red, fontcolor=red];
	// 	"service:example.greeter" [label="service example.greeter (plugin)", shape=ellipse, color=red, fontcolor=red];
	// 	"plugin:hello" -> "service:example.greeter" [label="depends on"];
	// }
}
