package urlreader_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/urlreader"
	"github.com/greenroom-dev/greenroom/internal/testarchive"
)

// BenchmarkReadURL reads a 4 KiB file from an httptest server over a kept
// connection: allow-list, dial guard (on new connections only) and body cap
// included.
func BenchmarkReadURL(b *testing.B) {
	srv := testarchive.NewServer()
	defer srv.Close()
	srv.Set("/file.yaml", []byte(strings.Repeat("x", 4<<10)))
	r, err := urlreader.New(urlreader.Options{Allow: []urlreader.AllowEntry{{Host: strings.TrimPrefix(srv.URL, "http://"), AllowInternal: true}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadURL(ctx, srv.URL+"/file.yaml", core.ReadURLOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadTree reads and extracts a .tar.gz of 100 files of 1 KiB.
func BenchmarkReadTree(b *testing.B) {
	files := map[string]string{}
	for i := range 100 {
		files[fmt.Sprintf("docs/%03d.md", i)] = strings.Repeat("y", 1<<10)
	}
	srv := testarchive.NewServer()
	defer srv.Close()
	srv.Set("/repo.tar.gz", testarchive.TarGz(testarchive.Files("repo-main", files)))
	r, err := urlreader.New(urlreader.Options{Allow: []urlreader.AllowEntry{{Host: strings.TrimPrefix(srv.URL, "http://"), AllowInternal: true}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadTree(ctx, srv.URL+"/repo.tar.gz", core.ReadTreeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
