package mockservices_test

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
)

func ExampleURLReader() {
	ctx := context.Background()
	r := mockservices.URLReader(map[string]string{
		"https://example.com/repo/catalog-info.yaml": "kind: Component",
		"https://example.com/repo/docs/index.md":     "# docs",
	})
	res, _ := r.ReadURL(ctx, "https://example.com/repo/catalog-info.yaml", core.ReadURLOptions{})
	fmt.Println(string(res.Data))
	_, err := r.ReadURL(ctx, "https://example.com/repo/catalog-info.yaml", core.ReadURLOptions{ETag: res.ETag})
	fmt.Println(errs.Is(err, errs.NotModified))
	tree, _ := r.ReadTree(ctx, "https://example.com/repo", core.ReadTreeOptions{})
	for _, f := range tree.Files {
		fmt.Println(f.Path)
	}
	fmt.Println(r.Reads())
	// Output:
	// kind: Component
	// true
	// catalog-info.yaml
	// docs/index.md
	// [https://example.com/repo/catalog-info.yaml https://example.com/repo/catalog-info.yaml https://example.com/repo]
}

func ExampleURLReaderFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()
	r := mockservices.URLReader(map[string]string{"https://example.com/a.yaml": "kind: A"})
	tb := testbackend.Start(t, reportPlugin, mockservices.URLReaderFactory(r))

	res, err := testbackend.Service(t, tb, core.URLReaderRef, "reports").ReadURL(context.Background(), "https://example.com/a.yaml", core.ReadURLOptions{})
	fmt.Printf("%s %v\n", res.Data, err)
	// Output: kind: A <nil>
}

func ExampleInstanceMetadata() {
	m := mockservices.InstanceMetadata(
		core.InstalledPlugin{PluginID: "todo", Modules: []string{"search", "audit"}},
		core.InstalledPlugin{PluginID: "catalog"},
	)
	plugins, _ := m.InstalledPlugins(context.Background())
	fmt.Println(plugins)
	// Output: [{catalog []} {todo [audit search]}]
}
