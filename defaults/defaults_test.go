package defaults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults"
	"github.com/greenroom-dev/greenroom/httpjson"
	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// builtIn are the core services the engine provides itself.
var builtIn = []string{"core.pluginMetadata", "core.lifecycle", "core.rootLifecycle", "core.rootInstanceMetadata"}

// pluggable are the multiton core services with no default: users add
// their own factories (the URL reader's providers).
var pluggable = []string{"core.urlReaderProviders"}

func TestFactoriesCoverEveryReplaceableCoreService(t *testing.T) {
	var got []string
	for _, f := range defaults.Factories() {
		got = append(got, f.Ref().ID())
	}
	var want []string
	for _, d := range refindex.Default.All() {
		if strings.HasPrefix(d.ID, "core.") && !slices.Contains(builtIn, d.ID) && !slices.Contains(pluggable, d.ID) {
			want = append(want, d.ID)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Factories() provide %v, want one for each of %v", got, want)
	}
}

// hello is a plugin with one open and one protected route.
var hello = backend.NewPlugin("hello", backend.Init(func(ctx context.Context, d struct {
	Router core.HTTPRouter
	Config core.RootConfig
}) error {
	greeting, err := d.Config.String("hello.greeting")
	if err != nil {
		return err
	}
	d.Router.Handle("GET /greeting", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
		return httpjson.Write(w, http.StatusOK, map[string]string{"greeting": greeting})
	}))
	d.Router.Handle("GET /secret", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
		return httpjson.Write(w, http.StatusOK, map[string]string{"secret": "x"})
	}))
	d.Router.AddAuthPolicy("/greeting", core.AllowUnauthenticated)
	return nil
}))

func TestNewServesPluginsSecureByDefault(t *testing.T) {
	var logs bytes.Buffer
	b := defaults.New(
		defaults.ConfigYAML("built-in", "hello:\n  greeting: ${GREETING}\nbackend:\n  listen:\n    port: 7007\n"),
		defaults.Env([]string{"GREETING=hi", "GREENROOM_CONFIG_backend_listen_port=0", "GREENROOM_CONFIG_backend_listen_host=127.0.0.1"}),
		defaults.LogOutput(&logs),
	)
	if err := b.Add(hello); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	disc, err := backend.Resolve(ctx, b, core.DiscoveryRef, "hello")
	if err != nil {
		t.Fatal(err)
	}
	base, err := disc.BaseURL(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, map[string]any) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, body
	}
	if code, body := get("/greeting"); code != 200 || body["greeting"] != "hi" {
		t.Errorf("GET /greeting = %d %v, want 200 with the substituted greeting", code, body)
	}
	if code, body := get("/secret"); code != 401 {
		t.Errorf("GET /secret without credentials = %d %v, want 401", code, body)
	}
	if !strings.Contains(logs.String(), "Listening on") {
		t.Errorf("the root logger did not write to LogOutput: %q", logs.String())
	}
}

func TestNewReportsConfigErrors(t *testing.T) {
	b := defaults.New(defaults.ConfigFiles("/no/such/app-config.yaml"), defaults.Env(nil), defaults.LogOutput(&bytes.Buffer{}))
	err := b.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "/no/such/app-config.yaml") {
		t.Fatalf("Start = %v, want an error naming the missing config file", err)
	}
	_ = b.Stop(context.Background())
}
