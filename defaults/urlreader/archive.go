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

// EntryCost is what every entry of an archive (file, directory, link or
// any other) costs against MaxBytes on top of its content: the size of a
// tar header. Without it an archive of many empty files would cost nothing.
const EntryCost = 512

// extract returns the regular files of a .tar.gz, .tar or .zip archive,
// with paths sanitized, one common top directory stripped, sorted by
// path. Every entry costs EntryCost plus its content, skipped entries
// included, and all of them together at most maxBytes.
func extract(data []byte, maxBytes int64, modified time.Time) ([]core.TreeFile, error) {
	var files []core.TreeFile
	var err error
	budget := min(maxBytes, math.MaxInt64-1) // readAll reads one byte more
	// The tar stream as a whole (headers the tar reader consumes itself,
	// such as PAX records, and padding included) may be as large as the
	// download may be.
	streamLimit := saturatingAdd(saturatingAdd(budget, budget), 64<<10)
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		gz, gzErr := gzip.NewReader(bytes.NewReader(data))
		if gzErr != nil {
			return nil, errs.NewInput("not a valid gzip stream: %v", gzErr)
		}
		defer gz.Close()
		files, err = extractTar(&limitedReader{r: gz, n: streamLimit}, &budget, modified)
	case isTar(data):
		// A .tar.gz whose gzip layer was taken off in transit, or a plain tar.
		files, err = extractTar(bytes.NewReader(data), &budget, modified)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		files, err = extractZip(data, &budget)
	default:
		return nil, errs.NewInput("not a .tar.gz, .tgz, .tar or .zip archive; ReadTree reads archives only, use ReadURL for one file")
	}
	if errors.Is(err, errTooLarge) {
		return nil, errs.New(errs.PayloadTooLarge, "the extracted files are larger than the limit of %d bytes (%d bytes per entry for its header, plus the content of every entry, skipped ones included); raise ReadTreeOptions.MaxBytes or backend.reading.maxBytes", maxBytes, EntryCost)
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

// isTar reports whether data starts with a POSIX or GNU tar header.
func isTar(data []byte) bool {
	return len(data) >= 262 && string(data[257:262]) == "ustar"
}

// limitedReader reads at most n bytes of r and fails with errTooLarge
// past them.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// charge takes n from the budget, or fails with errTooLarge.
func charge(budget *int64, n int64) error {
	if n > *budget {
		return errTooLarge
	}
	*budget -= n
	return nil
}

func extractTar(r io.Reader, budget *int64, modified time.Time) ([]core.TreeFile, error) {
	tr := tar.NewReader(r)
	var files []core.TreeFile
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if errors.Is(err, errTooLarge) {
			return nil, err
		}
		if err != nil {
			return nil, errs.NewInput("not a valid tar archive: %v", err)
		}
		if err := charge(budget, EntryCost); err != nil {
			return nil, err
		}
		p, err := cleanPath(h.Name)
		if err != nil {
			return nil, err
		}
		// Directories, links, devices, FIFOs and pax headers are skipped,
		// but whatever content they carry counts: Next would otherwise
		// read it past the budget.
		if h.Typeflag != tar.TypeReg || p == "" {
			n, err := io.Copy(io.Discard, io.LimitReader(tr, *budget+1))
			if err == nil {
				err = charge(budget, n)
			}
			if errors.Is(err, errTooLarge) {
				return nil, err
			}
			if err != nil {
				return nil, errs.NewInput("reading entry %q: %v", h.Name, err)
			}
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
		if err := charge(budget, EntryCost); err != nil {
			return nil, err
		}
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
