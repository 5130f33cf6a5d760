package testbackend_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"

	"github.com/greenroom-dev/greenroom/testbackend"
)

const mockUser = "user:default/mock"

// The echo plugin calls GET <discovery of catalog>/whoami: the mock
// standing in for catalog answers it.
func TestOutboundMockStandsInForAPlugin(t *testing.T) {
	t.Parallel()
	mock := testbackend.MockOutbound(t)
	var gotAuth string
	mock.On("GET", "/api/catalog/whoami", func(r *http.Request) (*http.Response, error) {
		gotAuth = r.Header.Get("Authorization")
		return httpmock.NewJsonResponse(http.StatusOK, map[string]string{"from": "the mock"})
	})
	tb := testbackend.New(mock.StandIn("catalog"), testbackend.WithDefaultUser(mockUser)).Start(t, echo)
	tb.Get("/api/echo/call/catalog").Do(t).ExpectStatus(t, http.StatusOK).ExpectJSON(t, map[string]string{"from": "the mock"})
	if !strings.HasPrefix(gotAuth, "Bearer ") {
		t.Errorf("the mock got Authorization %q, want the plugin's token", gotAuth)
	}
	// Other plugins stay at the backend.
	tb.Get("/api/echo/call/echo").Do(t).ExpectStatus(t, http.StatusOK)
	if got := mock.Calls()["GET /api/catalog/whoami"]; got != 1 {
		t.Errorf("the responder was called %d times, want 1", got)
	}
	mock.AssertAllCalled(t)
}

func TestOutboundMockUnmatchedRequestFails(t *testing.T) {
	t.Parallel()
	var status int
	var body string
	f := record(t, func(ft testing.TB) {
		mock := testbackend.MockOutbound(ft)
		mock.On("GET", "/api/catalog/entities", httpmock.NewStringResponder(http.StatusOK, "[]"))
		tb := testbackend.New(mock.StandIn("catalog"), testbackend.WithDefaultUser(mockUser)).Start(ft, echo)
		resp := tb.Get("/api/echo/call/catalog").Do(ft)
		status, body = resp.StatusCode, resp.String()
	})
	got := f.output()
	for _, want := range []string{
		"testbackend: OutboundMock: unexpected request GET http://127.0.0.1:",
		"/api/catalog/whoami matches no responder (registered: GET /api/catalog/entities)",
		`mock.On("GET", "/api/catalog/whoami", responder)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the failures do not contain %q; they are:\n%s", want, got)
		}
	}
	if status != http.StatusNotImplemented || !strings.Contains(body, `"name":"NotImplementedError"`) {
		t.Errorf("the unmatched request was answered %d %s, want 501 with a JSON error", status, body)
	}
}

func TestOutboundMockAssertAllCalled(t *testing.T) {
	t.Parallel()
	mock := testbackend.MockOutbound(t)
	mock.On("GET", "/a", httpmock.NewStringResponder(http.StatusOK, "a"))
	mock.On("POST", "/b", httpmock.NewStringResponder(http.StatusOK, "b"))
	resp, err := http.Get(mock.URL() + "/a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f := record(t, func(ft testing.TB) { mock.AssertAllCalled(ft) })
	if got := f.output(); !strings.Contains(got, "1 registered responders were never called:\n  POST /b") || strings.Contains(got, "GET /a") {
		t.Errorf("AssertAllCalled reported:\n%s", got)
	}
}

func TestOutboundMockClient(t *testing.T) {
	t.Parallel()
	mock := testbackend.MockOutbound(t)
	mock.On("GET", "https://api.example.com/v1/status", httpmock.NewStringResponder(http.StatusOK, "up"))
	resp, err := mock.Client().Get("https://api.example.com/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "up" {
		t.Errorf("body %q, want up", b)
	}
}

func TestOutboundMockConnectionFailure(t *testing.T) {
	t.Parallel()
	mock := testbackend.MockOutbound(t)
	mock.On("GET", "/down", httpmock.ConnectionFailure)
	resp, err := http.Get(mock.URL() + "/down")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET /down answered %s, want a transport error", resp.Status)
	}
}

func TestOutboundMockStandInErrors(t *testing.T) {
	t.Parallel()
	mock := testbackend.MockOutbound(t)
	other := testbackend.MockOutbound(t)
	tests := []struct {
		name string
		opts []testbackend.Option
		want string
	}{
		{"a plugin of the backend", []testbackend.Option{mock.StandIn("echo")}, "OutboundMock.StandIn: plugin 'echo' is a plugin of the backend"},
		{"no id", []testbackend.Option{mock.StandIn()}, "no plugin id given"},
		{"invalid id", []testbackend.Option{mock.StandIn("a/b")}, `invalid plugin id "a/b"`},
		{"two mocks", []testbackend.Option{mock.StandIn("catalog"), other.StandIn("catalog")}, "plugin 'catalog' is given two outbound mocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := testbackend.New(tt.opts...).TryStart(t, echo)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("TryStart error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// Parallel tests each have their own mock: none sees another's
// responders or calls.
func TestOutboundMockParallel(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			mock := testbackend.MockOutbound(t)
			want := map[string]string{"n": fmt.Sprint(i)}
			mock.On("GET", "/api/catalog/whoami", httpmock.NewJsonResponderOrPanic(http.StatusOK, want))
			tb := testbackend.New(mock.StandIn("catalog"), testbackend.WithDefaultUser(mockUser)).Start(t, echo)
			for range 3 {
				tb.Get("/api/echo/call/catalog").Do(t).ExpectStatus(t, http.StatusOK).ExpectJSON(t, want)
			}
			if got := mock.Calls()["GET /api/catalog/whoami"]; got != 3 {
				t.Errorf("mock %d was called %d times, want 3", i, got)
			}
		})
	}
}

// TestOutboundMockRequestAfterTheTestEnded is the regression test of an
// unmatched request through Client after the test ended (a goroutine the
// test left running): it failed the ended test, which panics.
func TestOutboundMockRequestAfterTheTestEnded(t *testing.T) {
	t.Parallel()
	var client *http.Client
	// Not parallel: t.Run must return after the subtest has ended.
	t.Run("ended", func(t *testing.T) {
		mock := testbackend.MockOutbound(t)
		mock.On("GET", "https://api.example.com/a", httpmock.NewStringResponder(http.StatusOK, "a"))
		client = mock.Client()
		resp, err := client.Get("https://api.example.com/a")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
	resp, err := client.Get("https://api.example.com/unregistered")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("the request after the test answered %s, want 501", resp.Status)
	}
}

// TestOutboundMockResponseWithoutBody is the regression test of a
// responder returning an *http.Response without a Body: serving it
// panicked on the nil Body.
func TestOutboundMockResponseWithoutBody(t *testing.T) {
	t.Parallel()
	mock := testbackend.MockOutbound(t)
	mock.On("DELETE", "/x", func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{"X-Done": {"yes"}}}, nil
	})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, mock.URL()+"/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("DELETE /x: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Done") != "yes" {
		t.Errorf("DELETE /x answered %s %v, want 204 with X-Done: yes", resp.Status, resp.Header)
	}
}
