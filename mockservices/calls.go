package mockservices

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

var noExpiry time.Time

// Call is one recorded call of a fake service's method.
type Call struct {
	// Method is the method name, such as "PluginRequestToken".
	Method string
	// Args are the arguments after the context, as passed, except that
	// HTTPAuth records a request as "<METHOD> <request URI>".
	Args []any
	// Err is the error the method returned, or nil.
	Err error
}

// String formats the call as Go would print it, such as
// `BaseURL("catalog")`, and appends " = error" when it failed.
func (c Call) String() string {
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		if s, ok := a.(string); ok {
			args[i] = fmt.Sprintf("%q", s)
		} else {
			args[i] = fmt.Sprint(a)
		}
	}
	s := c.Method + "(" + strings.Join(args, ", ") + ")"
	if c.Err != nil {
		s += " = " + c.Err.Error()
	}
	return s
}

// recorder records calls; the fakes embed it.
type recorder struct {
	mu    sync.Mutex
	calls []Call
}

func (r *recorder) record(err error, method string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{Method: method, Args: args, Err: err})
}

// Calls returns the recorded calls in order; with method names, only the
// calls of those methods.
func (r *recorder) Calls(methods ...string) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Call
	for _, c := range r.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}
