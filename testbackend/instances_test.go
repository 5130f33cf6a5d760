package testbackend_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/migrate"
	"github.com/greenroom-dev/greenroom/sqlkit"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// notesMigrations create the notes plugin's table, and record in
// migration_runs each time they run: CREATE TABLE without IF NOT EXISTS
// fails if a migration runs twice, and migration_runs counts the runs.
var notesMigrations = fstest.MapFS{
	"00001_create_notes.sql": {Data: []byte(`-- +goose Up
CREATE TABLE notes (title VARCHAR(100) NOT NULL PRIMARY KEY);
`)},
	"00002_count_runs.sql": {Data: []byte(`-- +goose Up
CREATE TABLE migration_runs (n INTEGER NOT NULL);
INSERT INTO migration_runs (n) VALUES (1);
`)},
}

type notesDeps struct {
	Router    core.HTTPRouter
	Database  core.Database
	Lifecycle core.Lifecycle
}

// newNotes returns a plugin that migrates its table in init, adds a note
// at POST /notes and lists them at GET /notes; shutdowns counts the runs
// of its shutdown hook.
func newNotes(shutdowns *atomic.Int32) *backend.Plugin {
	return backend.NewPlugin("notes", backend.Init(func(ctx context.Context, d notesDeps) error {
		if err := migrate.Up(ctx, d.Database, notesMigrations); err != nil {
			return err
		}
		db, err := d.Database.DB(ctx)
		if err != nil {
			return err
		}
		dialect := d.Database.Dialect()
		d.Router.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
			var n struct{ Title string }
			if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
				errs.WriteJSON(w, r, errs.NewInput("the body is not a note: %v", err))
				return
			}
			if _, err := db.ExecContext(r.Context(), sqlkit.Rebind(dialect, "INSERT INTO notes (title) VALUES (?)"), n.Title); err != nil {
				errs.WriteJSON(w, r, err)
				return
			}
			w.WriteHeader(http.StatusCreated)
		})
		d.Router.HandleFunc("GET /notes", func(w http.ResponseWriter, r *http.Request) {
			titles, err := queryStrings(r.Context(), db, "SELECT title FROM notes ORDER BY title")
			if err != nil {
				errs.WriteJSON(w, r, err)
				return
			}
			writeJSON(w, titles)
		})
		d.Lifecycle.AddShutdownHook(func(context.Context) error {
			if shutdowns != nil {
				shutdowns.Add(1)
			}
			return nil
		})
		return nil
	}))
}

func queryStrings(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// pluginDB returns the *sql.DB that the database service of tb gives the
// notes plugin.
func pluginDB(t *testing.T, tb *testbackend.Backend) *sql.DB {
	t.Helper()
	db, err := testbackend.Service(t, tb, core.DatabaseRef, "notes").DB(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestStartInstancesShareOneDatabase runs three instances of a backend on
// one database of each engine: they migrate it once although they start
// together, each has its own server and pool, what one writes the others
// read, and stopping one leaves the others serving.
func TestStartInstancesShareOneDatabase(t *testing.T) {
	t.Parallel()
	testdatabases.New(t).With(testdatabases.Clone).Each(t, func(t *testing.T, db *testdatabases.DB) {
		t.Parallel()
		var shutdowns atomic.Int32
		t.Cleanup(func() { // runs after the instances' stops
			if n := shutdowns.Load(); n != 3 {
				t.Errorf("the plugin's shutdown hook ran %d times, want once per instance (3)", n)
			}
		})
		tbs := testbackend.New(testbackend.WithDatabase(db), testbackend.WithDefaultUser("user:default/alice")).
			StartInstances(t, 3, newNotes(&shutdowns))
		if len(tbs) != 3 {
			t.Fatalf("StartInstances returned %d backends, want 3", len(tbs))
		}

		// Migrated once, by three instances starting together.
		var runs int
		if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM migration_runs").Scan(&runs); err != nil || runs != 1 {
			t.Errorf("migration_runs has %d rows, %v; want 1: the migrations ran more than once", runs, err)
		}

		// Each instance: its own server, its own discovery, its own pool.
		urls := map[string]bool{}
		pools := map[*sql.DB]bool{db.DB: true}
		for i, tb := range tbs {
			u := tb.URL()
			if urls[u] {
				t.Errorf("instance %d serves at %s, as another instance does", i, u)
			}
			urls[u] = true
			base, err := testbackend.Service(t, tb, core.DiscoveryRef, "notes").BaseURL(t.Context(), "notes")
			if err != nil || !strings.HasPrefix(base, u+"/") {
				t.Errorf("instance %d: discovery of notes = %q, %v; want a URL under its own server %s", i, base, err, u)
			}
			p := pluginDB(t, tb)
			if pools[p] {
				t.Errorf("instance %d: the plugin's *sql.DB is another instance's (or the test's); want a pool of its own", i)
			}
			pools[p] = true
		}

		// Written through instance 0, read through 1 and 2 (in-process
		// and over their servers).
		tbs[0].Post("/api/notes/notes", map[string]string{"title": "from 0"}).Do(t).ExpectStatus(t, http.StatusCreated)
		for _, tb := range tbs[1:] {
			tb.Get("/api/notes/notes").Do(t).ExpectStatus(t, http.StatusOK).ExpectJSON(t, []string{"from 0"})
			req := tb.Get(tb.URL() + "/api/notes/notes").AsUser("user:default/alice").Build(t)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET over the server of an instance: %s", resp.Status)
			}
		}

		// Stop instance 0: its requests fail clearly, its pool and server
		// are closed, and instances 1 and 2 keep serving.
		url0, pool0 := tbs[0].URL(), pluginDB(t, tbs[0])
		tbs[0].Stop(t)
		tbs[0].Stop(t) // idempotent, as the stop at the end of the test
		if _, err := tbs[0].Client().Get("/api/notes/notes"); err == nil || !strings.Contains(err.Error(), "test backend was stopped") {
			t.Errorf("a request to the stopped instance: error %v, want one saying the backend was stopped", err)
		}
		if resp, err := http.Get(url0 + "/api/notes/notes"); err == nil {
			resp.Body.Close()
			t.Errorf("the stopped instance's server answered %s; want the connection refused", resp.Status)
		}
		if err := pool0.PingContext(t.Context()); err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("the stopped instance's pool: Ping = %v, want it closed", err)
		}
		if n := shutdowns.Load(); n != 1 {
			t.Errorf("after stopping one instance, the shutdown hook ran %d times, want 1", n)
		}
		tbs[1].Post("/api/notes/notes", map[string]string{"title": "from 1"}).Do(t).ExpectStatus(t, http.StatusCreated)
		tbs[2].Get("/api/notes/notes").Do(t).ExpectStatus(t, http.StatusOK).ExpectJSON(t, []string{"from 0", "from 1"})
	})
}

// TestStartInstancesWithoutDatabase shares a SQLite database of the test.
func TestStartInstancesWithoutDatabase(t *testing.T) {
	t.Parallel()
	tbs := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).StartInstances(t, 2, newNotes(nil))
	if pluginDB(t, tbs[0]) == pluginDB(t, tbs[1]) {
		t.Errorf("the instances share one *sql.DB; want a pool each")
	}
	tbs[1].Post("/api/notes/notes", map[string]string{"title": "shared"}).Do(t).ExpectStatus(t, http.StatusCreated)
	tbs[0].Get("/api/notes/notes").Do(t).ExpectStatus(t, http.StatusOK).ExpectJSON(t, []string{"shared"})
}

// TestStartWithDatabase starts one backend on a test database: a pool of
// its own that sees what the test wrote.
func TestStartWithDatabase(t *testing.T) {
	t.Parallel()
	db := testdatabases.New(t, testdatabases.SQLite3).Init(t, testdatabases.SQLite3)
	tb := testbackend.New(testbackend.WithDatabase(db), testbackend.WithDefaultUser("user:default/alice")).Start(t, newNotes(nil))
	if _, err := db.Exec("INSERT INTO notes (title) VALUES ('by the test')"); err != nil {
		t.Fatal(err)
	}
	tb.Get("/api/notes/notes").Do(t).ExpectStatus(t, http.StatusOK).ExpectJSON(t, []string{"by the test"})
	if pluginDB(t, tb) == db.DB {
		t.Errorf("the plugin uses the test's *sql.DB; want a pool of the backend's own")
	}
}

// TestWithDatabaseRollbackOnServer refuses a Rollback database of a server
// engine, which one session holds, naming the fix.
func TestWithDatabaseRollbackOnServer(t *testing.T) {
	t.Parallel()
	dbs := testdatabases.New(t, testdatabases.Postgres15, testdatabases.MariaDB10)
	for _, id := range dbs.IDs() {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			db := dbs.Init(t, id) // Rollback, the default
			for name, start := range map[string]func() error{
				"StartInstances": func() error {
					_, err := testbackend.New(testbackend.WithDatabase(db)).TryStartInstances(t, 2, newNotes(nil))
					return err
				},
				"Start": func() error {
					_, err := testbackend.New(testbackend.WithDatabase(db)).TryStart(t, newNotes(nil))
					return err
				},
			} {
				err := start()
				var e *errs.Error
				if !errors.As(err, &e) || e.Name != errs.Input || !strings.Contains(err.Error(), "Rollback") || !strings.Contains(err.Error(), ".With(testdatabases.Clone)") {
					t.Errorf("%s with a Rollback %s database: error %v; want an InputError telling to use .With(testdatabases.Clone)", name, id, err)
				}
			}
		})
	}
}

func TestStartInstancesErrors(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, -1} {
		tbs, err := testbackend.TryStartInstances(t, n, newNotes(nil))
		var e *errs.Error
		if tbs != nil || !errors.As(err, &e) || e.Name != errs.Input || !strings.Contains(err.Error(), "at least 1") {
			t.Errorf("TryStartInstances(%d) = %v, %v; want an InputError saying at least 1", n, tbs, err)
		}
	}
	if _, err := testbackend.New(testbackend.WithDatabase(nil)).TryStart(t, newNotes(nil)); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("WithDatabase(nil): error %v, want one saying the database is nil", err)
	}

	// An instance that fails to start: every error, each naming its
	// instance, and nothing left running.
	var shutdowns atomic.Int32
	refusing := backend.NewPlugin("refusing", backend.Init(func(ctx context.Context, d struct{ Lifecycle core.Lifecycle }) error {
		return errors.New("no")
	}))
	tbs, err := testbackend.TryStartInstances(t, 2, newNotes(&shutdowns), refusing)
	if tbs != nil || err == nil || !strings.Contains(err.Error(), "instance 0:") || !strings.Contains(err.Error(), "instance 1:") {
		t.Errorf("TryStartInstances with a refusing plugin = %v, %v; want the error of each instance", tbs, err)
	}
	if n := shutdowns.Load(); n != 2 {
		t.Errorf("after a failed start the notes plugin was shut down %d times, want 2 (once per instance)", n)
	}
}

// TestStartInstancesRealAuth: every instance trusts the user tokens that
// any instance's helpers mint, and mints plugin tokens with its own auth.
func TestStartInstancesRealAuth(t *testing.T) {
	t.Parallel()
	tbs := testbackend.New(testbackend.WithRealAuth()).StartInstances(t, 2, newEcho("echo"))
	for i, from := range tbs {
		for j, to := range tbs {
			req := from.Get("/api/echo/whoami").AsUser("user:default/alice").Build(t)
			resp, err := to.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("a user token minted by instance %d, sent to instance %d: %s, want 200", i, j, resp.Status)
			}
		}
		var who whoami
		from.Get("/api/echo/whoami").AsService("plugin:echo").Do(t).ExpectStatus(t, http.StatusOK).DecodeJSON(t, &who)
		if who.Subject != "plugin:echo" {
			t.Errorf("instance %d: a plugin token's subject %q, want plugin:echo", i, who.Subject)
		}
	}
}
