package mockservices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// defaultURLReaderMaxBytes is the size limit of a read without MaxBytes,
// that of production (backend.reading.maxBytes's default).
const defaultURLReaderMaxBytes = 10 << 20

// URLReaderService is a fake [core.URLReader] over an in-memory map of
// files, URL to content. ReadURL returns a file with an ETag derived from
// its content, answers errs.NotModified when given that ETag, errs.NotFound
// for a URL it does not hold and errs.PayloadTooLarge for a file larger
// than MaxBytes (default 10 MiB). ReadTree returns, sorted by path, every
// file whose URL starts with the tree's URL and "/", with paths relative
// to it. The fake has no allow-list: it reads whatever it holds. It is
// safe for concurrent use.
type URLReaderService struct {
	mu    sync.Mutex
	files map[string]string
	reads []string
}

var _ core.URLReader = (*URLReaderService)(nil)

// URLReader returns a fake reader holding a copy of files (URL to
// content). Hand it to a backend with [URLReaderFactory].
func URLReader(files map[string]string) *URLReaderService {
	r := &URLReaderService{files: maps.Clone(files)}
	if r.files == nil {
		r.files = map[string]string{}
	}
	return r
}

// URLReaderFactory returns a factory of the core.urlReader service that
// gives every plugin r. With a nil r, each backend gets an empty fake of
// its own, made when a plugin first depends on the reader: that is the
// factory of [DefaultFactories].
func URLReaderFactory(r *URLReaderService) *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.URLReaderRef,
		func(context.Context, struct{}) (*URLReaderService, error) {
			if r == nil {
				return URLReader(nil), nil
			}
			return r, nil
		},
		func(_ context.Context, r *URLReaderService, _ struct{}) (core.URLReader, error) { return r, nil })
}

// Set adds the file at url, or replaces its content.
func (r *URLReaderService) Set(url, content string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[url] = content
}

// Delete removes the file at url.
func (r *URLReaderService) Delete(url string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.files, url)
}

// Reads returns the URLs read so far by ReadURL and ReadTree, in order.
func (r *URLReaderService) Reads() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reads)
}

func etagOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return `"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

// ReadURL returns the file at url.
func (r *URLReaderService) ReadURL(_ context.Context, url string, opts core.ReadURLOptions) (core.ReadURLResponse, error) {
	r.mu.Lock()
	r.reads = append(r.reads, url)
	content, ok := r.files[url]
	r.mu.Unlock()
	if !ok {
		return core.ReadURLResponse{}, errs.NewNotFound("%q was not found (mockservices.URLReader holds no such file; add it with Set)", url)
	}
	etag := etagOf(content)
	if opts.ETag == etag {
		return core.ReadURLResponse{}, errs.New(errs.NotModified, "%q has not changed since ETag %s", url, etag)
	}
	if max := orDefault(opts.MaxBytes); int64(len(content)) > max {
		return core.ReadURLResponse{}, errs.New(errs.PayloadTooLarge, "%q is larger than the limit of %d bytes; raise ReadURLOptions.MaxBytes", url, max)
	}
	return core.ReadURLResponse{Data: []byte(content), ETag: etag}, nil
}

// ReadTree returns the files under url.
func (r *URLReaderService) ReadTree(_ context.Context, url string, opts core.ReadTreeOptions) (core.ReadTreeResponse, error) {
	prefix := strings.TrimSuffix(url, "/") + "/"
	r.mu.Lock()
	r.reads = append(r.reads, url)
	var files []core.TreeFile
	for u, content := range r.files {
		if p, ok := strings.CutPrefix(u, prefix); ok && p != "" {
			files = append(files, core.TreeFile{Path: p, Data: []byte(content)})
		}
	}
	r.mu.Unlock()
	if len(files) == 0 {
		return core.ReadTreeResponse{}, errs.NewNotFound("%q was not found (mockservices.URLReader holds no file under it; add them with Set)", url)
	}
	slices.SortFunc(files, func(a, b core.TreeFile) int { return strings.Compare(a.Path, b.Path) })
	parts := make([]string, 0, 2*len(files))
	var total int64
	for _, f := range files {
		parts = append(parts, f.Path, string(f.Data))
		total += int64(len(f.Data))
	}
	etag := etagOf(parts...)
	if opts.ETag == etag {
		return core.ReadTreeResponse{}, errs.New(errs.NotModified, "%q has not changed since ETag %s", url, etag)
	}
	if max := orDefault(opts.MaxBytes); total > max {
		return core.ReadTreeResponse{}, errs.New(errs.PayloadTooLarge, "the files under %q are larger than the limit of %d bytes; raise ReadTreeOptions.MaxBytes", url, max)
	}
	if opts.Filter != nil {
		files = slices.DeleteFunc(files, func(f core.TreeFile) bool { return !opts.Filter(f.Path) })
	}
	return core.ReadTreeResponse{Files: files, ETag: etag}, nil
}

func orDefault(maxBytes int64) int64 {
	if maxBytes <= 0 {
		return defaultURLReaderMaxBytes
	}
	return maxBytes
}
