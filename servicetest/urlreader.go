package servicetest

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// URLReaderEnv is what [TestURLReader] needs of an implementation: a
// reader and the means to publish files that it may read.
type URLReaderEnv struct {
	// Reader is the implementation under test.
	Reader core.URLReader
	// Publish makes content readable and returns its URL; name is a
	// slash-separated name unique in the env, such as "docs/a.md".
	Publish func(name, content string) (url string)
	// PublishTree makes files (relative path to content) readable as one
	// tree and returns its URL. Trees of one env do not overlap.
	PublishTree func(files map[string]string) (url string)
	// Missing returns a URL the reader may read that holds nothing.
	Missing func() (url string)
}

// TestURLReader checks an implementation of [core.URLReader]: ReadURL
// returns the content and an ETag, answers errs.NotModified when given
// that ETag and reads again when given another, errs.NotFound for a
// missing file (ReadTree too) and errs.PayloadTooLarge for a file over MaxBytes (a file
// of exactly MaxBytes is read); ReadTree returns every file with its path
// relative to the tree, sorted, keeps those that Filter accepts, honours
// the ETag and caps the total size with MaxBytes.
//
// newEnv returns a fresh environment, cleaned up by t.Cleanup.
func TestURLReader(t *testing.T, newEnv func(t *testing.T) URLReaderEnv) {
	t.Helper()
	ctx := context.Background()

	t.Run("a file is read with an ETag", func(t *testing.T) {
		env := newEnv(t)
		u := env.Publish("docs/hello.txt", "hello, world")
		res, err := env.Reader.ReadURL(ctx, u, core.ReadURLOptions{})
		if err != nil {
			t.Fatalf("ReadURL(%q) = %v", u, err)
		}
		if string(res.Data) != "hello, world" {
			t.Errorf("ReadURL(%q).Data = %q, want %q", u, res.Data, "hello, world")
		}
		if res.ETag == "" {
			t.Errorf("ReadURL(%q).ETag is empty", u)
		}
	})

	t.Run("an unchanged ETag is not modified", func(t *testing.T) {
		env := newEnv(t)
		u := env.Publish("etag.txt", "version 1")
		first, err := env.Reader.ReadURL(ctx, u, core.ReadURLOptions{})
		if err != nil {
			t.Fatalf("ReadURL(%q) = %v", u, err)
		}
		_, err = env.Reader.ReadURL(ctx, u, core.ReadURLOptions{ETag: first.ETag})
		checkErr(t, "ReadURL with the ETag of the content", err, errs.NotModified, "")
		res, err := env.Reader.ReadURL(ctx, u, core.ReadURLOptions{ETag: `"another"`})
		if err != nil || string(res.Data) != "version 1" {
			t.Errorf("ReadURL with another ETag = %q, %v; want the content", res.Data, err)
		}
	})

	t.Run("a missing file is not found", func(t *testing.T) {
		env := newEnv(t)
		_, err := env.Reader.ReadURL(ctx, env.Missing(), core.ReadURLOptions{})
		checkErr(t, "ReadURL of a missing file", err, errs.NotFound, "")
		_, err = env.Reader.ReadTree(ctx, env.Missing(), core.ReadTreeOptions{})
		checkErr(t, "ReadTree of a missing tree", err, errs.NotFound, "")
	})

	t.Run("a file over MaxBytes is refused", func(t *testing.T) {
		env := newEnv(t)
		u := env.Publish("big.txt", strings.Repeat("x", 100))
		_, err := env.Reader.ReadURL(ctx, u, core.ReadURLOptions{MaxBytes: 99})
		checkErr(t, "ReadURL of 100 bytes with MaxBytes 99", err, errs.PayloadTooLarge, "")
		res, err := env.Reader.ReadURL(ctx, u, core.ReadURLOptions{MaxBytes: 100})
		if err != nil || len(res.Data) != 100 {
			t.Errorf("ReadURL of 100 bytes with MaxBytes 100 = %d bytes, %v; want all of them", len(res.Data), err)
		}
	})

	tree := map[string]string{
		"README.md":          "# readme",
		"docs/index.md":      "# docs",
		"docs/img/logo.svg":  "<svg/>",
		"catalog-info.yaml":  "kind: Component",
		"docs/deep/a/b/c.md": "deep",
	}

	t.Run("a tree's files have relative paths, sorted", func(t *testing.T) {
		env := newEnv(t)
		u := env.PublishTree(tree)
		res, err := env.Reader.ReadTree(ctx, u, core.ReadTreeOptions{})
		if err != nil {
			t.Fatalf("ReadTree(%q) = %v", u, err)
		}
		if diff := cmp.Diff([]string{"README.md", "catalog-info.yaml", "docs/deep/a/b/c.md", "docs/img/logo.svg", "docs/index.md"}, treePaths(res)); diff != "" {
			t.Errorf("ReadTree(%q) paths (-want +got):\n%s", u, diff)
		}
		for _, f := range res.Files {
			if string(f.Data) != tree[f.Path] {
				t.Errorf("ReadTree(%q): %s = %q, want %q", u, f.Path, f.Data, tree[f.Path])
			}
		}
		if res.ETag == "" {
			t.Errorf("ReadTree(%q).ETag is empty", u)
		}
	})

	t.Run("a tree's filter keeps what it accepts", func(t *testing.T) {
		env := newEnv(t)
		u := env.PublishTree(tree)
		res, err := env.Reader.ReadTree(ctx, u, core.ReadTreeOptions{Filter: func(p string) bool { return strings.HasSuffix(p, ".md") }})
		if err != nil {
			t.Fatalf("ReadTree(%q) = %v", u, err)
		}
		if diff := cmp.Diff([]string{"README.md", "docs/deep/a/b/c.md", "docs/index.md"}, treePaths(res)); diff != "" {
			t.Errorf("ReadTree(%q) with a filter on .md (-want +got):\n%s", u, diff)
		}
	})

	t.Run("an unchanged tree is not modified", func(t *testing.T) {
		env := newEnv(t)
		u := env.PublishTree(tree)
		first, err := env.Reader.ReadTree(ctx, u, core.ReadTreeOptions{})
		if err != nil {
			t.Fatalf("ReadTree(%q) = %v", u, err)
		}
		_, err = env.Reader.ReadTree(ctx, u, core.ReadTreeOptions{ETag: first.ETag})
		checkErr(t, "ReadTree with the ETag of the tree", err, errs.NotModified, "")
	})

	t.Run("a tree over MaxBytes is refused", func(t *testing.T) {
		env := newEnv(t)
		u := env.PublishTree(map[string]string{"a.txt": strings.Repeat("a", 600), "b.txt": strings.Repeat("b", 600)})
		_, err := env.Reader.ReadTree(ctx, u, core.ReadTreeOptions{MaxBytes: 1000})
		checkErr(t, "ReadTree of 1200 bytes with MaxBytes 1000", err, errs.PayloadTooLarge, "")
	})
}

func treePaths(res core.ReadTreeResponse) []string {
	ps := make([]string, len(res.Files))
	for i, f := range res.Files {
		ps[i] = f.Path
	}
	return ps
}
