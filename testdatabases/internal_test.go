package testdatabases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestSpecForEveryServerEngine(t *testing.T) {
	want := map[ID]string{
		Postgres13: "postgres:13-alpine", Postgres14: "postgres:14-alpine", Postgres15: "postgres:15-alpine",
		Postgres16: "postgres:16-alpine", Postgres17: "postgres:17-alpine", Postgres18: "postgres:18-alpine",
		MySQL8: "mysql:8.4", MariaDB10: "mariadb:10.11", MariaDB11: "mariadb:11.4",
	}
	for id, image := range want {
		s, err := specFor(id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if s.Image != image {
			t.Errorf("%s image = %s, want %s", id, s.Image, image)
		}
		if s.Name != "greenroom-test-"+string(id) {
			t.Errorf("%s name = %s", id, s.Name)
		}
		if len(s.Tmpfs) != 1 {
			t.Errorf("%s: data directory not on tmpfs: %v", id, s.Tmpfs)
		}
		args := strings.Join(s.Cmd, " ")
		switch id.Dialect() {
		case DialectPostgres:
			if s.Tmpfs["/var/lib/postgresql/data"] == "" || s.Env["PGDATA"] != "/var/lib/postgresql/data" {
				t.Errorf("%s: PGDATA not pinned to the tmpfs: %v %v", id, s.Env, s.Tmpfs)
			}
			for _, a := range []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off"} {
				if !strings.Contains(args, a) {
					t.Errorf("%s: command %q lacks %s", id, args, a)
				}
			}
			if s.Port != "5432/tcp" || !strings.HasPrefix(s.url("h:1"), "postgres://postgres:") {
				t.Errorf("%s: port %s url %s", id, s.Port, s.url("h:1"))
			}
		case DialectMySQL:
			if s.Tmpfs["/var/lib/mysql"] == "" {
				t.Errorf("%s: /var/lib/mysql not on tmpfs", id)
			}
			for _, a := range []string{"--innodb-flush-log-at-trx-commit=0", "--skip-log-bin", "--innodb-doublewrite=0"} {
				if !strings.Contains(args, a) {
					t.Errorf("%s: args %q lack %s", id, args, a)
				}
			}
			if s.Port != "3306/tcp" || !strings.HasPrefix(s.url("h:1"), "mysql://root:") {
				t.Errorf("%s: port %s url %s", id, s.Port, s.url("h:1"))
			}
		}
	}
	if _, err := specFor(SQLite3); err == nil {
		t.Error("sqlite has a container spec")
	}
}

// fakeProvider is a ContainerProvider that answers with hostPort and err.
type fakeProvider struct {
	hostPort string
	err      error
	got      *ContainerSpec
}

func (p fakeProvider) Name() string { return "fake" }

func (p fakeProvider) Start(_ context.Context, spec ContainerSpec) (string, error) {
	if p.got != nil {
		*p.got = spec
	}
	return p.hostPort, p.err
}

// Without a provider, or without a container engine, an engine without a
// connection string is unavailable (a skip), with a message that says what
// to set and, without a provider, which module to import.
func TestContainerlessEngineIsUnavailable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		p    ContainerProvider
		want []string
	}{
		{"no provider", nil, []string{
			"GREENROOM_TEST_DATABASE_POSTGRES17_CONNECTION_STRING",
			"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			"github.com/greenroom-dev/greenroom/testdatabases/containers/testcontainers",
			"github.com/greenroom-dev/greenroom/testdatabases/containers/dockertest",
			"testdatabases.WithContainerProvider(testcontainers.Provider())",
		}},
		{"no engine", fakeProvider{err: fmt.Errorf("%w: fake: no socket", ErrNoContainerEngine)}, []string{
			"no container engine: fake: no socket",
			"GREENROOM_TEST_DATABASE_POSTGRES17_CONNECTION_STRING",
			"start a Docker-compatible container engine",
		}},
	}
	for _, c := range cases {
		_, err := startContainer(context.Background(), Postgres17, c.p)
		var u errUnavailable
		if !asUnavailable(err, &u) {
			t.Fatalf("%s: error %v is not errUnavailable", c.name, err)
		}
		for _, want := range c.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q lacks %q", c.name, err, want)
			}
		}
	}
}

// A provider's other errors are failures, not skips, and name the engine,
// the image and the provider; a started container's URL carries the
// published address.
func TestContainerProviderErrorsAndURL(t *testing.T) {
	t.Parallel()
	_, err := startContainer(context.Background(), MariaDB11, fakeProvider{err: errors.New("pull denied")})
	var u errUnavailable
	if err == nil || asUnavailable(err, &u) {
		t.Fatalf("startContainer = %v, want a failure that is not errUnavailable", err)
	}
	for _, want := range []string{"mariadb11", "mariadb:11.4", "fake", "pull denied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var got ContainerSpec
	url, err := startContainer(context.Background(), Postgres16, fakeProvider{hostPort: l.Addr().String(), got: &got})
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://postgres:greenroom-test@" + l.Addr().String() + "/postgres?sslmode=disable"; url != want {
		t.Errorf("url = %s, want %s", url, want)
	}
	if got.Name != "greenroom-test-postgres16" || got.Image != "postgres:16-alpine" {
		t.Errorf("the provider got %+v", got)
	}
}

func asUnavailable(err error, u *errUnavailable) bool {
	x, ok := err.(errUnavailable)
	if ok {
		*u = x
	}
	return ok
}

func TestMarkerOf(t *testing.T) {
	for name, want := range map[string]string{
		"greenroom_test_0a1b2c3d_deadbeef_7": "0a1b2c3d",
		"greenroom_test_short_x_1":           "",
		"greenroom_tpl_abc_1":                "",
		"other":                              "",
	} {
		if got := markerOf(name); got != want {
			t.Errorf("markerOf(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestParseMySQLURL(t *testing.T) {
	_, cfg, err := parseMySQLURL("mysql://root:pw@127.0.0.1:3307/test?parseTime=true")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "root" || cfg.Passwd != "pw" || cfg.Addr != "127.0.0.1:3307" || !cfg.ParseTime || cfg.DBName != "" || !cfg.MultiStatements {
		t.Errorf("config = %+v", cfg)
	}
	if _, cfg, _ := parseMySQLURL("mysql://root@db/x"); cfg.Addr != "db:3306" || !cfg.ParseTime {
		t.Errorf("default port and parseTime: %s, %v", cfg.Addr, cfg.ParseTime)
	}
	if _, cfg, _ := parseMySQLURL("mysql://root@db/x?parseTime=false"); cfg.ParseTime {
		t.Error("parseTime=false in the connection string was overridden")
	}
	if _, _, err := parseMySQLURL("root@tcp(127.0.0.1)/x"); err == nil || !strings.Contains(err.Error(), "mysql://user:password@host:3306/db") {
		t.Errorf("DSN form accepted or unclear error: %v", err)
	}
	if got := redact("postgres://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Errorf("redact kept the password: %s", got)
	}
}

// TestReapDeadRuns: databases of a run whose lock is free are dropped; those
// of a live run (lock held) are kept.
func TestReapDeadRuns(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		u := serverURL(t, Postgres15)
		ctx := context.Background()
		c, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		live, err := pgx.Connect(ctx, u) // a "live run" holding its lock
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close(ctx)
		if _, err := live.Exec(ctx, "SELECT pg_advisory_lock_shared($1, $2)", pgLockRun, key32("11111111")); err != nil {
			t.Fatal(err)
		}
		dead, alive := "greenroom_test_00000000_00000000_1", "greenroom_test_11111111_00000000_1"
		for _, n := range []string{dead, alive} {
			if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgIdent(n)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec(ctx, "CREATE DATABASE "+pgIdent(n)); err != nil {
				t.Fatal(err)
			}
		}
		defer c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgIdent(alive))
		s, err := newPostgresServer(ctx, Postgres13, u, theManager)
		if err != nil {
			t.Fatal(err)
		}
		defer s.admin.Close(ctx)
		exists := func(n string) bool {
			t.Helper()
			var ok bool
			if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", n).Scan(&ok); err != nil {
				t.Fatalf("does %s exist: %v", n, err)
			}
			return ok
		}
		if exists(dead) {
			t.Error("database of a dead run was not reaped")
		}
		if !exists(alive) {
			t.Error("database of a live run was reaped")
		}
		// The reaper process's work, run in-process: drops the run's databases.
		if _, err := live.Exec(ctx, "SELECT pg_advisory_unlock_all()"); err != nil {
			t.Fatal(err)
		}
		if code := runReaper("11111111", strings.NewReader("server\tpostgres\t"+u+"\n")); code != 0 {
			t.Errorf("reaper exit %d", code)
		}
		if exists(alive) {
			t.Error("reaper left the run's database")
		}
	})
	t.Run("mariadb", func(t *testing.T) {
		u := serverURL(t, MariaDB10)
		ctx := context.Background()
		_, cfg, err := parseMySQLURL(u)
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		live, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		if _, err := live.ExecContext(ctx, "DO GET_LOCK(?, 0)", runLockName("11111111", MySQL8)); err != nil {
			t.Fatal(err)
		}
		dead, alive := "greenroom_test_00000000_00000000_1", "greenroom_test_11111111_00000000_1"
		for _, n := range []string{dead, alive} {
			if _, err := db.Exec("CREATE DATABASE IF NOT EXISTS " + myIdent(n)); err != nil {
				t.Fatal(err)
			}
		}
		defer db.Exec("DROP DATABASE IF EXISTS " + myIdent(alive))
		s, err := newMySQLServer(ctx, MariaDB11, u, theManager) // an ID no other test resolves
		if err != nil {
			t.Fatal(err)
		}
		defer func() { s.admin.Close(); s.adminDB.Close() }()
		exists := func(n string) bool {
			t.Helper()
			var k int
			if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", n).Scan(&k); err != nil {
				t.Fatalf("does %s exist: %v", n, err)
			}
			return k == 1
		}
		if exists(dead) {
			t.Error("database of a dead run was not reaped")
		}
		if !exists(alive) {
			t.Error("database of a live run was reaped")
		}
		if _, err := live.ExecContext(ctx, "DO RELEASE_ALL_LOCKS()"); err != nil {
			t.Fatal(err)
		}
		if code := runReaper("11111111", strings.NewReader("server\tmysql\t"+u+"\n")); code != 0 {
			t.Errorf("reaper exit %d", code)
		}
		if exists(alive) {
			t.Error("reaper left the run's database")
		}
	})
}

func TestReapDeadSQLiteDirs(t *testing.T) {
	base := t.TempDir()
	dead := base + "/greenroom_test_00000000"
	alive := base + "/greenroom_test_11111111"
	for _, d := range []string{dead, alive} {
		os.MkdirAll(d, 0o700)
		os.WriteFile(d+"/lock", nil, 0o600)
	}
	if err := lockDir(alive); err != nil {
		t.Fatal(err)
	}
	reapDeadDirs(base)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Error("directory of a dead run was not removed")
	}
	if _, err := os.Stat(alive); err != nil {
		t.Error("directory of a live run was removed")
	}
}

// TestKeepFailed: a kept database survives with what the test wrote, is
// marked so no reaper drops it, and its connection string is logged.
func TestKeepFailed(t *testing.T) {
	ids := []ID{SQLite3}
	for _, id := range []ID{Postgres15, MariaDB10} {
		if os.Getenv(id.EnvVar()) != "" {
			ids = append(ids, id)
		}
	}
	set := New(t, append([]Option{WithMigrator(SQL(map[Dialect][]string{"": {"CREATE TABLE k (v INTEGER)"}}))}, asOptions(ids)...)...)
	for _, id := range ids {
		for _, iso := range []Isolation{Rollback, Clone} {
			t.Run(string(id)+"/"+iso.String(), func(t *testing.T) {
				testKeepFailed(t, set.With(iso), id)
			})
		}
	}
}

func testKeepFailed(t *testing.T, set *Set, id ID) {
	db, err := set.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO k (v) VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	name := db.Name()
	if l, ok := db.h.l.(*serverLease); ok && id.Dialect() == DialectMySQL && !l.s.shadowed {
		// The row is in a TEMPORARY copy: keeping must move it.
		t.Fatal("MySQL database is not shadowed")
	}
	var logged string
	db.close(true, func(f string, a ...any) { logged = f })
	if !strings.Contains(logged, "kept") {
		t.Fatalf("nothing logged: %q", logged)
	}
	var other *sql.DB
	switch id.Dialect() {
	case DialectSQLite:
		path := filepath.Join(filepath.Dir(filepath.Dir(name)), "greenroom_kept_"+filepath.Base(name))
		t.Cleanup(func() { os.Remove(path) })
		other, err = sql.Open("sqlite", "file:"+path)
	case DialectPostgres:
		t.Cleanup(func() {
			c, err := pgx.Connect(context.Background(), os.Getenv(id.EnvVar()))
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close(context.Background())
			if _, err := c.Exec(context.Background(), "DROP DATABASE "+pgIdent(name)+" WITH (FORCE)"); err != nil {
				t.Error(err)
			}
		})
		u := strings.Replace(os.Getenv(id.EnvVar()), "/postgres?", "/"+name+"?", 1)
		other, err = sql.Open("pgx", u)
	case DialectMySQL:
		_, cfg, _ := parseMySQLURL(os.Getenv(id.EnvVar()))
		t.Cleanup(func() {
			admin, err := sql.Open("mysql", cfg.FormatDSN())
			if err != nil {
				t.Error(err)
				return
			}
			defer admin.Close()
			if _, err := admin.Exec("DROP DATABASE " + myIdent(name)); err != nil {
				t.Error(err)
			}
		})
		c2 := cfg.Clone()
		c2.DBName = name
		other, err = sql.Open("mysql", c2.FormatDSN())
	}
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var v int
	if err := other.QueryRow("SELECT v FROM k").Scan(&v); err != nil || v != 42 {
		t.Errorf("kept database has v=%d (%v), want the test's 42", v, err)
	}
}

func asOptions(ids []ID) []Option {
	out := make([]Option, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
