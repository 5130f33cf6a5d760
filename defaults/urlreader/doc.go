// Package urlreader is the default core.urlReader service: it reads files
// and trees of files by URL, over HTTP(S) or through the pluggable readers
// given to core.URLReaderProvidersRef, for the hosts that configuration
// allows and no others.
//
// # What may be read
//
// Reading is denied by default. backend.reading.allow lists the hosts that
// may be read:
//
//	backend:
//	  reading:
//	    allow:
//	      - host: example.com          # that host, on the scheme's default port
//	      - host: '*.example.org'      # its subdomains (not example.org itself)
//	      - host: docs.internal:8443   # that host and port
//	        paths: [/public/]          # only under these path prefixes
//	        allowInternal: true        # it may resolve to an internal address
//	    maxBytes: 10485760             # default 10 MiB
//	    timeout: 30s                   # default 30s
//
// A URL whose host no entry matches is an errs.NotAllowed error naming the
// host and backend.reading.allow. Entries of one host add up: a path is
// allowed if one of them allows it, and the host may be internal if one of
// them sets allowInternal. The allow-list applies to every reader,
// the pluggable ones too, and to every hop of an HTTP redirect (at most
// [MaxRedirects]).
//
// # Internal addresses
//
// The HTTP reader checks the address it actually connects to, when it
// dials, so neither DNS rebinding nor a redirect can lead it elsewhere:
// loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
// (169.254/16, which holds cloud metadata services, and fe80::/10),
// unspecified, "this network" (0/8), CGNAT (100.64/10), broadcast and
// multicast addresses are refused unless the allow entry of the host sets
// allowInternal, as are benchmarking (198.18/15), reserved (240/4) and
// documentation ranges. IPv4 addresses embedded in IPv6 (::ffff:0:0/96,
// ::/96, 64:ff9b::/96, 6to4 2002::/16) are checked as IPv4, and
// 64:ff9b:1::/48 is refused as a whole. No proxy from the environment is used.
//
// # Trees
//
// ReadTree reads a .tar.gz (or .tgz), .tar or .zip archive at the URL,
// told apart by its first bytes, and extracts it in memory: entries with
// an absolute path or a ".." element make the whole read fail; symbolic
// links, hard links and devices are skipped; the total extracted size,
// with [EntryCost] per entry and the content of skipped entries, is
// capped by MaxBytes (so a small archive cannot expand without bound), and
// one directory holding every file (as in GitHub's archives; any single
// top directory, which an archive cannot tell apart) is stripped.
// Files are sorted by path. The archive itself may be at most twice
// MaxBytes (plus 64 KiB), for the headers of many small files.
//
// # Using it
//
// [Factory] provides the service to every plugin; [New] builds a [Reader]
// without a backend. A custom reader is a root service factory for
// core.URLReaderProvidersRef (see the package example).
package urlreader
