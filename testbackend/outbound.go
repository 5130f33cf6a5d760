package testbackend

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// OutboundMock stands in for the HTTP servers a plugin under test calls:
// other plugins (through discovery, see [OutboundMock.StandIn]) and any
// other server whose URL the test gives the plugin ([OutboundMock.URL],
// [OutboundMock.Client]). It is Greenroom's counterpart of Backstage's
// registerMswTestHooks: responders are those of package
// github.com/jarcoal/httpmock, and a request that no responder matches
// fails the test.
//
// Each mock is a real HTTP server of its own (net/http/httptest) in front
// of an httpmock.MockTransport of its own, so any HTTP client reaches it
// and tests that run in parallel never share responders: nothing is
// installed in http.DefaultTransport. Its methods are safe for concurrent
// use.
type OutboundMock struct {
	t   testing.TB
	mt  *httpmock.MockTransport
	srv *httptest.Server

	mu    sync.Mutex
	ended bool // t's cleanup ran: t can no longer be failed
}

// MockOutbound returns a new outbound mock for the test t, with no
// responders, and closes it when the test ends. Register responders with
// [OutboundMock.On].
//
// A request that matches no responder fails t (t.Errorf, naming the method,
// the URL and the registered responders) and is answered 501 Not
// Implemented with an error body of the shape of errs.Body. A responder
// that returns an error (such as httpmock.ConnectionFailure) closes the
// connection without an answer, as a server that goes away does, so the
// client sees a transport error.
func MockOutbound(t testing.TB) *OutboundMock {
	m := &OutboundMock{t: t, mt: httpmock.NewMockTransport()}
	m.mt.RegisterNoResponder(m.unmatched)
	m.srv = httptest.NewServer(http.HandlerFunc(m.serveHTTP))
	t.Cleanup(func() {
		m.srv.Close() // waits for the requests the server is answering
		m.mu.Lock()
		m.ended = true
		m.mu.Unlock()
	})
	return m
}

// On registers responder for the requests with method and path. path is
// the path of the request, such as "/api/catalog/entities" for the
// stand-in of plugin catalog, with an optional query ("?kind=user") that
// must then match; a full URL ("https://example.com/x") matches requests
// sent through [OutboundMock.Client] to that URL. Registering the same
// method and path again replaces the responder. See package httpmock for
// the responders (httpmock.NewJsonResponderOrPanic,
// httpmock.NewStringResponder, ...) and for "=~" regular expressions.
func (m *OutboundMock) On(method, path string, responder httpmock.Responder) {
	m.mt.RegisterResponder(method, path, responder)
}

// URL returns the base URL of the mock's server, such as
// "http://127.0.0.1:41234". Give it to a plugin as the URL of a server
// it calls (through its config, for instance).
func (m *OutboundMock) URL() string { return m.srv.URL }

// Client returns an HTTP client whose transport is the mock itself,
// without the server: every request it sends, to any host, is answered by
// the responders. For code that takes an *http.Client. A request that
// matches no responder after the test has ended (from a goroutine the test
// left running) is answered 501 as during the test, but cannot fail it.
func (m *OutboundMock) Client() *http.Client { return &http.Client{Transport: m.mt} }

// Calls returns how many times each responder was called, keyed by
// "METHOD path" as registered, and "NO_RESPONDER" for the requests that
// matched none.
func (m *OutboundMock) Calls() map[string]int { return m.mt.GetCallCountInfo() }

// AssertAllCalled fails t unless every registered responder was called at
// least once, listing those that were not in one message.
func (m *OutboundMock) AssertAllCalled(t testing.TB) {
	t.Helper()
	calls := m.mt.GetCallCountInfo()
	var uncalled []string
	for _, r := range m.mt.Responders() {
		if calls[r] == 0 {
			uncalled = append(uncalled, r)
		}
	}
	if len(uncalled) > 0 {
		t.Errorf("testbackend: OutboundMock: %d registered responders were never called:\n  %s\nThe code under test did not make these requests; remove the responders or find out why the calls are missing.",
			len(uncalled), strings.Join(uncalled, "\n  "))
	}
}

// StandIn returns an option of the test backend making its discovery
// place the plugins pluginIDs at the mock: BaseURL and ExternalBaseURL of
// core.Discovery return <mock URL>/api/<pluginId>, so a plugin under test
// that calls another plugin reaches the mock's responders, registered with
// paths such as "/api/catalog/entities". Other plugins stay at the test
// backend's own server ([Backend.URL]). A stand-in must not be a plugin
// of the backend: starting fails, naming it, if it is.
func (m *OutboundMock) StandIn(pluginIDs ...string) Option {
	return Option{apply: func(s *settings) error {
		if len(pluginIDs) == 0 {
			return errs.NewInput("OutboundMock.StandIn: no plugin id given; pass the ids of the plugins the mock stands in for, such as mock.StandIn(\"catalog\")")
		}
		if s.standIns == nil {
			s.standIns = map[string]*OutboundMock{}
		}
		for _, id := range pluginIDs {
			if id == "" || strings.ContainsAny(id, "/?# ") {
				return errs.NewInput("OutboundMock.StandIn: invalid plugin id %q; use the id of the plugin the mock stands in for, such as \"catalog\"", id)
			}
			if other, ok := s.standIns[id]; ok && other != m {
				return errs.NewInput("OutboundMock.StandIn: plugin '%s' is given two outbound mocks; one mock stands in for a plugin", id)
			}
			s.standIns[id] = m
		}
		return nil
	}}
}

// checkStandIns fails when a stand-in is also a plugin of the backend.
func (s *settings) checkStandIns(pluginIDs []string) error {
	if len(s.standIns) == 0 {
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(s.standIns)) {
		if slices.Contains(pluginIDs, id) {
			return fmt.Errorf("OutboundMock.StandIn: plugin '%s' is a plugin of the backend, so the mock cannot stand in for it; remove the plugin from Start or the id from StandIn", id)
		}
	}
	return nil
}

// serveHTTP answers a request with the mock's responders.
func (m *OutboundMock) serveHTTP(w http.ResponseWriter, r *http.Request) {
	resp, err := m.mt.RoundTrip(r)
	if err != nil {
		// As a server that goes away: the client sees a transport error.
		panic(http.ErrAbortHandler)
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	if resp.Body != nil { // a responder's own *http.Response may have none
		defer resp.Body.Close()
		_, _ = io.Copy(w, resp.Body)
	}
}

// unmatched is the responder of requests that match no responder.
func (m *OutboundMock) unmatched(r *http.Request) (*http.Response, error) {
	target := r.URL.String()
	if r.URL.Host == "" {
		target = m.srv.URL + r.URL.RequestURI()
	}
	registered := m.mt.Responders()
	list := "none"
	if len(registered) > 0 {
		list = strings.Join(registered, ", ")
	}
	m.mu.Lock()
	if !m.ended { // failing a test that has ended panics
		m.t.Errorf("testbackend: OutboundMock: unexpected request %s %s matches no responder (registered: %s); register one with mock.On(%q, %q, responder) or find out why the code under test sends it",
			r.Method, target, list, r.Method, r.URL.Path)
	}
	m.mu.Unlock()
	body, err := json.Marshal(errs.Body{
		Error: errs.BodyError{
			Name:    "NotImplementedError",
			Message: fmt.Sprintf("testbackend.OutboundMock has no responder for %s %s", r.Method, r.URL.Path),
		},
		Request:  errs.BodyRequest{Method: r.Method, URL: r.URL.RequestURI()},
		Response: errs.BodyResponse{StatusCode: http.StatusNotImplemented},
	})
	if err != nil {
		return nil, err
	}
	resp := httpmock.NewBytesResponse(http.StatusNotImplemented, body)
	resp.Header.Set("Content-Type", "application/json; charset=utf-8")
	return resp, nil
}

// standInDiscovery is the core.Discovery of a test backend with stand-ins:
// the stand-ins at their mocks, every other plugin at base.
type standInDiscovery struct {
	base     func() string
	standIns map[string]*OutboundMock
}

func standInDiscoveryFactory(base func() string, standIns map[string]*OutboundMock) *backend.ServiceFactory {
	d := &standInDiscovery{base: base, standIns: standIns}
	return backend.NewPluginServiceFactory(core.DiscoveryRef, func(context.Context, struct{}) (core.Discovery, error) {
		return d, nil
	})
}

// BaseURL implements core.Discovery.
func (d *standInDiscovery) BaseURL(_ context.Context, pluginID string) (string, error) {
	return d.url(pluginID)
}

// ExternalBaseURL implements core.Discovery.
func (d *standInDiscovery) ExternalBaseURL(_ context.Context, pluginID string) (string, error) {
	return d.url(pluginID)
}

func (d *standInDiscovery) url(pluginID string) (string, error) {
	if pluginID == "" || strings.ContainsAny(pluginID, "/?#") {
		return "", errs.NewInput("invalid plugin ID %q for discovery: use the plugin's id, such as \"catalog\"", pluginID)
	}
	if m, ok := d.standIns[pluginID]; ok {
		return m.URL() + "/api/" + pluginID, nil
	}
	return strings.TrimRight(d.base(), "/") + "/api/" + pluginID, nil
}

// The stand-in discovery must stay a core.Discovery.
var _ core.Discovery = (*standInDiscovery)(nil)
