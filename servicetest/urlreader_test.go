package servicetest_test

import (
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/greenroom-dev/greenroom/defaults/urlreader"
	"github.com/greenroom-dev/greenroom/internal/testarchive"
	"github.com/greenroom-dev/greenroom/servicetest"
)

// TestURLReader runs the suite on the production reader, against an
// httptest server (on 127.0.0.1, so its entry allows internal addresses)
// that serves trees as .tar.gz archives with one top directory, as
// GitHub's are.
func TestURLReader(t *testing.T) {
	t.Parallel()
	servicetest.TestURLReader(t, productionURLReaderEnv)
}

func productionURLReaderEnv(t *testing.T) servicetest.URLReaderEnv {
	srv := testarchive.NewServer()
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	r, err := urlreader.New(urlreader.Options{Allow: []urlreader.AllowEntry{{Host: u.Host, AllowInternal: true}}})
	if err != nil {
		t.Fatal(err)
	}
	var trees atomic.Int64
	return servicetest.URLReaderEnv{
		Reader: r,
		Publish: func(name, content string) string {
			srv.Set("/"+name, []byte(content))
			return srv.URL + "/" + name
		},
		PublishTree: func(files map[string]string) string {
			path := fmt.Sprintf("/trees/%d.tar.gz", trees.Add(1))
			srv.Set(path, testarchive.TarGz(testarchive.Files("repo-main", files)))
			return srv.URL + path
		},
		Missing: func() string { return srv.URL + "/missing.txt" },
	}
}
