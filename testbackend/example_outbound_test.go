package testbackend_test

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/jarcoal/httpmock"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// A plugin under test calls the catalog plugin, found through discovery:
// the outbound mock stands in for catalog. A request it has no responder
// for would fail the test.
func ExampleOutboundMock_StandIn() {
	t := newExampleT()
	defer t.finish()

	// The plugin under test: GET /count asks catalog for its entities.
	counter := backend.NewPlugin("counter", backend.Init(func(ctx context.Context, d struct {
		Router    core.HTTPRouter
		Discovery core.Discovery
	}) error {
		d.Router.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
			base, err := d.Discovery.BaseURL(r.Context(), "catalog")
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			resp, err := http.Get(base + "/entities")
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			fmt.Fprintf(w, "catalog answered %d: %s", resp.StatusCode, body)
		})
		d.Router.AddAuthPolicy("/count", core.AllowUnauthenticated)
		return nil
	}))

	mock := testbackend.MockOutbound(t)
	mock.On("GET", "/api/catalog/entities", httpmock.NewStringResponder(http.StatusOK, `[{"kind":"User"}]`))
	tb := testbackend.New(mock.StandIn("catalog")).Start(t, counter)
	fmt.Println(string(tb.Get("/api/counter/count").Do(t).Bytes()))
	mock.AssertAllCalled(t)
	// Output:
	// catalog answered 200: [{"kind":"User"}]
}

// A client for code that takes an *http.Client: the mock answers requests
// to any host, without a server.
func ExampleOutboundMock_Client() {
	t := newExampleT()
	defer t.finish()

	mock := testbackend.MockOutbound(t)
	mock.On("GET", "https://status.example.com/api", httpmock.NewStringResponder(http.StatusOK, "up"))
	resp, err := mock.Client().Get("https://status.example.com/api")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// 200 up
}
