package urlreader

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// errTooLarge is the extraction's error when the files exceed the budget.
var errTooLarge = errors.New("too large")

// extract returns the regular files of a .tar.gz or .zip archive, with
// paths sanitized, one common top directory stripped, sorted by path. The
// files may hold at most maxBytes in all.
func extract(data []byte, maxBytes int64, modified time.Time) ([]core.TreeFile, error) {
	var files []core.TreeFile
	var err error
	budget := min(maxBytes, math.MaxInt64-1) // readAll reads one byte more
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		files, err = extractTarGz(data, &budget, modified)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		files, err = extractZip(data, &budget)
	default:
		return nil, errs.NewInput("not a .tar.gz, .tgz or .zip archive; ReadTree reads archives only, use ReadURL for one file")
	}
	if errors.Is(err, errTooLarge) {
		return nil, errs.New(errs.PayloadTooLarge, "the extracted files are larger than the limit of %d bytes; raise ReadTreeOptions.MaxBytes or backend.reading.maxBytes", maxBytes)
	}
	if err != nil {
		return nil, err
	}
	stripTop(files)
	slices.SortFunc(files, func(a, b core.TreeFile) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// cleanPath returns name as a relative slash-separated path, or an error
// if it is absolute or climbs with "..".
func cleanPath(name string) (string, error) {
	p := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(p, "/") || (len(p) >= 2 && p[1] == ':') {
		return "", errs.NewInput("entry %q has an absolute path; archives may hold relative paths only", name)
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == ".." {
			return "", errs.NewInput("entry %q climbs out of the tree with \"..\"; archives may hold paths inside the tree only", name)
		}
	}
	p = path.Clean(p)
	if p == "." {
		return "", nil
	}
	return p, nil
}

func extractTarGz(data []byte, budget *int64, modified time.Time) ([]core.TreeFile, error) {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, errs.NewInput("not a valid gzip stream: %v", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	var files []core.TreeFile
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, errs.NewInput("not a valid tar archive: %v", err)
		}
		p, err := cleanPath(h.Name)
		if err != nil {
			return nil, err
		}
		// Directories, links, devices, FIFOs and pax headers are skipped.
		if h.Typeflag != tar.TypeReg || p == "" {
			continue
		}
		b, err := readAll(tr, budget)
		if err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, err
			}
			return nil, errs.NewInput("reading entry %q: %v", h.Name, err)
		}
		mod := h.ModTime
		if mod.IsZero() {
			mod = modified
		}
		files = append(files, core.TreeFile{Path: p, Data: b, LastModified: mod.UTC()})
	}
}

func extractZip(data []byte, budget *int64) ([]core.TreeFile, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, errs.NewInput("not a valid zip archive: %v", err)
	}
	var files []core.TreeFile
	for _, f := range zr.File {
		p, err := cleanPath(f.Name)
		if err != nil {
			return nil, err
		}
		if !f.Mode().IsRegular() || p == "" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, errs.NewInput("reading entry %q: %v", f.Name, err)
		}
		// The sizes in the headers are not trusted: the budget counts the
		// bytes that come out of the decompressor.
		b, err := readAll(rc, budget)
		rc.Close()
		if err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, err
			}
			return nil, errs.NewInput("reading entry %q: %v", f.Name, err)
		}
		files = append(files, core.TreeFile{Path: p, Data: b, LastModified: f.Modified.UTC()})
	}
	return files, nil
}

// stripTop removes the first element of every path when all files are in
// one directory, as in GitHub's archives ("repo-main/README.md").
func stripTop(files []core.TreeFile) {
	if len(files) == 0 {
		return
	}
	top, _, ok := strings.Cut(files[0].Path, "/")
	if !ok {
		return
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Path, top+"/") {
			return
		}
	}
	for i := range files {
		files[i].Path = files[i].Path[len(top)+1:]
	}
}

// readAll reads r whole if it holds at most *budget bytes, and takes what
// it read from the budget; otherwise it fails with errTooLarge.
func readAll(r io.Reader, budget *int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, *budget+1))
	if err != nil {
		return nil, err
	}
	if n > *budget {
		return nil, errTooLarge
	}
	*budget -= n
	return buf.Bytes(), nil
}
