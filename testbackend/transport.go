package testbackend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
)

// inProcessHost is the host of requests served in-process. The .test
// top-level domain is reserved for testing (RFC 6761), so it can never
// name a real server.
const inProcessHost = "greenroom.test"

// errStopped is the error of a request to a stopped test backend.
var errStopped = errors.New("testbackend: this test backend was stopped (Backend.Stop, or the end of its test) and serves no more requests; send them to a backend that runs, such as another instance of StartInstances")

// noDefaultCredentialsKey marks a request context: the default identity of
// WithDefaultUser must not be added to the request.
type noDefaultCredentialsKey struct{}

// transport is the RoundTripper of the test client. It serves requests by
// calling the backend's root handler directly: the request goes through the
// whole production chain (root router, plugin mount, auth barrier, error
// handling) without a listener, a socket or a goroutine.
//
// net/http/httptest has the pieces (NewRecorder) but no RoundTripper over a
// handler, which is the few lines below.
type transport struct {
	tb *Backend
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.tb.isStopped() {
		return nil, errStopped
	}
	if !t.tb.servesHost(req.URL.Host) {
		return nil, fmt.Errorf("testbackend: the test client only serves this test backend, but the request is for %s; use a path such as \"/api/<pluginId>/...\" or a URL from Backend.URL, and http.DefaultClient for other hosts", req.URL.Redacted())
	}
	// As over a wire, the server's request context carries none of the
	// client's values, and is cancelled when the client gives up or when
	// the handler returns.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := context.AfterFunc(req.Context(), cancel)
	defer stop()
	// A RoundTripper must not modify the request: build the server's view
	// of it, as http.Server would from the wire.
	sreq := req.Clone(ctx)
	if sreq.URL.Host == "" {
		sreq.URL.Host = inProcessHost
	}
	if sreq.URL.Scheme == "" {
		sreq.URL.Scheme = "http"
	}
	if sreq.Host == "" {
		sreq.Host = sreq.URL.Host
	}
	sreq.RequestURI = sreq.URL.RequestURI()
	sreq.RemoteAddr = "192.0.2.1:1234" // TEST-NET-1, as httptest.NewRequest
	sreq.Proto, sreq.ProtoMajor, sreq.ProtoMinor = "HTTP/1.1", 1, 1
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	if err := t.tb.addDefaultCredentials(req.Context(), sreq); err != nil {
		return nil, err
	}

	rec := httptest.NewRecorder()
	t.tb.serveHTTP(rec, sreq)
	if req.Body != nil {
		req.Body.Close()
	}
	resp := rec.Result()
	resp.Request = req
	// The recorder's body, in a type that Request.Do knows, so that it
	// need not copy it.
	resp.Body = &recordedBody{Reader: bytes.NewReader(rec.Body.Bytes()), data: rec.Body.Bytes()}
	return resp, nil
}

// recordedBody is the body of a response served in-process: data, read
// through the Reader.
type recordedBody struct {
	*bytes.Reader
	data []byte
}

func (*recordedBody) Close() error { return nil }

// withoutDefaultCredentials marks ctx so that a request made with it is
// sent without the default user's credentials.
func withoutDefaultCredentials(ctx context.Context) context.Context {
	return context.WithValue(ctx, noDefaultCredentialsKey{}, true)
}
