package urlreader_test

import (
	"archive/tar"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/urlreader"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/testarchive"
	"github.com/greenroom-dev/greenroom/mockservices"
)

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func newReader(t *testing.T, opts urlreader.Options) *urlreader.Reader {
	t.Helper()
	r, err := urlreader.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkErr fails unless err is an errs error of kind name whose message
// holds every one of parts.
func checkErr(t *testing.T, what string, err error, name errs.Name, parts ...string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Name != name {
		t.Fatalf("%s = %v, want an errs %s", what, err, name)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("%s: message %q does not hold %q", what, e.Message, p)
		}
	}
}

func serve(t *testing.T, files map[string][]byte) *testarchive.Server {
	t.Helper()
	srv := testarchive.NewServer()
	t.Cleanup(srv.Close)
	for p, b := range files {
		srv.Set(p, b)
	}
	return srv
}

func TestDeniedByDefault(t *testing.T) {
	t.Parallel()
	r := newReader(t, urlreader.Options{})
	_, err := r.ReadURL(t.Context(), "https://example.com/a.txt", core.ReadURLOptions{})
	checkErr(t, "ReadURL with no allow-list", err, errs.NotAllowed, `"example.com"`, "backend.reading.allow")
	_, err = r.ReadTree(t.Context(), "https://example.com/a.tgz", core.ReadTreeOptions{})
	checkErr(t, "ReadTree with no allow-list", err, errs.NotAllowed, `"example.com"`, "backend.reading.allow")
}

func TestHostNotAllowed(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string][]byte{"/a.txt": []byte("a")})
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{{Host: "example.com"}}})
	_, err := r.ReadURL(t.Context(), srv.URL+"/a.txt", core.ReadURLOptions{})
	checkErr(t, "ReadURL of a host not allowed", err, errs.NotAllowed, hostOf(t, srv.URL), "backend.reading.allow")
}

func TestSchemesOtherThanHTTPAreRefused(t *testing.T) {
	t.Parallel()
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{{Host: "example.com"}}})
	_, err := r.ReadURL(t.Context(), "ftp://example.com/a.txt", core.ReadURLOptions{})
	checkErr(t, "ReadURL of ftp://", err, errs.NotAllowed, `"ftp"`, "core.URLReaderProvidersRef")
}

func TestPathsOfAnEntry(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string][]byte{"/public/a.txt": []byte("a"), "/private/b.txt": []byte("b")})
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{{Host: hostOf(t, srv.URL), Paths: []string{"/public/"}, AllowInternal: true}}})
	if _, err := r.ReadURL(t.Context(), srv.URL+"/public/a.txt", core.ReadURLOptions{}); err != nil {
		t.Errorf("ReadURL under an allowed path = %v", err)
	}
	for _, p := range []string{"/private/b.txt", "/public/../private/b.txt", "/public"} {
		_, err := r.ReadURL(t.Context(), srv.URL+p, core.ReadURLOptions{})
		checkErr(t, "ReadURL of "+p, err, errs.NotAllowed, "/public/")
	}
}

func TestInternalAddressRefused(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string][]byte{"/a.txt": []byte("a")})
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port} {
		r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{{Host: host}}})
		_, err := r.ReadURL(t.Context(), "http://"+host+"/a.txt", core.ReadURLOptions{})
		checkErr(t, "ReadURL of "+host+" without allowInternal", err, errs.NotAllowed, "loopback", "allowInternal")
	}
	// The cloud metadata address is refused before any packet is sent.
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{{Host: "169.254.169.254"}}})
	_, err := r.ReadURL(t.Context(), "http://169.254.169.254/latest/meta-data/", core.ReadURLOptions{})
	checkErr(t, "ReadURL of the metadata address", err, errs.NotAllowed, "link-local")
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	target := serve(t, map[string][]byte{"/a.txt": []byte("target")})
	targetPort := target.URL[strings.LastIndex(target.URL, ":")+1:]
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-allowed":
			http.Redirect(w, r, target.URL+"/a.txt", http.StatusFound)
		case "/to-elsewhere":
			http.Redirect(w, r, "http://evil.example/a.txt", http.StatusFound)
		case "/to-internal":
			http.Redirect(w, r, "http://localhost:"+targetPort+"/a.txt", http.StatusFound)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		default: // a loop
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	}))
	t.Cleanup(redirector.Close)
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{
		{Host: hostOf(t, redirector.URL), AllowInternal: true},
		{Host: hostOf(t, target.URL), AllowInternal: true},
		{Host: "localhost:" + targetPort}, // allowed, but not internal
	}})
	ctx := t.Context()
	if res, err := r.ReadURL(ctx, redirector.URL+"/to-allowed", core.ReadURLOptions{}); err != nil || string(res.Data) != "target" {
		t.Errorf("ReadURL redirected to an allowed host = %q, %v", res.Data, err)
	}
	_, err := r.ReadURL(ctx, redirector.URL+"/to-elsewhere", core.ReadURLOptions{})
	checkErr(t, "ReadURL redirected to a host not allowed", err, errs.NotAllowed, "redirect", `"evil.example"`)
	_, err = r.ReadURL(ctx, redirector.URL+"/to-internal", core.ReadURLOptions{})
	checkErr(t, "ReadURL redirected to an allowed host on an internal address", err, errs.NotAllowed, "loopback")
	_, err = r.ReadURL(ctx, redirector.URL+"/to-file", core.ReadURLOptions{})
	checkErr(t, "ReadURL redirected to file://", err, errs.NotAllowed, `"file"`)
	_, err = r.ReadURL(ctx, redirector.URL+"/loop", core.ReadURLOptions{})
	checkErr(t, "ReadURL in a redirect loop", err, errs.NotAllowed, "more than 5 redirects")
}

func TestRedirectHopsAreLimitedToFive(t *testing.T) {
	t.Parallel()
	// /hop/n redirects to /hop/n-1; /hop/0 is the file.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		if err != nil || n == 0 {
			fmt.Fprint(w, "arrived")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{{Host: hostOf(t, srv.URL), AllowInternal: true}}})
	if res, err := r.ReadURL(t.Context(), srv.URL+"/hop/5", core.ReadURLOptions{}); err != nil || string(res.Data) != "arrived" {
		t.Errorf("ReadURL through 5 redirects = %q, %v; want the file", res.Data, err)
	}
	_, err := r.ReadURL(t.Context(), srv.URL+"/hop/6", core.ReadURLOptions{})
	checkErr(t, "ReadURL through 6 redirects", err, errs.NotAllowed, "more than 5 redirects")
}

func TestEntriesOfOneHostAddUp(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string][]byte{"/a/x": []byte("a"), "/b/x": []byte("b"), "/c/x": []byte("c")})
	host := hostOf(t, srv.URL)
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{
		{Host: host, Paths: []string{"/a/"}},
		{Host: host, Paths: []string{"/b/"}, AllowInternal: true},
	}, MaxBytes: math.MaxInt64})
	for _, p := range []string{"/a/x", "/b/x"} {
		if _, err := r.ReadURL(t.Context(), srv.URL+p, core.ReadURLOptions{}); err != nil {
			t.Errorf("ReadURL of %s = %v", p, err)
		}
	}
	_, err := r.ReadURL(t.Context(), srv.URL+"/c/x", core.ReadURLOptions{})
	checkErr(t, "ReadURL of /c/x", err, errs.NotAllowed, "/a/", "/b/")
}

func TestUnexpectedStatus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{{Host: hostOf(t, srv.URL), AllowInternal: true}}})
	_, err := r.ReadURL(t.Context(), srv.URL+"/a", core.ReadURLOptions{})
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("ReadURL answered 502 = %v, want an error naming the status", err)
	}
}

// readTree serves archive and reads it as a tree.
func readTree(t *testing.T, archive []byte, opts core.ReadTreeOptions) (core.ReadTreeResponse, error) {
	t.Helper()
	srv := serve(t, map[string][]byte{"/archive": archive})
	r := newReader(t, urlreader.Options{Allow: []urlreader.AllowEntry{{Host: hostOf(t, srv.URL), AllowInternal: true}}})
	return r.ReadTree(t.Context(), srv.URL+"/archive", opts)
}

func paths(res core.ReadTreeResponse) []string {
	var ps []string
	for _, f := range res.Files {
		ps = append(ps, f.Path)
	}
	return ps
}

func TestTreeArchives(t *testing.T) {
	t.Parallel()
	files := map[string]string{"a.md": "a", "docs/b.md": "b"}
	for name, archive := range map[string][]byte{
		"tar.gz with a top directory": testarchive.TarGz(testarchive.Files("repo-0123abc", files)),
		"tar.gz without":              testarchive.TarGz(testarchive.Files("", files)),
		"zip with a top directory":    testarchive.Zip(testarchive.Files("repo-main", files)),
		"tar.gz with links and dirs": testarchive.TarGz(append(testarchive.Files("top", files),
			testarchive.Entry{Name: "top/docs/", Typeflag: tar.TypeDir},
			testarchive.Entry{Name: "top/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
			testarchive.Entry{Name: "top/hard", Typeflag: tar.TypeLink, Linkname: "top/a.md"},
			testarchive.Entry{Name: "top/dev", Typeflag: tar.TypeChar})),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := readTree(t, archive, core.ReadTreeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"a.md", "docs/b.md"}, paths(res)); diff != "" {
				t.Errorf("paths (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("two top directories are kept", func(t *testing.T) {
		t.Parallel()
		res, err := readTree(t, testarchive.TarGz([]testarchive.Entry{{Name: "a/x", Content: "1"}, {Name: "b/y", Content: "2"}}), core.ReadTreeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"a/x", "b/y"}, paths(res)); diff != "" {
			t.Errorf("paths (-want +got):\n%s", diff)
		}
	})
	t.Run("not an archive", func(t *testing.T) {
		t.Parallel()
		_, err := readTree(t, []byte("just text"), core.ReadTreeOptions{})
		checkErr(t, "ReadTree of a text file", err, errs.Input, "ReadURL")
	})
}

func TestTreePathTraversalRejected(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"../evil", "top/../../evil", "/etc/passwd", `..\evil`, "C:/evil"} {
		for kind, archive := range map[string][]byte{
			"tar.gz": testarchive.TarGz([]testarchive.Entry{{Name: "top/ok", Content: "ok"}, {Name: name, Content: "evil"}}),
			"zip":    testarchive.Zip([]testarchive.Entry{{Name: "top/ok", Content: "ok"}, {Name: name, Content: "evil"}}),
		} {
			_, err := readTree(t, archive, core.ReadTreeOptions{})
			checkErr(t, kind+" entry "+name, err, errs.Input)
		}
	}
}

func TestTreeBombsCapped(t *testing.T) {
	t.Parallel()
	zeros := strings.Repeat("\x00", 8<<20) // 8 MiB of zeros compresses to a few KiB
	for kind, archive := range map[string][]byte{
		"zip":    testarchive.Zip([]testarchive.Entry{{Name: "bomb", Content: zeros}}),
		"tar.gz": testarchive.TarGz([]testarchive.Entry{{Name: "bomb", Content: zeros}}),
	} {
		if len(archive) > 64<<10 {
			t.Fatalf("%s bomb is %d bytes; want a small archive", kind, len(archive))
		}
		_, err := readTree(t, archive, core.ReadTreeOptions{MaxBytes: 1 << 20})
		checkErr(t, kind+" bomb with MaxBytes 1 MiB", err, errs.PayloadTooLarge, "1048576")
	}
}

// testProvider reads "mem://" URLs from a map.
type testProvider struct {
	files map[string]string
	calls *[]string
}

func (p testProvider) Accepts(u string) bool { return strings.HasPrefix(u, "mem://") }

func (p testProvider) ReadURL(_ context.Context, u string, opts core.ReadURLOptions) (core.ReadURLResponse, error) {
	*p.calls = append(*p.calls, u)
	if opts.MaxBytes != urlreader.DefaultMaxBytes {
		return core.ReadURLResponse{}, errs.NewInput("MaxBytes %d, want the default", opts.MaxBytes)
	}
	c, ok := p.files[u]
	if !ok {
		return core.ReadURLResponse{}, errs.NewNotFound("%s", u)
	}
	return core.ReadURLResponse{Data: []byte(c)}, nil
}

func (p testProvider) ReadTree(context.Context, string, core.ReadTreeOptions) (core.ReadTreeResponse, error) {
	return core.ReadTreeResponse{}, errs.New(errs.NotImplemented, "no trees")
}

func TestProvidersAreAskedFirstUnderTheAllowList(t *testing.T) {
	t.Parallel()
	var calls []string
	p := testProvider{files: map[string]string{"mem://store/a": "from memory"}, calls: &calls}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Errorf("the HTTP reader was asked for %s", r.URL) }))
	t.Cleanup(srv.Close)
	b := backend.New(backend.WithDefaults(
		mockservices.ConfigFactory(map[string]any{"backend": map[string]any{"reading": map[string]any{
			"allow": []any{map[string]any{"host": "store"}},
		}}}),
		urlreader.Factory(),
		backend.NewRootServiceFactory(core.URLReaderProvidersRef, func(context.Context, struct{}) (core.URLReaderProvider, error) { return p, nil }),
	))
	r, err := backend.Resolve(t.Context(), b, core.URLReaderRef, "todo")
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.ReadURL(t.Context(), "mem://store/a", core.ReadURLOptions{})
	if err != nil || string(res.Data) != "from memory" {
		t.Errorf("ReadURL through the provider = %q, %v", res.Data, err)
	}
	_, err = r.ReadURL(t.Context(), "mem://other/a", core.ReadURLOptions{})
	checkErr(t, "ReadURL through the provider of a host not allowed", err, errs.NotAllowed, `"other"`)
	if !strings.Contains(err.Error(), "plugin 'todo'") {
		t.Errorf("error %q does not name the plugin", err)
	}
	if diff := cmp.Diff([]string{"mem://store/a"}, calls); diff != "" {
		t.Errorf("provider calls (-want +got):\n%s", diff)
	}
}

func TestReadConfig(t *testing.T) {
	t.Parallel()
	cfg := func(reading map[string]any) core.Config {
		return mockservices.Config(map[string]any{"backend": map[string]any{"reading": reading}})
	}
	got, err := urlreader.ReadConfig(cfg(map[string]any{
		"allow":    []any{map[string]any{"host": "example.com", "paths": []any{"/docs/"}}, map[string]any{"host": "localhost:7007", "allowInternal": true}},
		"maxBytes": 1024,
		"timeout":  "5s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := urlreader.Options{
		Allow:    []urlreader.AllowEntry{{Host: "example.com", Paths: []string{"/docs/"}}, {Host: "localhost:7007", AllowInternal: true}},
		MaxBytes: 1024, Timeout: 5e9,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadConfig (-want +got):\n%s", diff)
	}
	for _, bad := range []struct {
		reading map[string]any
		want    string
	}{
		{map[string]any{"maxBytes": 0}, "backend.reading.maxBytes"},
		{map[string]any{"timeout": "-1s"}, "backend.reading.timeout"},
		{map[string]any{"allow": []any{map[string]any{"paths": []any{"/x/"}}}}, "host"},
	} {
		if _, err := urlreader.ReadConfig(cfg(bad.reading)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ReadConfig(%v) = %v, want an error naming %s", bad.reading, err, bad.want)
		}
	}
	for _, bad := range []urlreader.AllowEntry{{Host: ""}, {Host: "https://example.com"}, {Host: "ex*.com"}, {Host: "example.com", Paths: []string{"docs/"}}} {
		if _, err := urlreader.New(urlreader.Options{Allow: []urlreader.AllowEntry{bad}}); err == nil || !strings.Contains(err.Error(), "backend.reading.allow") {
			t.Errorf("New with entry %+v = %v, want an error naming backend.reading.allow", bad, err)
		}
	}
}
