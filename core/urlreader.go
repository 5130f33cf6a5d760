package core

import (
	"context"
	"time"
)

// URLReaderRef is the reference of the URL reader service (plugin scope).
var URLReaderRef = NewServiceRef[URLReader]("core.urlReader")

// URLReaderProvidersRef is the multiton reference of the readers behind
// the URL reader service (root scope): each root service factory for it
// adds a [URLReaderProvider], asked in order of registration before the
// built-in HTTP reader.
var URLReaderProvidersRef = NewServiceRef[URLReaderProvider]("core.urlReaderProviders", WithScope(RootScope), Multiton())

// ReadURLOptions tune [URLReader.ReadURL].
type ReadURLOptions struct {
	// ETag is the ETag of a previous read: when the content has not
	// changed, ReadURL returns an errs.NotModified error.
	ETag string
	// MaxBytes bounds the size read; 0 means the reader's default
	// (production: backend.reading.maxBytes, default 10 MiB). A larger
	// body is an error.
	MaxBytes int64
}

// ReadURLResponse is the content of one URL.
type ReadURLResponse struct {
	Data         []byte
	ETag         string
	LastModified time.Time
}

// ReadTreeOptions tune [URLReader.ReadTree].
type ReadTreeOptions struct {
	// ETag: as in ReadURLOptions.
	ETag string
	// Filter, if set, keeps only the files for which it returns true
	// (paths are slash-separated and relative to the tree's root).
	Filter func(path string) bool
	// MaxBytes bounds the total size of the files; 0 means the reader's
	// default.
	MaxBytes int64
}

// TreeFile is one file of a tree.
type TreeFile struct {
	// Path is slash-separated, relative to the tree's root, and never
	// contains "..".
	Path         string
	Data         []byte
	LastModified time.Time
}

// ReadTreeResponse is the content of a tree of files.
type ReadTreeResponse struct {
	Files []TreeFile
	ETag  string
}

// URLReader reads files by URL (service "core.urlReader"). A read of a
// URL that no reader accepts, or whose host is not allowed by config
// backend.reading.allow, is an errs.NotAllowed error naming the host and
// the config key; a missing file is an errs.NotFound error.
type URLReader interface {
	ReadURL(ctx context.Context, url string, opts ReadURLOptions) (ReadURLResponse, error)
	// ReadTree reads every file under url (for the HTTP reader: a .tar.gz,
	// .tgz or .zip archive at url).
	ReadTree(ctx context.Context, url string, opts ReadTreeOptions) (ReadTreeResponse, error)
}

// URLReaderProvider is a reader for the URLs it accepts, such as those of
// one source-code host.
type URLReaderProvider interface {
	URLReader
	// Accepts reports whether the reader reads url. The URL reader asks
	// the providers in order and uses the first that accepts; the host
	// allow-list applies to every provider.
	Accepts(url string) bool
}
