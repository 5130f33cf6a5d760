package urlreader_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/urlreader"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/testarchive"
	"github.com/greenroom-dev/greenroom/mockservices"
)

// A plugin asks for the reader by a core.URLReader field; what it may read
// is configured under backend.reading.
func ExampleFactory() {
	plugin := backend.NewPlugin("catalog", backend.Init(func(ctx context.Context, d struct {
		Reader core.URLReader
	}) error {
		_, err := d.Reader.ReadURL(ctx, "https://github.com/org/repo/blob/main/catalog-info.yaml", core.ReadURLOptions{})
		return err
	}))
	b := backend.New(backend.WithDefaults(
		mockservices.ConfigFactory(map[string]any{"backend": map[string]any{"reading": map[string]any{
			"allow": []any{map[string]any{"host": "github.com"}},
		}}}),
		urlreader.Factory(),
	))
	fmt.Println(b.Add(plugin))
	// Output: <nil>
}

// New builds a reader without a backend. Reading is denied until the
// allow-list names the host.
func ExampleNew() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "kind: Component")
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	denied, _ := urlreader.New(urlreader.Options{})
	_, err := denied.ReadURL(context.Background(), srv.URL+"/catalog-info.yaml", core.ReadURLOptions{})
	fmt.Println(errs.Is(err, errs.NotAllowed))

	// The test server listens on 127.0.0.1, an internal address.
	r, _ := urlreader.New(urlreader.Options{Allow: []urlreader.AllowEntry{{Host: host, AllowInternal: true}}})
	res, err := r.ReadURL(context.Background(), srv.URL+"/catalog-info.yaml", core.ReadURLOptions{})
	fmt.Printf("%s %v\n", res.Data, err)
	// Output:
	// true
	// kind: Component <nil>
}

// ReadTree extracts an archive; GitHub's top directory is stripped.
func ExampleReader_ReadTree() {
	srv := testarchive.NewServer()
	defer srv.Close()
	srv.Set("/repo.tar.gz", testarchive.TarGz(testarchive.Files("repo-main", map[string]string{
		"README.md": "# repo", "docs/index.md": "# docs", "main.go": "package main",
	})))
	r, _ := urlreader.New(urlreader.Options{Allow: []urlreader.AllowEntry{{Host: strings.TrimPrefix(srv.URL, "http://"), AllowInternal: true}}})
	res, err := r.ReadTree(context.Background(), srv.URL+"/repo.tar.gz", core.ReadTreeOptions{
		Filter: func(p string) bool { return strings.HasSuffix(p, ".md") },
	})
	if err != nil {
		panic(err)
	}
	for _, f := range res.Files {
		fmt.Println(f.Path)
	}
	// Output:
	// README.md
	// docs/index.md
}

// ReadConfig reads backend.reading.
func ExampleReadConfig() {
	cfg := mockservices.Config(map[string]any{"backend": map[string]any{"reading": map[string]any{
		"allow":    []any{map[string]any{"host": "*.example.com", "paths": []any{"/docs/"}}},
		"maxBytes": 1 << 20,
	}}})
	opts, err := urlreader.ReadConfig(cfg)
	fmt.Printf("%+v %d %v\n", opts.Allow, opts.MaxBytes, err)
	// Output: [{Host:*.example.com Paths:[/docs/] AllowInternal:false}] 1048576 <nil>
}

// memReader reads "mem://<host>/<name>" URLs from a map.
type memReader map[string]string

func (m memReader) Accepts(url string) bool { return strings.HasPrefix(url, "mem://") }

func (m memReader) ReadURL(_ context.Context, url string, _ core.ReadURLOptions) (core.ReadURLResponse, error) {
	if c, ok := m[url]; ok {
		return core.ReadURLResponse{Data: []byte(c)}, nil
	}
	return core.ReadURLResponse{}, errs.NewNotFound("%s was not found", url)
}

func (m memReader) ReadTree(context.Context, string, core.ReadTreeOptions) (core.ReadTreeResponse, error) {
	return core.ReadTreeResponse{}, errs.New(errs.NotImplemented, "memReader reads no trees")
}

// A custom reader is a root service factory for core.URLReaderProvidersRef:
// the URL reader asks it first for the URLs it accepts. The allow-list
// still applies.
func Example_provider() {
	provider := backend.NewRootServiceFactory(core.URLReaderProvidersRef, func(context.Context, struct{}) (core.URLReaderProvider, error) {
		return memReader{"mem://store/hello.txt": "hello"}, nil
	})
	b := backend.New(backend.WithDefaults(
		mockservices.ConfigFactory(map[string]any{"backend": map[string]any{"reading": map[string]any{
			"allow": []any{map[string]any{"host": "store"}},
		}}}),
		urlreader.Factory(),
		provider,
	))
	r, _ := backend.Resolve(context.Background(), b, core.URLReaderRef, "todo")
	res, err := r.ReadURL(context.Background(), "mem://store/hello.txt", core.ReadURLOptions{})
	fmt.Printf("%s %v\n", res.Data, err)
	// Output: hello <nil>
}

// A reader keeps connections for reuse; close them when done with it
// (Factory does so when the backend shuts down).
func ExampleReader_CloseIdleConnections() {
	r, _ := urlreader.New(urlreader.Options{Allow: []urlreader.AllowEntry{{Host: "example.com"}}})
	defer r.CloseIdleConnections()
	fmt.Println(r != nil)
	// Output: true
}
