package urlreader_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/urlreader"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/testarchive"
)

// rawTar returns the tar stream of headers, each followed by content of
// its Size, gzipped when gz is true. Unlike testarchive it writes any
// type of entry with content.
func rawTar(t *testing.T, gz bool, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	} = nopCloser{&buf}
	if gz {
		w = gzip.NewWriter(&buf)
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typeflag, Mode: 0o644, Size: int64(len(e.content)), Format: tar.FormatGNU}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type tarEntry struct {
	name     string
	typeflag byte
	content  string
}

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }

// Regression: the content of skipped entries was read (by tar.Reader.Next)
// without counting against MaxBytes, so a bomb hid in them.
func TestTreeSkippedEntriesCountTowardsMaxBytes(t *testing.T) {
	t.Parallel()
	zeros := strings.Repeat("\x00", 8<<20)
	for name, archive := range map[string][]byte{
		"entry of an unknown type": rawTar(t, true, tarEntry{"top/a.md", tar.TypeReg, "a"}, tarEntry{"top/bomb", 'Z', zeros}),
		"regular entry named .":    rawTar(t, true, tarEntry{"top/a.md", tar.TypeReg, "a"}, tarEntry{".", tar.TypeReg, zeros}),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if len(archive) > 64<<10 {
				t.Fatalf("bomb is %d bytes; want a small archive", len(archive))
			}
			_, err := readTree(t, archive, core.ReadTreeOptions{MaxBytes: 1 << 20})
			checkErr(t, "ReadTree of a bomb in a skipped entry", err, errs.PayloadTooLarge, "1048576")
		})
	}
	t.Run("filtered out", func(t *testing.T) {
		t.Parallel()
		archive := testarchive.TarGz([]testarchive.Entry{{Name: "top/a.md", Content: "a"}, {Name: "top/bomb", Content: zeros}})
		_, err := readTree(t, archive, core.ReadTreeOptions{MaxBytes: 1 << 20, Filter: func(p string) bool { return p == "a.md" }})
		checkErr(t, "ReadTree of a bomb filtered out", err, errs.PayloadTooLarge, "1048576")
	})
}

// Regression: headers cost nothing, so an archive of many empty files
// passed any limit.
func TestTreeEntriesCostTheirHeaders(t *testing.T) {
	t.Parallel()
	many := map[string]string{}
	for i := range 300 { // 300 × 512 bytes = 150 KiB > 64 KiB
		many[fmt.Sprintf("f%03d", i)] = ""
	}
	few := map[string]string{}
	for i := range 100 { // 100 × 512 bytes = 50 KiB < 64 KiB
		few[fmt.Sprintf("f%03d", i)] = ""
	}
	for kind, build := range map[string]func([]testarchive.Entry) []byte{"tar.gz": testarchive.TarGz, "zip": testarchive.Zip} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			_, err := readTree(t, build(testarchive.Files("top", many)), core.ReadTreeOptions{MaxBytes: 64 << 10})
			checkErr(t, "ReadTree of 300 empty files with MaxBytes 64 KiB", err, errs.PayloadTooLarge, "65536", "512 bytes per entry")
			res, err := readTree(t, build(testarchive.Files("top", few)), core.ReadTreeOptions{MaxBytes: 64 << 10})
			if err != nil || len(res.Files) != 100 {
				t.Errorf("ReadTree of 100 empty files with MaxBytes 64 KiB = %d files, %v; want 100", len(res.Files), err)
			}
		})
	}
}

// Regression: a .tar.gz served with Content-Encoding: gzip arrived
// decompressed by net/http and was no longer recognised.
func TestTreeServedWithContentEncodingGzip(t *testing.T) {
	t.Parallel()
	tgz := testarchive.TarGz(testarchive.Files("repo-main", map[string]string{"a.md": "a"}))
	plainTar := rawTar(t, false, tarEntry{"repo-main/a.md", tar.TypeReg, "a"})
	var gzTar bytes.Buffer
	gw := gzip.NewWriter(&gzTar)
	gw.Write(plainTar)
	gw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/encoded.tar.gz": // a misconfigured static host
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/gzip")
			w.Write(tgz)
		case "/encoded.tar": // the transfer compressed, the archive not
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzTar.Bytes())
		case "/plain.tar":
			w.Write(plainTar)
		}
	}))
	t.Cleanup(srv.Close)
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{{Host: hostOf(t, srv.URL), AllowInternal: true}}})
	for _, p := range []string{"/encoded.tar.gz", "/encoded.tar", "/plain.tar"} {
		res, err := r.ReadTree(t.Context(), srv.URL+p, core.ReadTreeOptions{})
		if err != nil {
			t.Errorf("ReadTree of %s = %v", p, err)
			continue
		}
		if diff := cmp.Diff([]string{"a.md"}, paths(res)); diff != "" {
			t.Errorf("ReadTree of %s: paths (-want +got):\n%s", p, diff)
		}
	}
	// The limits hold on an archive that is not gzipped too.
	_, err := r.ReadTree(t.Context(), srv.URL+"/plain.tar", core.ReadTreeOptions{MaxBytes: 100})
	checkErr(t, "ReadTree of a plain tar over MaxBytes", err, errs.PayloadTooLarge, "100")
}

// Regression: an unparsable URL with a password was echoed in the error.
func TestUnparsableURLPasswordRedacted(t *testing.T) {
	t.Parallel()
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{{Host: "example.com"}}})
	for _, raw := range []string{
		"http://user:s3cr3t@exa mple.com/a",
		"http://user:s3cr3t@example.com:port/a",
		"http://user:s3/cr3t@example.com/a", // the password ends the authority early
		"http://user:s3#cr3t@example.com/a",
		"user:s3cr3t@example.com/a",
		"http://user:s3cr3t@example.com/%zz",
	} {
		_, err := r.ReadURL(t.Context(), raw, core.ReadURLOptions{})
		if err == nil {
			t.Errorf("ReadURL(%q) = nil, want an error", raw)
			continue
		}
		for _, secret := range []string{"s3cr3t", "cr3t", "s3"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("ReadURL(%q) = %v, which echoes the password", raw, err)
			}
		}
	}
	_, err := r.ReadURL(t.Context(), "http://user:s3cr3t@exa mple.com/a", core.ReadURLOptions{})
	checkErr(t, "ReadURL of a URL with a space in the host", err, errs.Input, "xxxxx", "invalid character")
}

// A single top directory is stripped even when it is not a wrapper, as
// docs/urlreader.md says: ReadTree cannot tell "repo-main/" from "docs/".
func TestTreeSingleTopDirectoryStripped(t *testing.T) {
	t.Parallel()
	res, err := readTree(t, testarchive.TarGz([]testarchive.Entry{{Name: "docs/readme.md", Content: "r"}}), core.ReadTreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"readme.md"}, paths(res)); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	res, err = readTree(t, testarchive.TarGz([]testarchive.Entry{{Name: "readme.md", Content: "r"}, {Name: "docs/a.md", Content: "a"}}), core.ReadTreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"docs/a.md", "readme.md"}, paths(res)); diff != "" {
		t.Errorf("paths of a file beside a directory (-want +got):\n%s", diff)
	}
}
