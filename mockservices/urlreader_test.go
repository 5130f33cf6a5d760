package mockservices

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/servicetest"
)

func TestConformanceURLReader(t *testing.T) {
	t.Parallel()
	servicetest.TestURLReader(t, fakeURLReaderEnv(func() *URLReaderService { return URLReader(nil) }))
}

func fakeURLReaderEnv(newReader func() *URLReaderService) func(t *testing.T) servicetest.URLReaderEnv {
	return func(t *testing.T) servicetest.URLReaderEnv {
		r := newReader()
		var trees atomic.Int64
		return servicetest.URLReaderEnv{
			Reader: r,
			Publish: func(name, content string) string {
				u := "https://files.example/" + name
				r.Set(u, content)
				return u
			},
			PublishTree: func(files map[string]string) string {
				base := fmt.Sprintf("https://files.example/trees/%d", trees.Add(1))
				for p, c := range files {
					r.Set(base+"/"+p, c)
				}
				return base
			},
			Missing: func() string { return "https://files.example/missing.txt" },
		}
	}
}

func TestURLReaderRecordsReadsAndSeesChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := URLReader(map[string]string{"https://example.com/a": "1"})
	first, err := r.ReadURL(ctx, "https://example.com/a", core.ReadURLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Set("https://example.com/a", "2")
	second, err := r.ReadURL(ctx, "https://example.com/a", core.ReadURLOptions{ETag: first.ETag})
	if err != nil || string(second.Data) != "2" || second.ETag == first.ETag {
		t.Errorf("ReadURL after Set with the old ETag = %q (ETag %s), %v; want the new content and a new ETag", second.Data, second.ETag, err)
	}
	r.Delete("https://example.com/a")
	if _, err := r.ReadURL(ctx, "https://example.com/a", core.ReadURLOptions{}); !errs.Is(err, errs.NotFound) {
		t.Errorf("ReadURL after Delete = %v, want NotFound", err)
	}
	if _, err := r.ReadTree(ctx, "https://example.com", core.ReadTreeOptions{}); !errs.Is(err, errs.NotFound) {
		t.Errorf("ReadTree of an empty tree = %v, want NotFound", err)
	}
	want := []string{"https://example.com/a", "https://example.com/a", "https://example.com/a", "https://example.com"}
	if diff := cmp.Diff(want, r.Reads()); diff != "" {
		t.Errorf("Reads() (-want +got):\n%s", diff)
	}
}

func TestURLReaderFactoryGivesEachBackendItsOwnFake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := URLReaderFactory(nil)
	var readers []core.URLReader
	for range 2 {
		b := backend.New(backend.WithDefaults(f))
		r, err := backend.Resolve(ctx, b, core.URLReaderRef, "todo")
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, r)
	}
	readers[0].(*URLReaderService).Set("https://example.com/a", "x")
	if _, err := readers[1].ReadURL(ctx, "https://example.com/a", core.ReadURLOptions{}); !errs.Is(err, errs.NotFound) {
		t.Errorf("second backend's reader read a file set on the first's: %v", err)
	}
}

func TestInstanceMetadataSortsPluginsAndModules(t *testing.T) {
	t.Parallel()
	m := InstanceMetadata(core.InstalledPlugin{PluginID: "todo", Modules: []string{"b", "a"}}, core.InstalledPlugin{PluginID: "catalog"})
	got, err := m.InstalledPlugins(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []core.InstalledPlugin{{PluginID: "catalog", Modules: []string{}}, {PluginID: "todo", Modules: []string{"a", "b"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("InstalledPlugins() (-want +got):\n%s", diff)
	}
}

func TestConformanceInstanceMetadata(t *testing.T) {
	t.Parallel()
	servicetest.TestInstanceMetadata(t, func(_ *testing.T, plugins []core.InstalledPlugin) core.RootInstanceMetadata {
		return InstanceMetadata(plugins...)
	})
}
