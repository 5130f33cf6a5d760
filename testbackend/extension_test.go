package testbackend_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testbackend/internal/extension"
)

// events records what happened, in order, across goroutines.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

// recordingExtension is an extension.Extension that records its calls.
type recordingExtension struct {
	name       string
	ev         *events
	addErr     error
	startedErr error
}

func (x *recordingExtension) Add(added []extension.Extension) error {
	var names []string
	for _, a := range added {
		names = append(names, a.(*recordingExtension).name)
	}
	x.ev.add(x.name + " added after [" + strings.Join(names, " ") + "]")
	return x.addErr
}

func (x *recordingExtension) Attach(t testing.TB) extension.Instance {
	x.ev.add(x.name + " attached")
	t.Cleanup(func() { x.ev.add(x.name + " cleanup") })
	return &recordingInstance{x: x}
}

type recordingInstance struct{ x *recordingExtension }

func (i *recordingInstance) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i.x.ev.add(i.x.name + " saw " + r.Method + " " + r.URL.Path)
		h.ServeHTTP(w, r)
	})
}

func (i *recordingInstance) Started(b *backend.Backend) error {
	i.x.ev.add(i.x.name + " started with " + strings.Join(b.PluginIDs(), " "))
	return i.x.startedErr
}

// newStopRecorder returns a plugin "stopper" that records its shutdown.
func newStopRecorder(ev *events) *backend.Plugin {
	return backend.NewPlugin("stopper", backend.Init(func(ctx context.Context, d struct{ Lifecycle core.Lifecycle }) error {
		return d.Lifecycle.AddShutdownHook(func(context.Context) error {
			ev.add("stopper stopped")
			return nil
		})
	}))
}

func extensionOption(x *recordingExtension) testbackend.Option {
	return extension.Option(x).(testbackend.Option)
}

// The hook of the opt-in packages: extensions are added in the order of
// the options, attached to the backend before it starts, told once it
// started, wrap every request (in-process and over the listener), and
// their cleanups run after the backend stopped.
func TestExtensionHook(t *testing.T) {
	t.Parallel()
	ev := &events{}
	f := record(t, func(ft testing.TB) {
		tb := testbackend.New(
			extensionOption(&recordingExtension{name: "a", ev: ev}),
			extensionOption(&recordingExtension{name: "b", ev: ev}),
		).Start(ft, echo, newStopRecorder(ev))
		tb.Get("/api/echo/health").Do(ft).ExpectStatus(ft, http.StatusOK)
		resp, err := http.Get(tb.URL() + "/api/echo/health")
		if err != nil {
			ft.Fatal(err)
		}
		resp.Body.Close()
	})
	if got := f.output(); got != "" {
		t.Fatalf("the test failed:\n%s", got)
	}
	want := []string{
		"a added after []",
		"b added after [a]",
		"a attached",
		"b attached",
		"a started with echo stopper",
		"b started with echo stopper",
		// b wraps a's handler: b sees a request first.
		"b saw GET /api/echo/health",
		"a saw GET /api/echo/health",
		"b saw GET /api/echo/health",
		"a saw GET /api/echo/health",
		"stopper stopped",
		"b cleanup",
		"a cleanup",
	}
	if got := ev.get(); !slices.Equal(got, want) {
		t.Errorf("events:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// An extension's errors fail the start: Add's before anything is built,
// Started's after the backend started, which is then stopped.
func TestExtensionHookErrors(t *testing.T) {
	t.Parallel()
	t.Run("Add", func(t *testing.T) {
		t.Parallel()
		ev := &events{}
		_, err := testbackend.New(extensionOption(&recordingExtension{name: "a", ev: ev, addErr: errors.New("a refuses")})).TryStart(t, newStopRecorder(ev))
		if err == nil || !strings.Contains(err.Error(), "a refuses") {
			t.Errorf("TryStart error %v, want a refuses", err)
		}
		if got, want := ev.get(), []string{"a added after []"}; !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
	})
	t.Run("Started", func(t *testing.T) {
		t.Parallel()
		ev := &events{}
		_, err := testbackend.New(extensionOption(&recordingExtension{name: "a", ev: ev, startedErr: errors.New("a cannot start")})).TryStart(t, newStopRecorder(ev))
		if err == nil || !strings.Contains(err.Error(), "a cannot start") {
			t.Errorf("TryStart error %v, want a cannot start", err)
		}
		want := []string{"a added after []", "a attached", "a started with stopper", "stopper stopped"}
		if got := ev.get(); !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
	})
}
