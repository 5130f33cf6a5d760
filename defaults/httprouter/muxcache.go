package httprouter

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
)

// A MuxCache lets routers share their http.ServeMux values, keyed by the
// sequence of patterns given to [Router.Handle]. Registering a pattern in
// a ServeMux parses it, checks it against every pattern registered before
// and records the caller's source position (runtime.Caller); that is most
// of the cost of starting a plugin, and tests start the same plugins, with
// the same routes, many times in one process. Package testbackend owns one
// for its test backends ([WithMuxCache]); a production router, created
// once per plugin, has its own ServeMux and needs none.
//
// A cached ServeMux holds no handler of any router: the handler of its
// i-th route is route(i), which serves with the i-th handler of the router
// that passed the request (see dispatch). Whether a pattern registers, and
// the error if it does not, depend only on the patterns registered before
// it, so the cache is a tree of the sequences seen: a node per sequence,
// created once and immutable but for its ServeMux, which is built when a
// router ending at that node first serves and never registered in again.
// A new sequence costs one registration per pattern, as without the cache:
// the mux being built moves down the tree with the patterns. The tree
// holds the distinct sequences of routes given to the cache's routers,
// which tests repeat; it does not grow with the number of routers, but
// does with routes made up as a program runs, so give a cache only to
// routers whose patterns are fixed.
//
// A MuxCache is safe for concurrent use. Create one with [NewMuxCache].
type MuxCache struct {
	root muxNode
}

// NewMuxCache returns an empty cache.
func NewMuxCache() *MuxCache { return &MuxCache{} }

// muxNode is the sequence of patterns from the root of a MuxCache's tree
// to it.
type muxNode struct {
	parent  *muxNode
	pattern string // the last pattern of the sequence
	err     error  // why pattern does not register after the others, or nil
	routes  int    // how many patterns of the sequence registered

	mu       sync.Mutex
	children map[string]*muxNode // by the next pattern
	// mux serves the sequence's routes once a router has needed it; it is
	// not registered in again. building has the sequence's routes too but
	// is not shared yet: the next pattern is registered in it.
	mux, building *http.ServeMux
}

// next returns the node of n's sequence followed by pattern.
func (n *muxNode) next(pattern string) *muxNode {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c := n.children[pattern]; c != nil {
		return c
	}
	m := n.building
	n.building = nil
	if m == nil {
		m = n.build()
	}
	c := &muxNode{parent: n, pattern: pattern, routes: n.routes, building: m}
	// A pattern that does not register leaves the ServeMux as it was.
	if c.err = register(m, pattern, route(n.routes)); c.err == nil {
		c.routes++
	}
	if n.children == nil {
		n.children = make(map[string]*muxNode)
	}
	n.children[pattern] = c
	return c
}

// serveMux returns the ServeMux of n's routes, which must not be
// registered in.
func (n *muxNode) serveMux() *http.ServeMux {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mux == nil {
		n.mux, n.building = n.building, nil
		if n.mux == nil {
			n.mux = n.build()
		}
	}
	return n.mux
}

// build returns a new ServeMux with the routes of n's sequence.
func (n *muxNode) build() *http.ServeMux {
	var seq []*muxNode
	for p := n; p.parent != nil; p = p.parent {
		seq = append(seq, p)
	}
	m := http.NewServeMux()
	i := 0
	for j := len(seq) - 1; j >= 0; j-- {
		if seq[j].err == nil {
			// It registered before, after the same patterns: it does again.
			_ = register(m, seq[j].pattern, route(i))
			i++
		}
	}
	return m
}

// register adds a pattern to m, turning its panic into an error.
func register(m *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			// The places ServeMux names are inside this package.
			err = errors.New(registeredAt.ReplaceAllString(fmt.Sprint(v), ""))
		}
	}()
	m.Handle(pattern, h)
	return nil
}

var registeredAt = regexp.MustCompile(`\s*\(registered at [^)]*\)`)

// route is the handler of the i-th route of a router's ServeMux. It tells
// the routes from the ServeMux's own not-found, method-not-allowed and
// redirect handlers, and serves the request with the handler of the router
// that dispatched it.
type route int

func (i route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d, ok := w.(*dispatch)
	if !ok {
		panic("httprouter: a route of a router's ServeMux was served without the router's dispatch")
	}
	d.routed = true
	d.handlers[i].ServeHTTP(d.w, r)
}

// dispatch is the ResponseWriter a router passes to its ServeMux: it
// carries the router's handlers to the route that matches, and discards
// what the ServeMux's own handlers write (the router answers those
// requests itself).
type dispatch struct {
	w        http.ResponseWriter // the router's writer, for the route
	handlers []http.Handler      // the router's, by route index
	routed   bool                // a route served the request
	header   http.Header
}

func (d *dispatch) Header() http.Header {
	if d.header == nil {
		d.header = http.Header{}
	}
	return d.header
}

func (d *dispatch) Write(b []byte) (int, error) { return len(b), nil }
func (d *dispatch) WriteHeader(int)             {}
