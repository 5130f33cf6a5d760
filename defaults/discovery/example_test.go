package discovery_test

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/discovery"
)

func ExampleNew() {
	cfg, _ := config.FromYAML(`
backend:
  baseUrl: https://greenroom.example.com
  listen:
    host: 0.0.0.0
    port: 7007
discovery:
  endpoints:
    - target: http://catalog.internal:7007/api/{{pluginId}}
      plugins: [catalog]
`)
	d, err := discovery.New(cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for _, id := range []string{"todo", "catalog"} {
		internal, _ := d.BaseURL(ctx, id)
		external, _ := d.ExternalBaseURL(ctx, id)
		fmt.Println(internal, external)
	}
	// Output:
	// http://127.0.0.1:7007/api/todo https://greenroom.example.com/api/todo
	// http://catalog.internal:7007/api/catalog http://catalog.internal:7007/api/catalog
}

func ExampleDiscovery_BaseURL() {
	cfg, _ := config.FromYAML("backend:\n  listen:\n    host: '::1'\n    port: 8080\n")
	d, _ := discovery.New(cfg, nil)
	u, _ := d.BaseURL(context.Background(), "todo")
	fmt.Println(u)
	// Output:
	// http://[::1]:8080/api/todo
}

func ExampleDiscovery_ExternalBaseURL() {
	cfg, _ := config.FromYAML("backend:\n  baseUrl: https://greenroom.example.com/\n")
	d, _ := discovery.New(cfg, nil)
	u, _ := d.ExternalBaseURL(context.Background(), "todo")
	fmt.Println(u)
	// Output:
	// https://greenroom.example.com/api/todo
}

func ExampleFactory() {
	fmt.Println(discovery.Factory().Ref().ID())
	// Output:
	// core.discovery
}

func ExampleDiscovery_HasEndpoint() {
	cfg, _ := config.FromYAML(`
discovery:
  endpoints:
    - target: http://catalog.internal:7007/api/{{pluginId}}
      plugins: [catalog]
`)
	d, _ := discovery.New(cfg, nil)
	ctx := context.Background()
	// Only plugins listed with an internal target can run in another
	// backend; the auth service fetches public keys for those alone.
	fmt.Println(d.HasEndpoint(ctx, "catalog"), d.HasEndpoint(ctx, "made-up"))
	// Output:
	// true false
}
