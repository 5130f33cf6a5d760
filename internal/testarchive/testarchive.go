// Package testarchive builds archives and serves files over HTTP for the
// tests of URL readers.
package testarchive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Entry is one entry of an archive.
type Entry struct {
	Name     string
	Content  string
	Typeflag byte   // tar: tar.TypeReg when 0
	Linkname string // tar: for links
}

// Files returns the entries of files, sorted by name, each under top + "/"
// when top is not empty.
func Files(top string, files map[string]string) []Entry {
	var es []Entry
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if top != "" {
			name = top + "/" + name
		}
		es = append(es, Entry{Name: name, Content: files[strings.TrimPrefix(name, top+"/")]})
	}
	return es
}

var modTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TarGz returns a gzipped tar archive of the entries.
func TarGz(entries []Entry) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: 0o644, Size: int64(len(e.Content)), ModTime: modTime, Typeflag: e.Typeflag, Linkname: e.Linkname}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Content)); err != nil {
				panic(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	if err := gz.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Zip returns a zip archive of the regular entries, deflated.
func Zip(entries []Entry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: modTime})
		if err != nil {
			panic(err)
		}
		if _, err := w.Write([]byte(e.Content)); err != nil {
			panic(err)
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Server serves files by path with an ETag (a hash of the content) and
// If-None-Match, as static file hosts do.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
}

// NewServer starts a server; close it with Close.
func NewServer() *Server {
	s := &Server{files: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Set serves content at path (starting with "/").
func (s *Server) Set(path string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = content
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b, ok := s.files[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(b)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	http.ServeContent(w, r, "", modTime, bytes.NewReader(b))
}
