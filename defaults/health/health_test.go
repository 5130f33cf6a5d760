package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
)

// fakeLifecycle records hooks so a test can run each phase by hand.
type fakeLifecycle struct {
	mu                             sync.Mutex
	startup, beforeShutdown, other []core.Hook
	refuse                         error
}

func (l *fakeLifecycle) AddStartupHook(h core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refuse != nil {
		return l.refuse
	}
	l.startup = append(l.startup, h)
	return nil
}

func (l *fakeLifecycle) AddShutdownHook(h core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.other = append(l.other, h)
	return nil
}

func (l *fakeLifecycle) AddDrainHook(h core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.other = append(l.other, h)
	return nil
}

func (l *fakeLifecycle) AddBeforeShutdownHook(h core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.beforeShutdown = append(l.beforeShutdown, h)
	return nil
}

func run(t *testing.T, hooks []core.Hook) {
	t.Helper()
	for _, h := range hooks {
		if err := h(t.Context()); err != nil {
			t.Fatalf("hook: %v", err)
		}
	}
}

func TestReadinessFollowsRootLifecycle(t *testing.T) {
	notStarted := core.HealthStatus{Status: "error", Message: "Backend has not started yet"}
	ok := core.HealthStatus{Status: "ok"}
	down := core.HealthStatus{Status: "error", Message: "Backend is shutting down"}
	tests := []struct {
		name   string
		phases []string // "startup" or "beforeShutdown", run in order
		want   core.HealthStatus
	}{
		{"before startup", nil, notStarted},
		{"after startup", []string{"startup"}, ok},
		{"after before-shutdown", []string{"startup", "beforeShutdown"}, down},
		{"shutdown before startup finished", []string{"beforeShutdown", "startup"}, down},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc := &fakeLifecycle{}
			h, err := New(lc)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.phases {
				if p == "startup" {
					run(t, lc.startup)
				} else {
					run(t, lc.beforeShutdown)
				}
			}
			if diff := cmp.Diff(tt.want, h.Readiness(t.Context())); diff != "" {
				t.Errorf("Readiness (-want +got):\n%s", diff)
			}
			if got := h.Liveness(t.Context()); !got.OK() {
				t.Errorf("Liveness = %+v, want ok in every phase", got)
			}
		})
	}
}

func TestNewFailsWhenLifecycleRefusesHooks(t *testing.T) {
	refused := errors.New("Attempted to add startup hook after startup")
	_, err := New(&fakeLifecycle{refuse: refused})
	if !errors.Is(err, refused) {
		t.Fatalf("New error = %v, want it to wrap %v", err, refused)
	}
	if !strings.Contains(err.Error(), "root startup hook") {
		t.Errorf("New error = %q, want it to say which hook failed", err)
	}
}

func TestHandler(t *testing.T) {
	type phase int
	const (
		starting phase = iota
		started
		stopping
	)
	tests := []struct {
		name       string
		phase      phase
		method     string
		path       string
		wantStatus int
		wantBody   string // JSON, compared semantically; "" for no body
		wantAllow  string
	}{
		{"liveness before start", starting, "GET", LivenessPath, 200, `{"status":"ok"}`, ""},
		{"readiness before start", starting, "GET", ReadinessPath, 503, `{"status":"error","message":"Backend has not started yet"}`, ""},
		{"readiness started", started, "GET", ReadinessPath, 200, `{"status":"ok"}`, ""},
		{"readiness head", started, "HEAD", ReadinessPath, 200, "", ""},
		{"readiness shutting down", stopping, "GET", ReadinessPath, 503, `{"status":"error","message":"Backend is shutting down"}`, ""},
		{"liveness shutting down", stopping, "GET", LivenessPath, 200, `{"status":"ok"}`, ""},
		{"post", started, "POST", LivenessPath, 405, `{"error":{"name":"MethodNotAllowedError","message":"/.greenroom/health/v1/liveness does not allow POST; use GET"},"request":{"method":"POST","url":"/.greenroom/health/v1/liveness"},"response":{"statusCode":405}}`, "GET, HEAD"},
		{"unknown", started, "GET", "/.greenroom/health/v1/other", 404, `{"error":{"name":"NotFoundError","message":"no health endpoint at /.greenroom/health/v1/other; use /.greenroom/health/v1/liveness or /.greenroom/health/v1/readiness"},"request":{"method":"GET","url":"/.greenroom/health/v1/other"},"response":{"statusCode":404}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc := &fakeLifecycle{}
			h, err := New(lc)
			if err != nil {
				t.Fatal(err)
			}
			if tt.phase >= started {
				run(t, lc.startup)
			}
			if tt.phase >= stopping {
				run(t, lc.beforeShutdown)
			}
			rec := httptest.NewRecorder()
			NewHandler(h).ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", got)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if tt.wantBody == "" {
				if rec.Body.Len() != 0 {
					t.Errorf("body = %q, want none", rec.Body)
				}
				return
			}
			if rec.Code < 400 || rec.Code == http.StatusServiceUnavailable {
				if got := rec.Header().Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control = %q, want no-store", got)
				}
			}
			var got, want any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if err := json.Unmarshal([]byte(tt.wantBody), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

// staticHealth is a core.RootHealth that is not *Health, to show that the
// handler serves any implementation.
type staticHealth struct{ live, ready core.HealthStatus }

func (s staticHealth) Liveness(context.Context) core.HealthStatus  { return s.live }
func (s staticHealth) Readiness(context.Context) core.HealthStatus { return s.ready }

func TestHandlerServesAnyRootHealth(t *testing.T) {
	h := staticHealth{live: core.HealthStatus{Status: "error", Message: "wedged"}, ready: core.HealthStatus{Status: "ok"}}
	rec := httptest.NewRecorder()
	NewHandler(h).ServeHTTP(rec, httptest.NewRequest("GET", LivenessPath, nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "wedged") {
		t.Errorf("got %d %q, want 503 with the liveness message", rec.Code, rec.Body)
	}
}
