package urlreader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// Defaults of [Options].
const (
	DefaultMaxBytes = 10 << 20
	DefaultTimeout  = 30 * time.Second
	// MaxRedirects is the number of redirects the HTTP reader follows.
	MaxRedirects = 5
)

// allowKey is the config key of the allow-list, named in errors.
const allowKey = "backend.reading.allow"

// AllowEntry is one entry of the allow-list (backend.reading.allow).
type AllowEntry struct {
	// Host is "example.com" (that host on the scheme's default port),
	// "*.example.com" (its subdomains) or "host:port".
	Host string
	// Paths, if not empty, are the path prefixes that may be read, such
	// as "/docs/". A URL's path is cleaned before it is compared.
	Paths []string
	// AllowInternal lets the host resolve to an internal address
	// (loopback, private, link-local, ...).
	AllowInternal bool
}

// Options configure a [Reader].
type Options struct {
	// Allow is the allow-list; empty denies every read.
	Allow []AllowEntry
	// MaxBytes is the default size limit of a read (of a tree: of its
	// extracted files); 0 means DefaultMaxBytes.
	MaxBytes int64
	// Timeout bounds each HTTP read; 0 means DefaultTimeout.
	Timeout time.Duration
	// Providers are asked, in order, before the HTTP reader.
	Providers []core.URLReaderProvider
}

// Reader is the production [core.URLReader].
type Reader struct {
	allow     []AllowEntry
	maxBytes  int64
	providers []core.URLReaderProvider
	client    *http.Client
}

var _ core.URLReader = (*Reader)(nil)

// New returns a reader with the given options. It reports an invalid
// allow entry.
func New(opts Options) (*Reader, error) {
	for i, e := range opts.Allow {
		if err := checkPattern(e.Host); err != nil {
			return nil, fmt.Errorf("config key %q: entry #%d: %w", allowKey, i+1, err)
		}
		for _, p := range e.Paths {
			if !strings.HasPrefix(p, "/") {
				return nil, fmt.Errorf("config key %q: entry #%d (host %q): path %q must start with /", allowKey, i+1, e.Host, p)
			}
		}
	}
	r := &Reader{allow: opts.Allow, maxBytes: opts.MaxBytes, providers: opts.Providers}
	if r.maxBytes <= 0 {
		r.maxBytes = DefaultMaxBytes
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	transport := &http.Transport{
		Proxy:             nil, // a proxy would dial for us, past the address check
		DialContext:       r.dial,
		ForceAttemptHTTP2: true,
		// No transparent gzip: a .tar.gz served with Content-Encoding:
		// gzip must arrive as the archive it is, and the size limits
		// count the bytes received.
		DisableCompression:    true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	r.client = &http.Client{Transport: transport, Timeout: timeout, CheckRedirect: r.checkRedirect}
	return r, nil
}

// CloseIdleConnections closes the connections the reader keeps for reuse.
func (r *Reader) CloseIdleConnections() { r.client.CloseIdleConnections() }

func checkPattern(host string) error {
	h := strings.TrimPrefix(host, "*.")
	switch {
	case host == "":
		return errors.New("host is empty; set host to a name such as example.com, *.example.com or example.com:8080")
	case strings.Contains(h, "*"), strings.Contains(host, "/"):
		return fmt.Errorf("host %q is not a host name; use a name such as example.com, *.example.com or example.com:8080 (no scheme, no path, '*.' only as a prefix)", host)
	}
	return nil
}

// entries returns the allow entries that match hostport ("name" or
// "name:port", as in a URL) on a scheme whose default ports are defPorts
// (",80," for http).
func (r *Reader) entries(hostport, defPorts string) []*AllowEntry {
	name, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		name, port = h, p
	}
	name = strings.ToLower(strings.TrimSuffix(strings.Trim(name, "[]"), "."))
	var out []*AllowEntry
	for i := range r.allow {
		e := &r.allow[i]
		pname, pport := e.Host, ""
		if h, p, err := net.SplitHostPort(e.Host); err == nil {
			pname, pport = h, p
		}
		pname = strings.ToLower(strings.Trim(pname, "[]"))
		if pport == "" {
			if port != "" && !strings.Contains(defPorts, ","+port+",") {
				continue
			}
		} else if port != pport {
			continue
		}
		if sub, ok := strings.CutPrefix(pname, "*."); ok {
			if strings.HasSuffix(name, "."+sub) {
				out = append(out, e)
			}
		} else if name == pname {
			out = append(out, e)
		}
	}
	return out
}

func defaultPorts(scheme string) string {
	switch scheme {
	case "http":
		return ",80,"
	case "https":
		return ",443,"
	}
	return ","
}

// check applies the allow-list to u.
func (r *Reader) check(u *url.URL) error {
	if u.Host == "" {
		return errs.NewNotAllowed("reading %q is not allowed: the URL has no host; use an absolute URL of a host in %s", u.Redacted(), allowKey)
	}
	es := r.entries(u.Host, defaultPorts(u.Scheme))
	if len(es) == 0 {
		return errs.NewNotAllowed("reading %q is not allowed: host %q is not in %s; add {host: %q} to it", u.Redacted(), u.Host, allowKey, u.Host)
	}
	p := u.Path
	if p == "" {
		p = "/"
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	var prefixes []string
	for _, e := range es {
		if len(e.Paths) == 0 {
			return nil
		}
		for _, prefix := range e.Paths {
			if strings.HasPrefix(clean, prefix) {
				return nil
			}
		}
		prefixes = append(prefixes, e.Paths...)
	}
	return errs.NewNotAllowed("reading %q is not allowed: path %q of host %q is not under the paths %q of %s; add its prefix to the entry's paths", u.Redacted(), clean, u.Host, prefixes, allowKey)
}

func (r *Reader) parse(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// The error of url.Parse quotes the URL, and parts of it in its
		// detail: parse the redacted URL again for a detail without them.
		shown := redactRaw(rawURL)
		detail := "its user information is malformed"
		if _, err := url.Parse(shown); err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			detail = err.Error()
		}
		return nil, errs.NewInput("urlReader: %q is not a URL: %s", shown, detail)
	}
	if u.Host == "" {
		return nil, errs.NewNotAllowed("reading %q is not allowed: the URL has no host; use an absolute URL of a host in %s", redactRaw(rawURL), allowKey)
	}
	if err := r.check(u); err != nil {
		return nil, err
	}
	return u, nil
}

// redactRaw returns rawURL, a URL that may not parse, with everything
// between the scheme's "://" (or the start) and the last "@" replaced by
// "xxxxx". It hides a password wherever the parser would have ended the
// user information, at the price of hiding more than it when an "@"
// follows in the path.
func redactRaw(rawURL string) string {
	start := 0
	if i := strings.Index(rawURL, "://"); i >= 0 {
		start = i + len("://")
	}
	at := strings.LastIndex(rawURL[start:], "@")
	if at < 0 {
		return rawURL
	}
	return rawURL[:start] + "xxxxx" + rawURL[start+at:]
}

func (r *Reader) provider(rawURL string) core.URLReaderProvider {
	for _, p := range r.providers {
		if p.Accepts(rawURL) {
			return p
		}
	}
	return nil
}

func checkScheme(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return errs.NewNotAllowed("reading %q is not allowed: no reader accepts scheme %q; the built-in reader reads http and https, add a reader for others with a factory of core.URLReaderProvidersRef", u.Redacted(), u.Scheme)
	}
	return nil
}

// ReadURL reads the file at rawURL.
func (r *Reader) ReadURL(ctx context.Context, rawURL string, opts core.ReadURLOptions) (core.ReadURLResponse, error) {
	u, err := r.parse(rawURL)
	if err != nil {
		return core.ReadURLResponse{}, err
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = r.maxBytes
	}
	if p := r.provider(rawURL); p != nil {
		return p.ReadURL(ctx, rawURL, opts)
	}
	if err := checkScheme(u); err != nil {
		return core.ReadURLResponse{}, err
	}
	return r.get(ctx, u, opts.ETag, opts.MaxBytes,
		"%q is larger than the limit of %d bytes; raise ReadURLOptions.MaxBytes or backend.reading.maxBytes")
}

// saturatingAdd returns a+b for non-negative a and b, or math.MaxInt64-1
// when the sum does not fit (readers add 1 to their limit).
func saturatingAdd(a, b int64) int64 {
	if a > math.MaxInt64-1-b {
		return math.MaxInt64 - 1
	}
	return a + b
}

// ReadTree reads the archive at rawURL and returns its files.
func (r *Reader) ReadTree(ctx context.Context, rawURL string, opts core.ReadTreeOptions) (core.ReadTreeResponse, error) {
	u, err := r.parse(rawURL)
	if err != nil {
		return core.ReadTreeResponse{}, err
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = r.maxBytes
	}
	if p := r.provider(rawURL); p != nil {
		return p.ReadTree(ctx, rawURL, opts)
	}
	if err := checkScheme(u); err != nil {
		return core.ReadTreeResponse{}, err
	}
	// An archive is rarely larger than its contents, but the headers of
	// many small files can make it so: the download may be twice the
	// limit, plus room for the headers of a small tree.
	res, err := r.get(ctx, u, opts.ETag, saturatingAdd(saturatingAdd(opts.MaxBytes, opts.MaxBytes), 64<<10),
		"the archive at %q is larger than %d bytes, twice the limit on its files; raise ReadTreeOptions.MaxBytes or backend.reading.maxBytes")
	if err != nil {
		return core.ReadTreeResponse{}, err
	}
	files, err := extract(res.Data, opts.MaxBytes, res.LastModified)
	if err != nil {
		return core.ReadTreeResponse{}, fmt.Errorf("urlReader: archive at %q: %w", u.Redacted(), err)
	}
	if opts.Filter != nil {
		kept := files[:0]
		for _, f := range files {
			if opts.Filter(f.Path) {
				kept = append(kept, f)
			}
		}
		files = kept
	}
	return core.ReadTreeResponse{Files: files, ETag: res.ETag}, nil
}

// get reads u with the HTTP client. tooLarge is the message of the error
// for a body over maxBytes, formatted with the URL and maxBytes.
func (r *Reader) get(ctx context.Context, u *url.URL, etag string, maxBytes int64, tooLarge string) (core.ReadURLResponse, error) {
	maxBytes = min(maxBytes, math.MaxInt64-1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return core.ReadURLResponse{}, fmt.Errorf("urlReader: %w", err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		if e, ok := errs.As(err); ok {
			return core.ReadURLResponse{}, e
		}
		return core.ReadURLResponse{}, fmt.Errorf("urlReader: reading %q: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return core.ReadURLResponse{}, errs.New(errs.NotModified, "%q has not changed since ETag %s", u.Redacted(), etag)
	case resp.StatusCode == http.StatusNotFound:
		return core.ReadURLResponse{}, errs.NewNotFound("%q was not found (404)", u.Redacted())
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return core.ReadURLResponse{}, fmt.Errorf("urlReader: reading %q: unexpected status %s", u.Redacted(), resp.Status)
	}
	if resp.ContentLength > maxBytes {
		return core.ReadURLResponse{}, errs.New(errs.PayloadTooLarge, tooLarge, u.Redacted(), maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return core.ReadURLResponse{}, fmt.Errorf("urlReader: reading %q: %w", u.Redacted(), err)
	}
	if int64(len(data)) > maxBytes {
		return core.ReadURLResponse{}, errs.New(errs.PayloadTooLarge, tooLarge, u.Redacted(), maxBytes)
	}
	res := core.ReadURLResponse{Data: data, ETag: resp.Header.Get("ETag")}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		res.LastModified = t
	}
	return res, nil
}

// checkRedirect applies the allow-list and the scheme rule to every hop.
func (r *Reader) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return errs.NewNotAllowed("reading %q is not allowed: more than %d redirects", via[0].URL.Redacted(), MaxRedirects)
	}
	if err := checkScheme(req.URL); err != nil {
		return err
	}
	if err := r.check(req.URL); err != nil {
		e, _ := errs.As(err)
		return errs.NewNotAllowed("redirect from %q refused: %s", via[len(via)-1].URL.Redacted(), e.Message)
	}
	return nil
}

// dial connects to addr, refusing internal addresses unless the allow
// entry of addr's host sets AllowInternal. The check runs on the address
// actually dialled (net.Dialer.Control), after name resolution.
func (r *Reader) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	// AllowInternal is a property of the host: any entry of it may set it.
	allowInternal := false
	for _, e := range r.entries(net.JoinHostPort(host, port), ",80,443,") {
		allowInternal = allowInternal || e.AllowInternal
	}
	d := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !allowInternal {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			return checkAddress(host, address)
		}
	}
	return d.DialContext(ctx, network, addr)
}

func checkAddress(host, address string) error {
	h, _, err := net.SplitHostPort(address)
	if err != nil {
		h = address
	}
	if why := internal(h); why != "" {
		return errs.NewNotAllowed("reading from host %q is not allowed: it resolves to %s, a %s address; set allowInternal: true on its entry in %s if it is meant to be read", host, h, why, allowKey)
	}
	return nil
}
