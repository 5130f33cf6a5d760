package testdatabases

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/greenroom-dev/greenroom/testdatabases/internal/txmux"
)

// Advisory lock namespaces (first key of the two-key form).
const (
	pgLockRun      = 0x67726e01 // held by a live run: (ns, hash(marker))
	pgLockTemplate = 0x67726e02 // held while building a template: (ns, hash(hash))
	pgLockTplUse   = 0x67726e03 // shared by every run using a template
)

// maxTemplates bounds templates kept on a server across runs.
const maxTemplates = 4

type pgServer struct {
	id      ID
	rawURL  *url.URL
	cfg     *pgx.ConnConfig
	major   int
	adminMu sync.Mutex
	admin   *pgx.Conn
	marker  string
	used    map[string]bool // template hashes this process uses
	warn    io.Writer       // where housekeeping failures are reported
	clones  cloneAdmin      // sessions that make and drop Clone databases
}

type pgTemplate struct {
	h    string
	name string
	// sequences and their pristine state, read from the first clone.
	seqOnce  sync.Once
	seqReset string // SQL that resets moved sequences, "" if none
	seqErr   error
}

func (t *pgTemplate) hash() string { return t.h }

func newPostgresServer(ctx context.Context, id ID, raw string, m *manager) (*pgServer, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("connection string must look like postgres://user:password@host:5432/postgres?sslmode=disable (got %q): %v", redact(raw), err)
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing connection string %q: %w", redact(raw), err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	cfg.RuntimeParams["application_name"] = "greenroom-testdatabases"
	s := &pgServer{id: id, rawURL: u, cfg: cfg, marker: m.runMarker(), used: map[string]bool{}, warn: procStderr}
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w (is the server running and the connection string right?)", redact(raw), err)
	}
	s.admin = admin
	var ver string
	if err := admin.QueryRow(ctx, "SHOW server_version_num").Scan(&ver); err != nil {
		admin.Close(ctx)
		return nil, fmt.Errorf("reading server version: %w", err)
	}
	n, _ := strconv.Atoi(ver)
	s.major = n / 10000
	if s.major < 13 {
		admin.Close(ctx)
		return nil, fmt.Errorf("PostgreSQL %d is too old: DROP DATABASE ... WITH (FORCE) needs 13 or newer", s.major)
	}
	// Prove this run is alive for as long as the admin connection lives.
	// Shared, so that several engines of one run may use the same server.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock_shared($1, $2)", pgLockRun, key32(s.marker)); err != nil {
		admin.Close(ctx)
		return nil, fmt.Errorf("taking the run lock: %w", err)
	}
	m.registerServer("postgres", raw)
	s.reapDead(ctx)
	return s, nil
}

func key32(s string) int32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int32(h.Sum32())
}

func pgIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (s *pgServer) lockedAdmin(ctx context.Context, f func(c *pgx.Conn) error) error {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	return f(s.admin)
}

// reapDead drops per-test databases left by runs that are no longer alive.
// Failures are reported; the next run tries again.
func (s *pgServer) reapDead(ctx context.Context) {
	err := s.lockedAdmin(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname LIKE 'greenroom\_test\_%'`)
		if err != nil {
			return err
		}
		type db struct{ name, comment string }
		dbs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (db, error) {
			var d db
			err := r.Scan(&d.name, &d.comment)
			return d, err
		})
		if err != nil {
			return err
		}
		dead := map[string]bool{}
		for _, d := range dbs {
			m := markerOf(d.name)
			if m == "" || m == s.marker || d.comment == keptComment {
				continue
			}
			if _, ok := dead[m]; !ok {
				var got bool
				if err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", pgLockRun, key32(m)).Scan(&got); err != nil {
					return fmt.Errorf("checking whether run %s is alive: %w", m, err)
				}
				if got {
					if _, err := c.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", pgLockRun, key32(m)); err != nil {
						return fmt.Errorf("releasing the run lock of %s: %w", m, err)
					}
				}
				dead[m] = got
			}
			if dead[m] {
				if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgIdent(d.name)+" WITH (FORCE)"); err != nil {
					warnf(s.warn, "%s: dropping %s, left by a run that ended: %v", s.id, d.name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		warnf(s.warn, "%s: dropping databases left by runs that ended: %v (the next run tries again)", s.id, err)
	}
}

const keptComment = "greenroom:kept"

// markerOf extracts the run marker from greenroom_test_<marker>_...
func markerOf(name string) string {
	rest, ok := strings.CutPrefix(name, "greenroom_test_")
	if !ok {
		return ""
	}
	m, _, ok := strings.Cut(rest, "_")
	if !ok || len(m) != 8 {
		return ""
	}
	return m
}

func (s *pgServer) template(ctx context.Context, hash string, mig Migrator) (tmpl, error) {
	var name string
	err := s.lockedAdmin(ctx, func(c *pgx.Conn) error {
		// Share the template with other runs; reapers skip shared templates.
		s.used[hash] = true
		if _, err := c.Exec(ctx, "SELECT pg_advisory_lock_shared($1, $2)", pgLockTplUse, key32(hash)); err != nil {
			return err
		}
		if _, err := c.Exec(ctx, "SELECT pg_advisory_lock($1, $2)", pgLockTemplate, key32(hash)); err != nil {
			return err
		}
		defer c.Exec(context.Background(), "SELECT pg_advisory_unlock($1, $2)", pgLockTemplate, key32(hash))
		rows, err := c.Query(ctx, `SELECT datname, datistemplate FROM pg_database WHERE datname LIKE 'greenroom\_tpl\_' || $1 || '\_%'`, hash)
		if err != nil {
			return err
		}
		var broken []string
		for rows.Next() {
			var n string
			var ok bool
			if err := rows.Scan(&n, &ok); err != nil {
				rows.Close()
				return err
			}
			if ok && name == "" {
				name = n
			} else if !ok {
				broken = append(broken, n)
			}
		}
		rows.Close()
		for _, b := range broken { // half-built by a run that died
			if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgIdent(b)+" WITH (FORCE)"); err != nil {
				return err
			}
		}
		if name != "" {
			return nil
		}
		name = fmt.Sprintf("greenroom_tpl_%s_%d", hash, time.Now().Unix())
		if _, err := c.Exec(ctx, "CREATE DATABASE "+pgIdent(name)); err != nil {
			return err
		}
		if err := s.migrate(ctx, name, mig); err != nil {
			if _, derr := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgIdent(name)+" WITH (FORCE)"); derr != nil {
				warnf(s.warn, "%s: dropping the half-built template %s: %v (the next run that builds it drops it)", s.id, name, derr)
			}
			return err
		}
		if _, err := c.Exec(ctx, "ALTER DATABASE "+pgIdent(name)+" IS_TEMPLATE true"); err != nil {
			return err
		}
		s.reapTemplates(ctx, c, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pgTemplate{h: hash, name: name}, nil
}

func (s *pgServer) migrate(ctx context.Context, dbname string, mig Migrator) error {
	if mig == nil {
		return nil
	}
	cfg := s.cfg.Copy()
	cfg.Database = dbname
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	db.SetMaxOpenConns(4)
	if err := mig.Migrate(ctx, db, DialectPostgres); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	return nil
}

// reapTemplates drops templates beyond the bound that no live run uses:
// the newest maxTemplates are kept (keep, just built, counting as the
// newest), and so are those this process uses and those whose use lock
// another run holds. A template that cannot be dropped is reported.
func (s *pgServer) reapTemplates(ctx context.Context, c *pgx.Conn, keep string) {
	rows, err := c.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'greenroom\_tpl\_%'`)
	if err != nil {
		warnf(s.warn, "%s: listing templates to keep at most %d: %v", s.id, maxTemplates, err)
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		warnf(s.warn, "%s: listing templates to keep at most %d: %v", s.id, maxTemplates, err)
		return
	}
	for _, t := range beyondBound(names, keep) {
		if !s.used[t.hash] {
			s.dropUnused(ctx, c, t)
		}
	}
}

// dropUnused drops template t unless a run uses it, and reports a failure.
func (s *pgServer) dropUnused(ctx context.Context, c *pgx.Conn, t templateName) {
	// Exclusive while dropping: a run that uses the template holds the lock
	// shared, from before it looks for the template until it ends.
	var free bool
	if err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", pgLockTplUse, key32(t.hash)).Scan(&free); err != nil {
		warnf(s.warn, "%s: checking whether template %s is in use: %v", s.id, t.name, err)
		return
	}
	if !free {
		return
	}
	if err := pgDropTemplate(ctx, c, t.name); err != nil {
		warnf(s.warn, "%s: %v (at most %d templates are kept per server; drop it by hand: ALTER DATABASE %s IS_TEMPLATE false; DROP DATABASE %s)",
			s.id, err, maxTemplates, t.name, t.name)
	}
	if _, err := c.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", pgLockTplUse, key32(t.hash)); err != nil {
		warnf(s.warn, "%s: releasing the use lock of template %s: %v", s.id, t.name, err)
	}
}

// pgDropTemplate drops a template database. PostgreSQL refuses to drop a
// database marked IS_TEMPLATE ("cannot drop a template database"), so it is
// unmarked first. A template that is already gone is not an error.
func pgDropTemplate(ctx context.Context, c *pgx.Conn, name string) error {
	// A drop that was interrupted (another run's, killed mid-way) leaves
	// the database invalid (datconnlimit -2), already unmarked: it can only
	// be dropped, and ALTER on it is a FATAL error that closes the session.
	var invalid bool
	switch err := c.QueryRow(ctx, "SELECT datconnlimit = -2 FROM pg_database WHERE datname = $1", name).Scan(&invalid); {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("reading template %s before dropping it: %w", name, err)
	}
	if !invalid {
		if _, err := c.Exec(ctx, "ALTER DATABASE "+pgIdent(name)+" IS_TEMPLATE false"); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "3D000" { // invalid_catalog_name: no such database
				return nil
			}
			return fmt.Errorf("unmarking template %s before dropping it: %w", name, err)
		}
	}
	if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgIdent(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping template %s: %w", name, err)
	}
	return nil
}

func (s *pgServer) create(ctx context.Context, t tmpl, name string) (*slot, error) {
	tp := t.(*pgTemplate)
	err := s.lockedAdmin(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "CREATE DATABASE "+pgIdent(name)+" TEMPLATE "+pgIdent(tp.name))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cloning template %s into %s: %w", tp.name, name, err)
	}
	phys, err := s.connect(ctx, name)
	if err != nil {
		s.dropName(ctx, name)
		return nil, err
	}
	sl := &slot{name: name, phys: phys, t: tp}
	tp.seqOnce.Do(func() { tp.seqReset, tp.seqErr = pgSequenceReset(ctx, phys.(*stdlib.Conn).Conn()) })
	if tp.seqErr != nil {
		s.drop(ctx, sl)
		return nil, fmt.Errorf("reading sequences of template %s: %w", tp.name, tp.seqErr)
	}
	if _, err := phys.(*stdlib.Conn).Conn().PgConn().Exec(ctx, "BEGIN").ReadAll(); err != nil {
		s.drop(ctx, sl)
		return nil, err
	}
	sl.begun = time.Now()
	return sl, nil
}

func (s *pgServer) connect(ctx context.Context, dbname string) (driver.Conn, error) {
	cfg := s.cfg.Copy()
	cfg.Database = dbname
	conn, err := stdlib.GetConnector(*cfg).Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to database %s: %w", dbname, err)
	}
	return conn, nil
}

// pgSequenceReset builds one statement that puts every sequence that moved
// back where the template had it. setval is not transactional, so this is
// the only state a rollback leaves behind.
//
// A sequence's state is its last_value and is_called, read from the
// sequence itself: pg_sequence_last_value is NULL both for a sequence never
// used and for one set with setval(seq, n, false), so it cannot tell the
// second from the first (fixtures loaders set counters that way).
func pgSequenceReset(ctx context.Context, c *pgx.Conn) (string, error) {
	rows, err := c.Query(ctx, `SELECT c.oid::int8, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'S' ORDER BY 1`)
	if err != nil {
		return "", err
	}
	var reads []string
	for rows.Next() {
		var oid int64
		var name string
		if err := rows.Scan(&oid, &name); err != nil {
			rows.Close()
			return "", err
		}
		reads = append(reads, fmt.Sprintf("SELECT %d::int8 AS o, last_value, is_called FROM %s", oid, name))
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(reads) == 0 {
		return "", err
	}
	current := strings.Join(reads, " UNION ALL ")
	rows, err = c.Query(ctx, current)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var vals []string
	for rows.Next() {
		var oid, last int64
		var called bool
		if err := rows.Scan(&oid, &last, &called); err != nil {
			return "", err
		}
		vals = append(vals, fmt.Sprintf("(%d,%d,%t)", oid, last, called))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return "SELECT count(pg_catalog.setval(v.o::oid::regclass, v.val, v.called)) FROM (VALUES " + strings.Join(vals, ",") +
		") v(o, val, called) JOIN (" + current + ") cur ON cur.o = v.o" +
		" WHERE (cur.last_value, cur.is_called) IS DISTINCT FROM (v.val, v.called)", nil
}

func (s *pgServer) recycle(ctx context.Context, sl *slot, st txmux.State) error {
	if st.Broken != nil {
		return st.Broken
	}
	if st.Taint != "" {
		return errors.New(st.Taint)
	}
	if !st.Used && st.InOuter {
		return nil
	}
	c := sl.phys.(*stdlib.Conn).Conn()
	tp := sl.t.(*pgTemplate)
	var b strings.Builder
	if st.InOuter {
		b.WriteString("ROLLBACK; ")
	}
	b.WriteString("SELECT pg_catalog.pg_advisory_unlock_all()")
	if tp.seqReset != "" {
		b.WriteString("; BEGIN; SET LOCAL synchronous_commit TO off; ")
		b.WriteString(tp.seqReset)
		b.WriteString("; COMMIT")
	}
	if _, err := c.PgConn().Exec(ctx, b.String()).ReadAll(); err != nil {
		return fmt.Errorf("resetting %s: %w", sl.name, err)
	}
	if st.DDL && !st.SessionDirty {
		// Plans cached against the test's schema do not fit the template's.
		if err := c.DeallocateAll(ctx); err != nil {
			return err
		}
	}
	if st.SessionDirty {
		if err := c.DeallocateAll(ctx); err != nil {
			return err
		}
		if _, err := c.PgConn().Exec(ctx, "DISCARD ALL").ReadAll(); err != nil {
			return err
		}
	}
	// The next test's outer transaction. Its start is now() for that test,
	// so freshen restarts it if the database waits long in the pool.
	if _, err := c.PgConn().Exec(ctx, "BEGIN").ReadAll(); err != nil {
		return err
	}
	sl.begun = time.Now()
	return nil
}

// maxIdleTx bounds how old now() (the outer transaction's start) may be
// when a test gets its database.
const maxIdleTx = 250 * time.Millisecond

func (s *pgServer) freshen(ctx context.Context, sl *slot) error {
	if time.Since(sl.begun) < maxIdleTx {
		return nil
	}
	c := sl.phys.(*stdlib.Conn).Conn()
	if _, err := c.PgConn().Exec(ctx, "ROLLBACK; BEGIN").ReadAll(); err != nil {
		return fmt.Errorf("restarting the transaction of %s: %w", sl.name, err)
	}
	sl.begun = time.Now()
	return nil
}

// settle: advisory locks are scoped to the database, released by recycle.
func (s *pgServer) settle(context.Context, *slot, txmux.State) {}

func (s *pgServer) drop(ctx context.Context, sl *slot) {
	if sl.phys != nil {
		_ = sl.phys.Close()
	}
	s.dropName(ctx, sl.name)
}

func (s *pgServer) dropName(ctx context.Context, name string) {
	err := s.lockedAdmin(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgIdent(name)+" WITH (FORCE)")
		return err
	})
	if err != nil {
		warnf(s.warn, "%s: dropping %s: %v (the run's reaper drops it when the test binary exits)", s.id, name, err)
	}
}

func (s *pgServer) keep(ctx context.Context, sl *slot, st txmux.State) (string, error) {
	c := sl.phys.(*stdlib.Conn).Conn()
	if st.InOuter {
		if _, err := c.Exec(ctx, "COMMIT"); err != nil {
			return "", err
		}
	}
	_ = sl.phys.Close()
	err := s.lockedAdmin(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "COMMENT ON DATABASE "+pgIdent(sl.name)+" IS '"+keptComment+"'")
		return err
	})
	if err != nil {
		return "", err
	}
	theManager.keepName(sl.name)
	return s.url(sl) + " (drop it with: DROP DATABASE " + sl.name + ")", nil
}

func (s *pgServer) url(sl *slot) string {
	u := *s.rawURL
	u.Path = "/" + sl.name
	return u.String()
}

func (s *pgServer) driverDSN(sl *slot) (string, string) { return "pgx", s.url(sl) }
func (s *pgServer) driver() driver.Driver               { return stdlib.GetDefaultDriver() }
func (s *pgServer) hooks(*slot) txmux.Hooks {
	return txmux.Hooks{
		AfterDDL: func(ctx context.Context, phys driver.Conn) error {
			// Cached plans of statements prepared before a schema change fail
			// with "cached plan must not change result type": forget them.
			return phys.(*stdlib.Conn).Conn().DeallocateAll(ctx)
		},
		// A cancel request stops the statement and keeps the session (pgx
		// would close the connection when the context is cancelled).
		Interrupt: func(phys driver.Conn) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return phys.(*stdlib.Conn).Conn().PgConn().CancelRequest(ctx)
		},
		CommitRolledBack: pgx.ErrTxCommitRollback,
	}
}
func (s *pgServer) outerStarted() bool { return false }
func (s *pgServer) poolSize() int      { return envInt("GREENROOM_TEST_DATABASE_POOL_SIZE", 4) }

// redact hides a password in a connection string for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
