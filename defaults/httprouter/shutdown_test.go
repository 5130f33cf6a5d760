package httprouter_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
	"github.com/greenroom-dev/greenroom/defaults/discovery"
	"github.com/greenroom-dev/greenroom/defaults/health"
	"github.com/greenroom-dev/greenroom/defaults/httprouter"
	"github.com/greenroom-dev/greenroom/defaults/logger"
)

// pool stands for a root service that closes on shutdown, such as the
// database pools.
type pool struct {
	mu     sync.Mutex
	closed bool
}

func (p *pool) Close(context.Context) error { p.mu.Lock(); p.closed = true; p.mu.Unlock(); return nil }
func (p *pool) Closed() bool                { p.mu.Lock(); defer p.mu.Unlock(); return p.closed }

var poolRef = core.NewServiceRef[*pool]("test.pool", core.WithScope(core.RootScope))

// slowTodo is a backend with the production root router on a free port
// and a "pool" created after the router, as the database manager is.
// POST /api/todo/todos signals entered, waits for release, then answers
// 201, or 500 if the pool has closed under it.
type slowTodo struct {
	b                 *backend.Backend
	base              string
	entered, release  chan struct{}
	readiness, listen string
}

func startSlowTodo(t *testing.T, env ...string) *slowTodo {
	t.Helper()
	s := &slowTodo{entered: make(chan struct{}, 1), release: make(chan struct{})}
	poolFactory := backend.NewRootServiceFactory(poolRef, func(_ context.Context, d struct {
		Lifecycle core.RootLifecycle
		Router    core.RootHTTPRouter // created after the router
	}) (*pool, error) {
		p := &pool{}
		return p, d.Lifecycle.AddShutdownHook(p.Close)
	})
	s.b = backend.New(backend.WithDefaults(
		config.Factory(config.Env(append([]string{
			"GREENROOM_CONFIG_backend_listen_host=127.0.0.1",
			"GREENROOM_CONFIG_backend_listen_port=0",
		}, env...))),
		logger.RootFactory(logger.Writer(&syncBuffer{})),
		logger.Factory(),
		health.Factory(),
		httprouter.RootFactory(),
		httprouter.Factory(),
		auth.AuthFactory(),
		auth.HTTPAuthFactory(),
		database.Factory(),
		discovery.Factory(),
		poolFactory,
	))
	todo := backend.NewPlugin("todo", backend.Init(func(_ context.Context, d struct {
		Router core.HTTPRouter
		Pool   *pool
	}) error {
		d.Router.AddAuthPolicy("/", core.AllowUnauthenticated)
		d.Router.HandleFunc("POST /todos", func(w http.ResponseWriter, r *http.Request) {
			s.entered <- struct{}{}
			<-s.release
			if d.Pool.Closed() {
				http.Error(w, "sql: database is closed", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusCreated)
		})
		d.Router.HandleFunc("GET /todos", func(w http.ResponseWriter, r *http.Request) {})
		return nil
	}))
	if err := s.b.Add(todo); err != nil {
		t.Fatal(err)
	}
	if err := s.b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.b.Stop(context.Background()) })
	root, err := backend.Resolve(t.Context(), s.b, core.RootHTTPRouterRef, "")
	if err != nil {
		t.Fatal(err)
	}
	s.listen = root.(*httprouter.Root).Addr().String()
	s.base = "http://" + s.listen
	return s
}

// waitUntil polls cond until it holds; the deadline only bounds a hang.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// TestRequestInFlightDuringStopCompletes: a request in flight when Stop
// begins completes with its normal status, before the root services it
// uses close. The handler is released only once the server has stopped
// accepting connections, which, when the server is shut down as the last
// root shutdown hook, is after the pool (created later, so shut down
// earlier) has closed.
func TestRequestInFlightDuringStopCompletes(t *testing.T) {
	t.Parallel()
	s := startSlowTodo(t)
	status := make(chan int, 1)
	go func() {
		resp, err := http.Post(s.base+"/api/todo/todos", "application/json", strings.NewReader(`{"title":"x"}`))
		if err != nil {
			t.Error(err)
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	<-s.entered
	stopped := make(chan error, 1)
	go func() { stopped <- s.b.Stop(context.Background()) }()
	waitUntil(t, "the server refuses new connections", func() bool {
		c, err := net.Dial("tcp", s.listen)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(s.release)
	if got := <-status; got != http.StatusCreated {
		t.Errorf("the request in flight during Stop got %d, want 201", got)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Stop() = %v", err)
	}
}

// TestRequestsDuringShutdownDelayAreServed: once readiness is down, the
// server keeps serving for backend.lifecycle.serverShutdownDelay, so that
// load balancers can stop sending requests before it stops accepting.
func TestRequestsDuringShutdownDelayAreServed(t *testing.T) {
	t.Parallel()
	s := startSlowTodo(t, "GREENROOM_CONFIG_backend_lifecycle_serverShutdownDelay=1h")
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- s.b.Stop(ctx) }()
	c := &http.Client{}
	defer c.CloseIdleConnections()
	waitUntil(t, "readiness goes down", func() bool {
		resp, err := c.Get(s.base + health.ReadinessPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	resp, err := c.Get(s.base + "/api/todo/todos")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a request during the delay got %d, want 200", resp.StatusCode)
	}
	cancel() // end the delay
	if err := <-stopped; err != nil && !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("Stop() = %v", err)
	}
}
