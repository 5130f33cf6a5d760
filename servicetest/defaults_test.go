package servicetest_test

// The suites run here against the production services of the defaults
// packages; package mockservices runs them against its fakes, so that a
// fake cannot drift from the real thing.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
	"github.com/greenroom-dev/greenroom/defaults/discovery"
	"github.com/greenroom-dev/greenroom/defaults/events"
	"github.com/greenroom-dev/greenroom/defaults/health"
	"github.com/greenroom-dev/greenroom/defaults/httprouter"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/defaults/scheduler"
	"github.com/greenroom-dev/greenroom/internal/redistest"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/servicetest"
)

func mustConfig(t *testing.T, data map[string]any) *config.Config {
	t.Helper()
	c, err := config.FromMap(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		servicetest.TestConfig(t, func(t *testing.T, data map[string]any) core.Config { return mustConfig(t, data) })
	})
}

func TestLogger(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		servicetest.TestLogger(t, func(t *testing.T) (core.Logger, func() []map[string]any) {
			var buf syncBuffer
			l, err := logger.NewFromConfig(mustConfig(t, map[string]any{
				"backend": map[string]any{"logging": map[string]any{"level": "debug", "format": "json"}},
			}), logger.Writer(&buf))
			if err != nil {
				t.Fatal(err)
			}
			return l, func() []map[string]any { return buf.records(t) }
		})
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent writes, read as JSON
// lines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) records(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("the JSON logger wrote a line that is not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// productionAuthEnv is the auth services of defaults/auth for one
// backend, with a user token issuer whose keys the config trusts.
func productionAuthEnv(t *testing.T) servicetest.AuthEnv {
	issuer, err := auth.NewUserTokenIssuer()
	if err != nil {
		t.Fatal(err)
	}
	var jwks map[string]any
	b, _ := json.Marshal(issuer.JWKS())
	if err := json.Unmarshal(b, &jwks); err != nil {
		t.Fatal(err)
	}
	cfg := mustConfig(t, map[string]any{"backend": map[string]any{"auth": map[string]any{"userTokens": map[string]any{"jwks": jwks}}}})
	k, err := auth.NewKeyring(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	auths := map[string]core.Auth{}
	return servicetest.AuthEnv{
		Auth: func(pluginID string) core.Auth {
			mu.Lock()
			defer mu.Unlock()
			if a, ok := auths[pluginID]; ok {
				return a
			}
			a, err := auth.NewAuth(k, pluginID, mockservices.Discovery(""), nil)
			if err != nil {
				t.Fatal(err)
			}
			auths[pluginID] = a
			return a
		},
		UserToken: func(ref string, ownership ...string) string {
			tok, err := issuer.Issue(ref, ownership, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		},
		HTTPAuth: func(a core.Auth) core.HTTPAuth {
			h, err := auth.NewHTTPAuth(a, "http://localhost:7007/api/a")
			if err != nil {
				t.Fatal(err)
			}
			return h
		},
		UserInfo: auth.NewUserInfo,
	}
}

func TestAuth(t *testing.T) { servicetest.TestAuth(t, productionAuthEnv) }

func TestHTTPAuth(t *testing.T) { servicetest.TestHTTPAuth(t, productionAuthEnv) }

func TestUserInfo(t *testing.T) { servicetest.TestUserInfo(t, productionAuthEnv) }

func TestDiscovery(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		servicetest.TestDiscovery(t, func(t *testing.T) core.Discovery {
			d, err := discovery.New(mustConfig(t, nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		})
	})
	t.Run("defaults with endpoints", func(t *testing.T) {
		servicetest.TestDiscovery(t, func(t *testing.T) core.Discovery {
			d, err := discovery.New(mustConfig(t, map[string]any{"discovery": map[string]any{"endpoints": []any{
				map[string]any{"target": "https://elsewhere.example.com/api/{{pluginId}}", "plugins": []any{"catalog"}},
			}}}), nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		})
	})
}

func TestDatabase(t *testing.T) {
	t.Run("defaults sqlite", func(t *testing.T) {
		servicetest.TestDatabase(t, productionDatabase(map[string]any{}))
	})
	for _, server := range []struct{ name, env, client string }{
		{"defaults postgres", "GREENROOM_TEST_DATABASE_POSTGRES15_CONNECTION_STRING", "postgres"},
		{"defaults mysql", "GREENROOM_TEST_DATABASE_MARIADB10_CONNECTION_STRING", "mysql"},
	} {
		t.Run(server.name, func(t *testing.T) {
			conn := os.Getenv(server.env)
			if conn == "" {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s is not set; CI must test the %s database service", server.env, server.client)
				}
				t.Skipf("set %s to test the %s database service", server.env, server.client)
			}
			// A prefix of its own keeps this run's databases apart from
			// other runs on the same server.
			prefix := fmt.Sprintf("servicetest_%d_", time.Now().UnixNano())
			servicetest.TestDatabase(t, productionDatabase(map[string]any{"client": server.client, "connection": conn, "prefix": prefix}))
		})
	}
}

// productionDatabase returns a constructor of defaults/database databases
// configured by db (backend.database); the databases of one test share a
// manager, as the plugins of one backend do.
func productionDatabase(db map[string]any) func(t *testing.T, pluginID string) core.Database {
	managers := map[*testing.T]*database.Manager{}
	var mu sync.Mutex
	return func(t *testing.T, pluginID string) core.Database {
		mu.Lock()
		defer mu.Unlock()
		m, ok := managers[t]
		if !ok {
			var err error
			m, err = database.NewManager(mustConfig(t, map[string]any{"backend": map[string]any{"database": maps.Clone(db)}}), nil)
			if err != nil {
				t.Fatal(err)
			}
			managers[t] = m
			t.Cleanup(func() {
				if err := m.Close(); err != nil {
					t.Errorf("closing the database manager: %v", err)
				}
				dropPluginDatabases(t, db, []string{"a", "b"})
			})
		}
		d, err := m.ForPlugin(pluginID)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
}

// dropPluginDatabases drops the databases that a server-backed manager
// created for the plugins, so that runs leave nothing behind.
func dropPluginDatabases(t *testing.T, db map[string]any, pluginIDs []string) {
	client, _ := db["client"].(string)
	conn, _ := db["connection"].(string)
	prefix, _ := db["prefix"].(string)
	if client == "" || client == "sqlite" {
		return
	}
	u, err := url.Parse(conn)
	if err != nil {
		t.Errorf("parsing %q: %v", conn, err)
		return
	}
	var dsnDriver, dsn string
	switch client {
	case "postgres":
		dsnDriver, dsn = "pgx", conn
	case "mysql":
		pw, _ := u.User.Password()
		dsnDriver, dsn = "mysql", fmt.Sprintf("%s:%s@tcp(%s)/", u.User.Username(), pw, u.Host)
	}
	admin, err := sqlOpen(dsnDriver, dsn)
	if err != nil {
		t.Errorf("opening %s to drop the test databases: %v", client, err)
		return
	}
	defer admin.Close()
	for _, id := range pluginIDs {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + prefix + id); err != nil {
			t.Logf("dropping %s%s: %v", prefix, id, err)
		}
	}
}

func TestRootHealth(t *testing.T) {
	servicetest.TestRootHealth(t, func(t *testing.T, lc core.RootLifecycle) core.RootHealth {
		h, err := health.New(lc)
		if err != nil {
			t.Fatal(err)
		}
		return h
	})
}

func TestLifecycle(t *testing.T) {
	t.Run("backend engine", func(t *testing.T) {
		servicetest.TestLifecycle(t, func(t *testing.T, init func(core.Lifecycle)) (start, stop func(context.Context) error) {
			b := backend.New(backend.WithDefaults(mockservices.DefaultFactories(t)...))
			err := b.Add(backend.NewPlugin("p", backend.Init(func(ctx context.Context, d struct{ Lifecycle core.Lifecycle }) error {
				init(d.Lifecycle)
				return nil
			})))
			if err != nil {
				t.Fatal(err)
			}
			return b.Start, b.Stop
		})
	})
}

// routerEnv builds the production plugin router over the auth services of
// env, mounted on the production root router.
func routerEnv(env func(t *testing.T) servicetest.AuthEnv) func(t *testing.T, setup func(core.HTTPRouter)) servicetest.RouterEnv {
	return func(t *testing.T, setup func(core.HTTPRouter)) servicetest.RouterEnv {
		ctx := context.Background()
		e := env(t)
		a := e.Auth("todo")
		lc := mockservices.Lifecycle()
		rt, err := httprouter.New(httprouter.Options{PluginID: "todo", Auth: a, HTTPAuth: e.HTTPAuth(a), Lifecycle: lc})
		if err != nil {
			t.Fatal(err)
		}
		setup(rt)
		root := httprouter.NewRoot(httprouter.RootOptions{})
		if err := root.Use(rt.MountPath(), rt); err != nil {
			t.Fatal(err)
		}
		if err := lc.RunStartupHooks(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = lc.RunShutdownHooks(ctx) })
		user, err := a.Authenticate(ctx, e.UserToken("user:default/alice"))
		if err != nil {
			t.Fatal(err)
		}
		limited, _, err := a.LimitedUserToken(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		return servicetest.RouterEnv{
			Handler:    root.Handler(),
			MountPath:  rt.MountPath(),
			UserHeader: "Bearer " + e.UserToken("user:default/alice"),
			UserCookie: &http.Cookie{Name: auth.CookieName, Value: limited},
		}
	}
}

func TestHTTPRouter(t *testing.T) {
	servicetest.TestHTTPRouter(t, routerEnv(productionAuthEnv))
}

// sqlOpen opens an admin connection; defaults/database registers the
// pgx and mysql drivers.
var sqlOpen = sql.Open

func TestScheduler(t *testing.T) {
	t.Parallel()
	servicetest.TestScheduler(t, productionScheduler)
}

// productionScheduler is a defaults/scheduler scheduler on a SQLite
// database of its own, stopped when the test ends.
func productionScheduler(t testing.TB) core.Scheduler {
	db := mockservices.Database(t)
	sqlDB, err := db.DB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := scheduler.New(context.Background(), scheduler.Options{DB: sqlDB, Dialect: db.Dialect(), PluginID: "servicetest",
		LeaseDuration: time.Second, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutting the scheduler down: %v", err)
		}
	})
	return s
}

func TestEvents(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		servicetest.TestEvents(t, func(t *testing.T) servicetest.EventsEnv { return productionEvents(t, events.Options{}) })
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		url := redistest.URL(t)
		servicetest.TestEvents(t, func(t *testing.T) servicetest.EventsEnv {
			return productionEvents(t, events.Options{Redis: &events.RedisOptions{URL: url, KeyPrefix: redistest.Prefix(t, url), Block: 100 * time.Millisecond}})
		})
	})
}

// productionEvents is a defaults/events bus with opts, closed when the
// test ends.
func productionEvents(t *testing.T, opts events.Options) servicetest.EventsEnv {
	opts.Logger = mockservices.Logger(t)
	b, err := events.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Errorf("closing the events bus: %v", err)
		}
	})
	return servicetest.EventsEnv{ForPlugin: func(id string) core.Events { return b.ForPlugin(id, nil) }}
}
