package backend_test

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// The backend provides core.RootInstanceMetadataRef itself: the plugins
// and modules given to Add, sorted by id.
func ExampleBackend_instanceMetadata() {
	noop := func(context.Context, struct{}) error { return nil }
	b := backend.New()
	_ = b.Add(
		backend.NewPlugin("todo", backend.Init(noop)),
		backend.NewModule("todo", "search", backend.Init(noop)),
		backend.NewPlugin("catalog", backend.Init(noop)),
	)
	m, _ := backend.Resolve(context.Background(), b, core.RootInstanceMetadataRef, "")
	plugins, _ := m.InstalledPlugins(context.Background())
	fmt.Println(plugins)
	// Output: [{catalog []} {todo [search]}]
}
