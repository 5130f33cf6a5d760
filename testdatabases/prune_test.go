package testdatabases

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestParseTemplateNames(t *testing.T) {
	got := parseTemplateNames([]string{
		"greenroom_tpl_aaaa_100",
		"greenroom_tpl_bbbb_300",
		"greenroom_tpl_cccc_200",
		"greenroom_tpl_0000_300",
		"greenroom_tpl_x_y_1", // stray names are ignored, not fatal
		"greenroom_tpl_dddd_soon",
		"greenroom_tpl__5",
	})
	var names []string
	for _, n := range got {
		names = append(names, n.name)
	}
	want := []string{"greenroom_tpl_0000_300", "greenroom_tpl_bbbb_300", "greenroom_tpl_cccc_200", "greenroom_tpl_aaaa_100"}
	if !slices.Equal(names, want) {
		t.Errorf("parseTemplateNames = %v, want %v", names, want)
	}
	if got[0].hash != "0000" || got[0].created != 300 {
		t.Errorf("first = %+v", got[0])
	}
}

func TestBeyondBound(t *testing.T) {
	names := []string{
		"greenroom_tpl_a_5", "greenroom_tpl_b_5", "greenroom_tpl_c_5",
		"greenroom_tpl_d_5", "greenroom_tpl_e_5", "greenroom_tpl_f_4",
	}
	drop := func(keep string) []string {
		var out []string
		for _, tp := range beyondBound(names, keep) {
			out = append(out, tp.name)
		}
		return out
	}
	// Same second: the one just built counts as the newest, so the bound
	// holds and it is never dropped.
	if got, want := drop("greenroom_tpl_e_5"), []string{"greenroom_tpl_d_5", "greenroom_tpl_f_4"}; !slices.Equal(got, want) {
		t.Errorf("keep e: drop %v, want %v", got, want)
	}
	if got, want := drop("greenroom_tpl_f_4"), []string{"greenroom_tpl_d_5", "greenroom_tpl_e_5"}; !slices.Equal(got, want) {
		t.Errorf("keep f: drop %v, want %v", got, want)
	}
	if got := beyondBound(names[:maxTemplates], "x"); got != nil {
		t.Errorf("within the bound: drop %v", got)
	}
}

// simulatedRun is a run of its own (its own marker and run lock) inside
// this process, without a reaper child: it stands for a test binary that
// builds a template and exits.
func simulatedRun() *manager {
	return &manager{engines: map[ID]*engineEntry{}, reaper: &reaperClient{w: nopWriteCloser{io.Discard}}}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// syncBuffer collects warnings; the servers write them from one goroutine
// at a time, the test reads them at the end.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func nonce(t *testing.T) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// serverURL returns the connection string of a server engine, or skips t
// (fails it under CI=true) naming the variable.
func serverURL(t *testing.T, id ID) string {
	t.Helper()
	u := os.Getenv(id.EnvVar())
	if u == "" {
		unavailable(t, id, fmt.Errorf("set %s to run this test", id.EnvVar()))
	}
	return u
}

// distinctMigrators returns n migrators whose hashes no other run has used.
func distinctMigrators(t *testing.T, n int) (migs []Migrator, hashes []string) {
	t.Helper()
	tag := nonce(t)
	for i := range n {
		m := SQL(map[Dialect][]string{"": {fmt.Sprintf("CREATE TABLE bounded_%s_%d (x INTEGER)", tag, i)}})
		h, err := migrationHash(m)
		if err != nil {
			t.Fatal(err)
		}
		migs, hashes = append(migs, m), append(hashes, h)
	}
	return migs, hashes
}

// Six runs, each building the template of a migration hash of its own,
// leave at most maxTemplates templates on the server besides those live
// runs use (this process and any other test binary running now). On
// PostgreSQL the old code never dropped one: DROP DATABASE fails on a
// database marked IS_TEMPLATE, and the error was ignored.
func TestTemplatesAreBounded(t *testing.T) {
	t.Parallel()
	t.Run("postgres15", func(t *testing.T) {
		t.Parallel()
		u := serverURL(t, Postgres15)
		ctx := context.Background()
		migs, hashes := distinctMigrators(t, 6)
		t.Cleanup(func() { dropPGTemplates(t, u, hashes) })
		var warn syncBuffer
		for i, m := range migs {
			s, err := newPostgresServer(ctx, Postgres15, u, simulatedRun())
			if err != nil {
				t.Fatal(err)
			}
			s.warn = &warn
			_, err = s.template(ctx, hashes[i], m)
			s.admin.Close(ctx) // the run ends
			if err != nil {
				t.Fatalf("building template %d: %v", i, err)
			}
		}
		if w := warn.String(); w != "" {
			t.Errorf("pruning reported failures:\n%s", w)
		}
		total, inUse := pgTemplateCount(t, u)
		if total-len(inUse) > maxTemplates {
			t.Errorf("%d templates on the server, %d of them in use by live runs (%v): more than %d unused ones are kept",
				total, len(inUse), inUse, maxTemplates)
		}
	})
	t.Run("mariadb10", func(t *testing.T) {
		t.Parallel()
		u := serverURL(t, MariaDB10)
		ctx := context.Background()
		migs, hashes := distinctMigrators(t, 6)
		t.Cleanup(func() { dropMySQLTemplates(t, u, hashes) })
		var markers []string // of the runs, whose use markers stay
		t.Cleanup(func() { dropMySQLRuns(t, u, markers) })
		var warn syncBuffer
		for i, m := range migs {
			s, err := newMySQLServer(ctx, MariaDB10, u, simulatedRun())
			if err != nil {
				t.Fatal(err)
			}
			markers = append(markers, s.marker)
			s.warn = &warn
			_, err = s.template(ctx, hashes[i], m)
			s.admin.Close() // the run ends
			s.adminDB.Close()
			if err != nil {
				t.Fatalf("building template %d: %v", i, err)
			}
		}
		if w := warn.String(); w != "" {
			t.Errorf("pruning reported failures:\n%s", w)
		}
		total, inUse := mysqlTemplateCount(t, u)
		if total-len(inUse) > maxTemplates {
			t.Errorf("%d templates on the server, %d of them in use by live runs (%v): more than %d unused ones are kept",
				total, len(inUse), inUse, maxTemplates)
		}
	})
}

// pgTemplateCount counts the templates on a PostgreSQL server and lists
// those whose use lock a live run holds.
func pgTemplateCount(t *testing.T, u string) (total int, inUse []string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'greenroom\_tpl\_%'`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	rows, err = c.Query(ctx, `SELECT objid::int8 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid = $1::int8::oid`, pgLockTplUse)
	if err != nil {
		t.Fatal(err)
	}
	held, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range parseTemplateNames(names) {
		total++
		if slices.Contains(held, int64(uint32(key32(tp.hash)))) {
			inUse = append(inUse, tp.name)
		}
	}
	return total, inUse
}

// mysqlTemplateCount counts the templates on a MySQL server and lists
// those a live run has clones of.
func mysqlTemplateCount(t *testing.T, u string) (total int, inUse []string) {
	t.Helper()
	ctx := context.Background()
	s, err := newMySQLServer(ctx, MariaDB10, u, simulatedRun())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.admin.Close(); s.adminDB.Close() }()
	tpls, err := s.schemas(ctx, s.admin, `greenroom\_tpl\_%`)
	if err != nil {
		t.Fatal(err)
	}
	clones, err := s.schemas(ctx, s.admin, `greenroom\_test\_%`)
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]bool{}
	for _, cl := range clones {
		p := strings.Split(strings.TrimPrefix(cl, "greenroom_test_"), "_")
		if len(p) >= 2 && s.isLive(ctx, s.admin, p[0]) {
			live[p[1]] = true
		}
	}
	for _, tp := range parseTemplateNames(tpls) {
		total++
		if live[tp.hash[:8]] {
			inUse = append(inUse, tp.name)
		}
	}
	return total, inUse
}

// dropPGTemplates drops what is left of the test's templates.
func dropPGTemplates(t *testing.T, u string, hashes []string) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close(ctx)
	for _, h := range hashes {
		rows, err := c.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, "greenroom_tpl_"+h+"_")
		if err != nil {
			t.Error(err)
			return
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Error(err)
			return
		}
		for _, n := range names {
			if err := pgDropTemplate(ctx, c, n); err != nil {
				t.Error(err)
			}
		}
	}
}

// dropMySQLTemplates drops what is left of the test's templates.
func dropMySQLTemplates(t *testing.T, u string, hashes []string) {
	_, cfg, err := parseMySQLURL(u)
	if err != nil {
		t.Error(err)
		return
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Error(err)
		return
	}
	defer db.Close()
	for _, h := range hashes {
		rows, err := db.Query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?", `greenroom\_tpl\_`+h+`\_%`)
		if err != nil {
			t.Error(err)
			return
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Error(err)
			}
			names = append(names, n)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			t.Error(err)
		}
		for _, n := range names {
			if _, err := db.Exec("DROP DATABASE IF EXISTS " + myIdent(n)); err != nil {
				t.Error(err)
			}
		}
	}
}

// A template that cannot be dropped is reported with its name (the old code
// ignored the error). The run connects as a role that may create databases
// but does not own the template, so PostgreSQL refuses to unmark it. The
// template's name is not of the template form, so that no other run prunes
// it first.
func TestTemplateDropFailureIsReported(t *testing.T) {
	t.Parallel()
	u := serverURL(t, Postgres15)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	tag := nonce(t)
	owner, runner := "greenroom_prune_owner_"+tag, "greenroom_prune_runner_"+tag
	foreign := "greenroom_prune_tpl_" + tag
	t.Cleanup(func() {
		defer admin.Close(ctx)
		if err := pgDropTemplate(ctx, admin, foreign); err != nil {
			t.Error(err)
		}
		for _, r := range []string{runner, owner} {
			if _, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+pgIdent(r)); err != nil {
				t.Error(err)
			}
		}
	})
	for _, q := range []string{
		"CREATE ROLE " + pgIdent(owner) + " NOLOGIN",
		"CREATE ROLE " + pgIdent(runner) + " LOGIN CREATEDB",
		"CREATE DATABASE " + pgIdent(foreign) + " OWNER " + pgIdent(owner),
		"ALTER DATABASE " + pgIdent(foreign) + " IS_TEMPLATE true",
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ru, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	ru.User = url.User(runner)
	s, err := newPostgresServer(ctx, Postgres15, ru.String(), simulatedRun())
	if err != nil {
		t.Fatalf("connecting as %s (the server must accept it as it accepts %s): %v", runner, redact(u), err)
	}
	defer s.admin.Close(ctx)
	var warn syncBuffer
	s.warn = &warn
	s.dropUnused(ctx, s.admin, templateName{name: foreign, hash: tag})
	w := warn.String()
	for _, want := range []string{foreign, "unmarking template", "must be owner", "drop it by hand"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning lacks %q:\n%s", want, w)
		}
	}
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", foreign).Scan(&exists); err != nil || !exists {
		t.Errorf("template %s: exists=%v (%v), want it kept after the failed drop", foreign, exists, err)
	}
}

// A MySQL template that a live run has found, but not yet cloned (it has
// no per-test database yet, as between finding the template and its
// first CREATE DATABASE, or while its pool is empty), is not dropped by
// another run that prunes templates beyond the bound. The template is made
// old by hand, so that it is beyond the bound whatever the other
// templates on the server.
func TestTemplateInUseWithoutClonesIsKept(t *testing.T) {
	t.Parallel()
	u := serverURL(t, MariaDB10)
	ctx := context.Background()
	migs, hashes := distinctMigrators(t, 1+maxTemplates)
	t.Cleanup(func() { dropMySQLTemplates(t, u, hashes) })
	var markers []string
	t.Cleanup(func() { dropMySQLRuns(t, u, markers) })

	// The old template of the live run's migrations.
	old := fmt.Sprintf("greenroom_tpl_%s_%d", hashes[0], 1000)
	table := strings.Fields(migs[0].(sqlMigrator)[""][0])[2] // CREATE TABLE <table> (...)
	live, err := newMySQLServer(ctx, MariaDB10, u, simulatedRun())
	if err != nil {
		t.Fatal(err)
	}
	markers = append(markers, live.marker)
	defer func() { live.admin.Close(); live.adminDB.Close() }()
	for _, q := range []string{
		"CREATE DATABASE " + myIdent(old),
		"CREATE TABLE " + myIdent(old) + "." + myIdent(table) + " (x INTEGER)",
		"CREATE TABLE " + myIdent(old) + "." + myIdent(completeTable) + " (id int)",
	} {
		if _, err := live.admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	tp, err := live.template(ctx, hashes[0], migs[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := tp.(*myTemplate).name; got != old {
		t.Fatalf("the live run uses template %s, want the old one %s", got, old)
	}

	// Other runs build templates of their own and prune.
	var warn syncBuffer
	for i := 1; i < len(migs); i++ {
		s, err := newMySQLServer(ctx, MariaDB10, u, simulatedRun())
		if err != nil {
			t.Fatal(err)
		}
		markers = append(markers, s.marker)
		s.warn = &warn
		_, err = s.template(ctx, hashes[i], migs[i])
		s.admin.Close()
		s.adminDB.Close()
		if err != nil {
			t.Fatalf("building template %d: %v", i, err)
		}
	}
	if w := warn.String(); w != "" {
		t.Errorf("pruning reported failures:\n%s", w)
	}
	tpls, err := live.schemas(ctx, live.admin, `greenroom\_tpl\_%`)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tpls, old) {
		t.Fatalf("the template %s of a live run was dropped by another run's pruning", old)
	}
	// And the live run can clone it.
	sl, err := live.create(ctx, tp, fmt.Sprintf("greenroom_test_%s_%s_1", live.marker, hashes[0][:8]))
	if err != nil {
		t.Fatalf("cloning the live run's template: %v", err)
	}
	live.drop(ctx, sl)
}

// dropMySQLRuns drops the databases that simulated runs left.
func dropMySQLRuns(t *testing.T, u string, markers []string) {
	_, cfg, err := parseMySQLURL(u)
	if err != nil {
		t.Error(err)
		return
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Error(err)
		return
	}
	defer db.Close()
	for _, m := range markers {
		rows, err := db.Query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?", `greenroom\_test\_`+m+`\_%`)
		if err != nil {
			t.Error(err)
			return
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Error(err)
			}
			names = append(names, n)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			t.Error(err)
		}
		for _, n := range names {
			if _, err := db.Exec("DROP DATABASE IF EXISTS " + myIdent(n)); err != nil {
				t.Error(err)
			}
		}
	}
}
