package testbackend_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// whoami is what the echo plugin answers: the caller's credentials.
type whoami struct {
	Type    core.PrincipalType `json:"type"`
	User    string             `json:"user,omitempty"`
	Subject string             `json:"subject,omitempty"`
	Limited bool               `json:"limited,omitempty"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

type echoDeps struct {
	Router    core.HTTPRouter
	HTTPAuth  core.HTTPAuth
	Auth      core.Auth
	Discovery core.Discovery
	Logger    core.Logger
}

// newEcho returns a plugin that reports who calls it at GET /whoami (and at
// GET /images/whoami, which accepts the auth cookie), answers GET /health
// without credentials, and calls another plugin's /whoami over HTTP at
// GET /call/{plugin}, on behalf of its caller.
func newEcho(id string) *backend.Plugin {
	return backend.NewPlugin(id, backend.Init(func(ctx context.Context, d echoDeps) error {
		who := func(w http.ResponseWriter, r *http.Request) {
			c, err := d.HTTPAuth.Credentials(r, core.PrincipalUser, core.PrincipalService)
			if err != nil {
				errs.WriteJSON(w, r, err)
				return
			}
			d.Logger.Info("whoami", "caller", c.String())
			writeJSON(w, whoami{Type: c.Type(), User: c.Principal.UserEntityRef, Subject: c.Principal.Subject, Limited: c.Limited})
		}
		d.Router.HandleFunc("GET /whoami", who)
		d.Router.HandleFunc("GET /images/whoami", who)
		d.Router.AddAuthPolicy("/images", core.AllowUserCookie)
		d.Router.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, map[string]string{"status": "ok"})
		})
		d.Router.AddAuthPolicy("/health", core.AllowUnauthenticated)
		d.Router.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			writeJSON(w, map[string]string{"contentType": r.Header.Get("Content-Type"), "body": string(body), "x": r.Header.Get("X-Test")})
		})
		d.Router.HandleFunc("GET /call/{plugin}", func(w http.ResponseWriter, r *http.Request) {
			c, err := d.HTTPAuth.Credentials(r, core.PrincipalUser, core.PrincipalService)
			if err != nil {
				errs.WriteJSON(w, r, err)
				return
			}
			target := r.PathValue("plugin")
			base, err := d.Discovery.BaseURL(r.Context(), target)
			if err != nil {
				errs.WriteJSON(w, r, err)
				return
			}
			tok, err := d.Auth.PluginRequestToken(r.Context(), c, target)
			if err != nil {
				errs.WriteJSON(w, r, err)
				return
			}
			req, _ := http.NewRequestWithContext(r.Context(), "GET", base+"/whoami", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs.WriteJSON(w, r, err)
				return
			}
			defer resp.Body.Close()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
		})
		return nil
	}))
}

var echo = newEcho("echo")

// fakeTB is a testing.TB that records failures instead of failing, to
// test what the helpers report. Methods it does not override go to the
// real test's TB (TempDir, Context, Name, Logf, ...). Run code with it
// through record.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	fatal    bool
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Error(args ...any) { f.Errorf("%s", fmt.Sprint(args...)) }

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.mu.Lock()
	f.fatal = true
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) FailNow()          { f.Fatalf("FailNow") }
func (f *fakeTB) Fail()             { f.Errorf("Fail") }

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors) > 0
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// output returns the recorded failures, joined.
func (f *fakeTB) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errors, "\n")
}

// record runs fn with a fakeTB in its own goroutine, as the testing
// package runs a test, so that Fatalf can stop it; then it runs the
// cleanups registered with the fakeTB, last first.
func record(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	t.Helper()
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	f.mu.Lock()
	cleanups := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	done = make(chan struct{})
	go func() { // a cleanup may call Fatalf too
		defer close(done)
		for _, c := range slices.Backward(cleanups) {
			c()
		}
	}()
	<-done
	return f
}
