package testdatabases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/greenroom-dev/greenroom/testdatabases/internal/txmux"
)

type mysqlServer struct {
	id      ID
	rawURL  *url.URL
	cfg     *mysql.Config
	mariadb bool
	adminMu sync.Mutex
	adminDB *sql.DB
	admin   *sql.Conn
	marker  string
	warn    io.Writer  // where housekeeping failures are reported
	threads sync.Map   // driver.Conn of a slot -> its server thread id, for KILL QUERY
	clones  cloneAdmin // sessions that make and drop Clone databases
}

type myTable struct {
	name    string
	create  string
	cols    string // non-generated columns, quoted, for copying rows
	rows    bool   // the template has rows to copy
	autoInc sql.NullInt64
	autoCol string // the AUTO_INCREMENT column, if any
}

type myTemplate struct {
	h       string
	name    string
	charset string
	collate string
	tables  []myTable
	views   []string
	others  []string // routines and triggers
	// shadowWhy says why sessions cannot shadow the tables with TEMPORARY
	// copies (see mysql_shadow.go); empty when they can. noShadow is set
	// when creating the copies failed nevertheless.
	shadowWhy string
	noShadow  atomic.Bool
	watch     []string // lower-case names of autoInc tables, as txmux.Hooks.Watch
}

func (t *myTemplate) hash() string { return t.h }

func myIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// parseMySQLURL turns mysql://user:pass@host:port/db?params into a driver
// config. The database segment is ignored (every test gets its own).
func parseMySQLURL(raw string) (*url.URL, *mysql.Config, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "mysql" && u.Scheme != "mariadb") || u.Host == "" {
		return nil, nil, fmt.Errorf("connection string must look like mysql://user:password@host:3306/db (got %q)", redact(raw))
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = u.Host + ":3306"
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	if q := u.RawQuery; q != "" {
		// Accept the driver's own DSN parameters (parseTime=true, loc=...).
		parsed, err := mysql.ParseDSN("x@tcp(h)/d?" + q)
		if err != nil {
			return nil, nil, fmt.Errorf("connection string parameters %q: %w", q, err)
		}
		parsed.User, parsed.Passwd, parsed.Net, parsed.Addr = cfg.User, cfg.Passwd, cfg.Net, cfg.Addr
		cfg = parsed
	}
	// DATETIME and TIMESTAMP columns scan into time.Time, as with the
	// production database service (package defaults/database), unless the
	// connection string says otherwise.
	if !u.Query().Has("parseTime") {
		cfg.ParseTime = true
	}
	cfg.DBName = ""
	cfg.MultiStatements = true
	cfg.InterpolateParams = true
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	return u, cfg, nil
}

func newMySQLServer(ctx context.Context, id ID, raw string, m *manager) (*mysqlServer, error) {
	u, cfg, err := parseMySQLURL(raw)
	if err != nil {
		return nil, err
	}
	s := &mysqlServer{id: id, rawURL: u, cfg: cfg, marker: m.runMarker(), warn: procStderr}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	s.adminDB = sql.OpenDB(conn)
	s.adminDB.SetMaxOpenConns(1)
	s.admin, err = s.adminDB.Conn(ctx)
	if err != nil {
		s.adminDB.Close()
		return nil, fmt.Errorf("connecting to %s: %w (is the server running and the connection string right?)", redact(raw), err)
	}
	var ver string
	if err := s.admin.QueryRowContext(ctx, "SELECT VERSION()").Scan(&ver); err != nil {
		s.adminDB.Close()
		return nil, fmt.Errorf("reading server version: %w", err)
	}
	s.mariadb = strings.Contains(strings.ToLower(ver), "mariadb")
	var got sql.NullInt64
	if err := s.admin.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", runLockName(s.marker, id)).Scan(&got); err != nil || got.Int64 != 1 {
		s.admin.Close()
		s.adminDB.Close()
		return nil, fmt.Errorf("taking the run lock %s: %v", runLockName(s.marker, id), err)
	}
	m.registerServer("mysql", raw)
	s.reapDead(ctx)
	return s, nil
}

func (s *mysqlServer) lockedAdmin(f func(c *sql.Conn) error) error {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	return f(s.admin)
}

func (s *mysqlServer) isLive(ctx context.Context, c *sql.Conn, marker string) bool {
	if marker == s.marker {
		return true
	}
	for _, id := range allIDs {
		if id.Dialect() != DialectMySQL {
			continue
		}
		var free sql.NullInt64
		if err := c.QueryRowContext(ctx, "SELECT IS_FREE_LOCK(?)", runLockName(marker, id)).Scan(&free); err != nil || free.Int64 != 1 {
			return true // held, or unknown: never reap
		}
	}
	return false
}

// runLockName is the MySQL named lock a live run holds per engine (MySQL
// has no shared locks, and two engines of a run may share a server).
func runLockName(marker string, id ID) string { return "greenroom_run_" + marker + "_" + string(id) }

func (s *mysqlServer) schemas(ctx context.Context, c *sql.Conn, like string) ([]string, error) {
	rows, err := c.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY SCHEMA_NAME", like)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *mysqlServer) hasTable(ctx context.Context, c *sql.Conn, schema, table string) bool {
	var n int
	err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", schema, table).Scan(&n)
	return err == nil && n > 0
}

// reapDead drops per-test databases of runs that are no longer alive.
// Failures are reported; the next run tries again.
func (s *mysqlServer) reapDead(ctx context.Context) {
	err := s.lockedAdmin(func(c *sql.Conn) error {
		names, err := s.schemas(ctx, c, `greenroom\_test\_%`)
		if err != nil {
			return err
		}
		for _, n := range names {
			m := markerOf(n)
			if m == "" || s.isLive(ctx, c, m) || s.hasTable(ctx, c, n, keptTable) {
				continue
			}
			if _, err := c.ExecContext(ctx, "DROP DATABASE IF EXISTS "+myIdent(n)); err != nil {
				warnf(s.warn, "%s: dropping %s, left by a run that ended: %v", s.id, n, err)
			}
		}
		return nil
	})
	if err != nil {
		warnf(s.warn, "%s: dropping databases left by runs that ended: %v (the next run tries again)", s.id, err)
	}
}

const (
	keptTable     = "greenroom_kept"
	completeTable = "greenroom_template_complete"
)

func (s *mysqlServer) template(ctx context.Context, hash string, mig Migrator) (tmpl, error) {
	var t *myTemplate
	err := s.lockedAdmin(func(c *sql.Conn) error {
		lock := "greenroom_tpl_" + hash
		var got sql.NullInt64
		if err := c.QueryRowContext(ctx, "SELECT GET_LOCK(?, 600)", lock).Scan(&got); err != nil || got.Int64 != 1 {
			return fmt.Errorf("waiting for the template lock %s: %v", lock, err)
		}
		defer c.ExecContext(context.Background(), "DO RELEASE_LOCK(?)", lock)
		names, err := s.schemas(ctx, c, `greenroom\_tpl\_`+hash+`\_%`)
		if err != nil {
			return err
		}
		name := ""
		for _, n := range names {
			if s.hasTable(ctx, c, n, completeTable) {
				name = n
			} else if _, err := c.ExecContext(ctx, "DROP DATABASE IF EXISTS "+myIdent(n)); err != nil {
				return err
			}
		}
		if name == "" {
			name = fmt.Sprintf("greenroom_tpl_%s_%d", hash, time.Now().Unix())
			if _, err := c.ExecContext(ctx, "CREATE DATABASE "+myIdent(name)); err != nil {
				return err
			}
			if err := s.migrate(ctx, name, mig); err != nil {
				if _, derr := c.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+myIdent(name)); derr != nil {
					warnf(s.warn, "%s: dropping the half-built template %s: %v (the next run that builds it drops it)", s.id, name, derr)
				}
				return err
			}
			if _, err := c.ExecContext(ctx, "CREATE TABLE "+myIdent(name)+"."+myIdent(completeTable)+" (id int)"); err != nil {
				return err
			}
			s.reapTemplates(ctx, c, name)
		}
		// Mark the use while the template lock is held: from now until this
		// run ends, a run that prunes templates sees it (see reapTemplates),
		// also while this run has no per-test database of the template.
		if _, err := c.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+myIdent(s.useMarker(hash))); err != nil {
			return fmt.Errorf("marking the use of template %s: %w", name, err)
		}
		t, err = s.describe(ctx, c, hash, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (s *mysqlServer) migrate(ctx context.Context, dbname string, mig Migrator) error {
	if mig == nil {
		return nil
	}
	cfg := s.cfg.Clone()
	cfg.DBName = dbname
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(4)
	if err := mig.Migrate(ctx, db, DialectMySQL); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	return nil
}

// useMarker names the empty database that marks this run's use of the
// template of hash. It has the form of a per-test database (sequence
// number 0, which per-test databases never have), so that the reapers drop
// it with the run's databases and runs that prune templates count it as a
// use.
func (s *mysqlServer) useMarker(hash string) string {
	return "greenroom_test_" + s.marker + "_" + hash[:8] + "_0"
}

// reapTemplates drops templates beyond the bound that no live run uses: the
// newest maxTemplates are kept, keep (just built) counting as the newest.
// A run uses a template from when it finds it (see useMarker) until it
// ends. When it cannot tell which templates are in use it drops none; a
// template that cannot be dropped is reported.
func (s *mysqlServer) reapTemplates(ctx context.Context, c *sql.Conn, keep string) {
	names, err := s.schemas(ctx, c, `greenroom\_tpl\_%`)
	if err != nil {
		warnf(s.warn, "%s: listing templates to keep at most %d: %v", s.id, maxTemplates, err)
		return
	}
	drop := beyondBound(names, keep)
	if len(drop) == 0 {
		return
	}
	inUse, err := s.templatesInUse(ctx, c)
	if err != nil {
		warnf(s.warn, "%s: listing per-test databases to find the templates in use: %v (no template dropped)", s.id, err)
		return
	}
	for _, t := range drop {
		if len(t.hash) < 8 || inUse[t.hash[:8]] {
			continue
		}
		s.dropUnused(ctx, c, t)
	}
}

// templatesInUse returns the hash prefixes of the templates that live runs
// use: those of their per-test databases and use markers.
func (s *mysqlServer) templatesInUse(ctx context.Context, c *sql.Conn) (map[string]bool, error) {
	clones, err := s.schemas(ctx, c, `greenroom\_test\_%`)
	if err != nil {
		return nil, err
	}
	inUse := map[string]bool{}
	for _, cl := range clones {
		p := strings.Split(strings.TrimPrefix(cl, "greenroom_test_"), "_")
		if len(p) >= 2 && !inUse[p[1]] && s.isLive(ctx, c, p[0]) {
			inUse[p[1]] = true
		}
	}
	return inUse, nil
}

// dropUnused drops template t unless a run finds it or uses it now, and
// reports a failure. The template's lock, which a run holds while it
// looks for the template and marks its use, orders the two: either the
// run's use marker is there when the check below runs, or the template is
// gone when the run looks for it (and the run builds it again).
func (s *mysqlServer) dropUnused(ctx context.Context, c *sql.Conn, t templateName) {
	lock := "greenroom_tpl_" + t.hash
	var got sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", lock).Scan(&got); err != nil {
		warnf(s.warn, "%s: taking the lock of template %s to drop it: %v", s.id, t.name, err)
		return
	}
	if got.Int64 != 1 {
		return // a run is finding or building it
	}
	defer func() {
		if _, err := c.ExecContext(context.Background(), "DO RELEASE_LOCK(?)", lock); err != nil {
			warnf(s.warn, "%s: releasing the lock of template %s: %v", s.id, t.name, err)
		}
	}()
	inUse, err := s.templatesInUse(ctx, c)
	if err != nil {
		warnf(s.warn, "%s: listing per-test databases to tell whether template %s is in use: %v (not dropped)", s.id, t.name, err)
		return
	}
	if inUse[t.hash[:8]] {
		return
	}
	if _, err := c.ExecContext(ctx, "DROP DATABASE IF EXISTS "+myIdent(t.name)); err != nil {
		warnf(s.warn, "%s: dropping template %s: %v (at most %d templates are kept per server; drop it by hand: DROP DATABASE %s)",
			s.id, t.name, err, maxTemplates, t.name)
	}
}

// describe reads what a clone needs from the template.
func (s *mysqlServer) describe(ctx context.Context, c *sql.Conn, hash, name string) (*myTemplate, error) {
	t := &myTemplate{h: hash, name: name}
	if err := c.QueryRowContext(ctx, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&t.charset, &t.collate); err != nil {
		return nil, err
	}
	if !s.mariadb {
		if _, err := c.ExecContext(ctx, "SET SESSION information_schema_stats_expiry = 0"); err != nil {
			return nil, err
		}
	}
	rows, err := c.QueryContext(ctx, "SELECT TABLE_NAME, TABLE_TYPE, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME", name)
	if err != nil {
		return nil, err
	}
	var views []string
	for rows.Next() {
		var tb myTable
		var typ string
		if err := rows.Scan(&tb.name, &typ, &tb.autoInc); err != nil {
			rows.Close()
			return nil, err
		}
		if tb.name == completeTable {
			continue
		}
		if typ == "VIEW" {
			views = append(views, tb.name)
		} else {
			t.tables = append(t.tables, tb)
		}
	}
	rows.Close()
	q := myIdent(name) + "."
	for i := range t.tables {
		tb := &t.tables[i]
		var n string
		if err := c.QueryRowContext(ctx, "SHOW CREATE TABLE "+q+myIdent(tb.name)).Scan(&n, &tb.create); err != nil {
			return nil, err
		}
		var cols sql.NullString
		if err := c.QueryRowContext(ctx, "SELECT GROUP_CONCAT(CONCAT('`', REPLACE(COLUMN_NAME, '`', '``'), '`') ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%'", name, tb.name).Scan(&cols); err != nil {
			return nil, err
		}
		tb.cols = cols.String
		var one int
		err := c.QueryRowContext(ctx, "SELECT 1 FROM "+q+myIdent(tb.name)+" LIMIT 1").Scan(&one)
		tb.rows = err == nil
	}
	for _, v := range views {
		var n, def, cs, coll string
		if err := c.QueryRowContext(ctx, "SHOW CREATE VIEW "+q+myIdent(v)).Scan(&n, &def, &cs, &coll); err != nil {
			return nil, err
		}
		t.views = append(t.views, strings.ReplaceAll(def, q, ""))
	}
	// Routines and triggers, created after the data is copied.
	rr, err := c.QueryContext(ctx, "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?", name)
	if err != nil {
		return nil, err
	}
	var routines [][2]string
	for rr.Next() {
		var typ, n string
		if err := rr.Scan(&typ, &n); err != nil {
			rr.Close()
			return nil, err
		}
		routines = append(routines, [2]string{typ, n})
	}
	rr.Close()
	for _, r := range routines {
		rows, err := c.QueryContext(ctx, "SHOW CREATE "+r[0]+" "+q+myIdent(r[1]))
		if err != nil {
			return nil, err
		}
		def, err := column(rows, "Create "+strings.ToLower(r[0])[:1]+strings.ToLower(r[0])[1:])
		if err != nil {
			return nil, err
		}
		t.others = append(t.others, def)
	}
	tr, err := c.QueryContext(ctx, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY ACTION_ORDER", name)
	if err != nil {
		return nil, err
	}
	var trigs []string
	for tr.Next() {
		var n string
		if err := tr.Scan(&n); err != nil {
			tr.Close()
			return nil, err
		}
		trigs = append(trigs, n)
	}
	tr.Close()
	for _, n := range trigs {
		rows, err := c.QueryContext(ctx, "SHOW CREATE TRIGGER "+q+myIdent(n))
		if err != nil {
			return nil, err
		}
		def, err := column(rows, "SQL Original Statement")
		if err != nil {
			return nil, err
		}
		t.others = append(t.others, def)
	}
	why, err := s.shadowReason(ctx, c, t)
	if err != nil {
		return nil, err
	}
	t.shadowWhy = why
	for _, tb := range t.autoIncTables() {
		t.watch = append(t.watch, strings.ToLower(tb.name))
	}
	return t, nil
}

// column reads one named column of the single row of rows.
func column(rows *sql.Rows, name string) (string, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	if !rows.Next() {
		return "", fmt.Errorf("no row for %s", name)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", err
	}
	for i, c := range cols {
		if strings.EqualFold(c, name) {
			return vals[i].String, nil
		}
	}
	return "", fmt.Errorf("no column %s in %v", name, cols)
}

func (s *mysqlServer) create(ctx context.Context, t tmpl, name string) (*slot, error) {
	tp := t.(*myTemplate)
	err := s.lockedAdmin(func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, "CREATE DATABASE "+myIdent(name)+" CHARACTER SET "+tp.charset+" COLLATE "+tp.collate)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", name, err)
	}
	phys, err := s.connect(ctx, name)
	if err != nil {
		s.dropName(ctx, name)
		return nil, err
	}
	sl := &slot{name: name, phys: phys, t: tp}
	err = s.replay(ctx, tp, sl)
	run := func(q string) error {
		if _, err := sl.phys.(driver.ExecerContext).ExecContext(ctx, q, nil); err != nil {
			return fmt.Errorf("cloning template %s into %s: %w", tp.name, sl.name, err)
		}
		return nil
	}
	if err == nil && tp.shadowed() {
		if e := run(tp.shadowSQL()[2:]); e != nil {
			// Not expected after shadowReason; fall back to the base tables
			// for this template, in a new session without copies.
			tp.noShadow.Store(true)
			s.closePhys(sl.phys)
			sl.phys, err = s.connect(ctx, name)
		} else {
			sl.shadowed = true
		}
	}
	if err == nil {
		err = run("START TRANSACTION")
	}
	if err != nil {
		s.drop(ctx, sl)
		return nil, err
	}
	return sl, nil
}

// replay copies the template's tables, rows, views, routines and triggers
// into the (empty) database of sl, on its connection.
func (s *mysqlServer) replay(ctx context.Context, tp *myTemplate, sl *slot) error {
	ex := sl.phys.(driver.ExecerContext)
	run := func(q string) error {
		if _, err := ex.ExecContext(ctx, q, nil); err != nil {
			return fmt.Errorf("cloning template %s into %s: %w", tp.name, sl.name, err)
		}
		return nil
	}
	var b strings.Builder
	b.WriteString("SET FOREIGN_KEY_CHECKS = 0")
	for _, tb := range tp.tables {
		b.WriteString(";\n" + tb.create)
	}
	for _, tb := range tp.tables {
		if tb.rows {
			fmt.Fprintf(&b, ";\nINSERT INTO %s (%s) SELECT %s FROM %s.%s", myIdent(tb.name), tb.cols, tb.cols, myIdent(tp.name), myIdent(tb.name))
		}
	}
	b.WriteString(";\nSET FOREIGN_KEY_CHECKS = 1")
	err := run(b.String())
	// Views may depend on views: create them in passes.
	pending := tp.views
	for err == nil && len(pending) > 0 {
		var next []string
		var lastErr error
		for _, v := range pending {
			if e := run(v); e != nil {
				next, lastErr = append(next, v), e
			}
		}
		if len(next) == len(pending) {
			err = lastErr
		}
		pending = next
	}
	for _, o := range tp.others {
		if err == nil {
			err = run(o)
		}
	}
	return err
}

func (s *mysqlServer) connect(ctx context.Context, dbname string) (driver.Conn, error) {
	cfg := s.cfg.Clone()
	cfg.DBName = dbname
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	c, err := conn.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to database %s: %w", dbname, err)
	}
	if !s.mariadb {
		if _, err := c.(driver.ExecerContext).ExecContext(ctx, "SET SESSION information_schema_stats_expiry = 0", nil); err != nil {
			c.Close()
			return nil, err
		}
	}
	rows, err := c.(driver.QueryerContext).QueryContext(ctx, "SELECT CONNECTION_ID()", nil)
	if err == nil {
		v := make([]driver.Value, 1)
		if err = rows.Next(v); err == nil {
			var id int64
			if id, err = strconv.ParseInt(fmt.Sprint(asAny(v[0])), 10, 64); err == nil {
				s.threads.Store(c, id)
			}
		}
		rows.Close()
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("reading the connection id of %s: %w", dbname, err)
	}
	return c, nil
}

// closePhys closes a slot's connection.
func (s *mysqlServer) closePhys(c driver.Conn) {
	s.threads.Delete(c)
	_ = c.Close()
}

// interrupt stops the statement a slot's connection runs (KILL QUERY), from
// a connection of its own: the admin session may be busy for long.
func (s *mysqlServer) interrupt(phys driver.Conn) error {
	id, ok := s.threads.Load(phys)
	if !ok {
		return errors.New("testdatabases: unknown MySQL connection")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := mysql.NewConnector(s.cfg)
	if err != nil {
		return err
	}
	c, err := conn.Connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.(driver.ExecerContext).ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", id), nil)
	return err
}

func (s *mysqlServer) recycle(ctx context.Context, sl *slot, st txmux.State) error {
	if st.Broken != nil {
		return st.Broken
	}
	if st.Taint != "" {
		return errors.New(st.Taint)
	}
	if !st.Used {
		return nil
	}
	tp := sl.t.(*myTemplate)
	if sl.shadowed && !st.SessionDirty {
		return s.recycleShadowed(ctx, sl, st.Mentioned)
	}
	ex := sl.phys.(driver.ExecerContext)
	if _, err := ex.ExecContext(ctx, "ROLLBACK; DO RELEASE_ALL_LOCKS()", nil); err != nil {
		return err
	}
	if st.SessionDirty {
		// User variables, session variables, temporary tables and prepared
		// statements survive ROLLBACK: start a new session.
		s.closePhys(sl.phys)
		sl.shadowed = false // TEMPORARY tables end with the session
		phys, err := s.connect(ctx, sl.name)
		if err != nil {
			sl.phys = nil
			return err
		}
		sl.phys = phys
		ex = phys.(driver.ExecerContext)
	}
	// AUTO_INCREMENT counters survive ROLLBACK; put back those that moved.
	rows, err := sl.phys.(driver.QueryerContext).QueryContext(ctx,
		"SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND AUTO_INCREMENT IS NOT NULL", nil)
	if err != nil {
		return err
	}
	now := map[string]int64{}
	vals := make([]driver.Value, 2)
	for rows.Next(vals) == nil {
		n, _ := asString(vals[0])
		v, _ := strconv.ParseInt(fmt.Sprint(asAny(vals[1])), 10, 64)
		now[n] = v
	}
	rows.Close()
	// Only DDL lowers a counter. ALTER TABLE ... AUTO_INCREMENT runs in
	// parallel for several databases; TRUNCATE (measured 6x slower in this
	// pipeline on MariaDB 10.11) does not.
	var b strings.Builder
	for _, tb := range tp.tables {
		if !tb.autoInc.Valid {
			continue
		}
		if v, ok := now[tb.name]; ok && v != tb.autoInc.Int64 {
			fmt.Fprintf(&b, "ALTER TABLE %s AUTO_INCREMENT = %d;\n", myIdent(tb.name), tb.autoInc.Int64)
		}
	}
	shadow := tp.shadowed() && !sl.shadowed
	if shadow {
		// The copies were dropped (unshadowed) or the session is new.
		b.WriteString(tp.shadowSQL()[2:] + ";\n")
	}
	b.WriteString("START TRANSACTION")
	if _, err := ex.ExecContext(ctx, b.String(), nil); err != nil {
		return fmt.Errorf("resetting AUTO_INCREMENT counters of %s: %w", sl.name, err)
	}
	if shadow {
		sl.shadowed = true
	}
	return nil
}

func asString(v driver.Value) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

func asAny(v driver.Value) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

func (s *mysqlServer) freshen(context.Context, *slot) error { return nil }

func (s *mysqlServer) settle(ctx context.Context, sl *slot, st txmux.State) {
	if st.NamedLocks && st.Broken == nil {
		_, _ = sl.phys.(driver.ExecerContext).ExecContext(ctx, "DO RELEASE_ALL_LOCKS()", nil)
	}
}

func (s *mysqlServer) drop(ctx context.Context, sl *slot) {
	if sl.phys != nil {
		// Named locks are server-wide: release them now rather than when
		// the server notices the closed connection.
		_, _ = sl.phys.(driver.ExecerContext).ExecContext(ctx, "DO RELEASE_ALL_LOCKS()", nil)
		s.closePhys(sl.phys)
	}
	s.dropName(ctx, sl.name)
}

func (s *mysqlServer) dropName(ctx context.Context, name string) {
	err := s.lockedAdmin(func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, "DROP DATABASE IF EXISTS "+myIdent(name))
		return err
	})
	if err != nil {
		warnf(s.warn, "%s: dropping %s: %v (the run's reaper drops it when the test binary exits)", s.id, name, err)
	}
}

func (s *mysqlServer) keep(ctx context.Context, sl *slot, st txmux.State) (string, error) {
	if sl.shadowed {
		// The test's rows are in the session's TEMPORARY copies.
		sl.shadowed = false
		if _, err := s.unshadow(ctx, sl.t.(*myTemplate), sl.phys, false); err != nil {
			return "", err
		}
	}
	ex := sl.phys.(driver.ExecerContext)
	if _, err := ex.ExecContext(ctx, "COMMIT; CREATE TABLE IF NOT EXISTS "+myIdent(keptTable)+" (kept_at timestamp)", nil); err != nil {
		return "", err
	}
	s.closePhys(sl.phys)
	theManager.keepName(sl.name)
	return s.url(sl) + " (drop it with: DROP DATABASE " + sl.name + ")", nil
}

func (s *mysqlServer) url(sl *slot) string {
	u := *s.rawURL
	u.Path = "/" + sl.name
	return u.String()
}

func (s *mysqlServer) driverDSN(sl *slot) (string, string) {
	cfg := s.cfg.Clone()
	cfg.DBName = sl.name
	cfg.MultiStatements = false
	cfg.InterpolateParams = false
	return "mysql", cfg.FormatDSN()
}

func (s *mysqlServer) driver() driver.Driver { return &mysql.MySQLDriver{} }

func (s *mysqlServer) hooks(sl *slot) txmux.Hooks {
	h := txmux.Hooks{
		TxLost: func(err error) bool {
			var me *mysql.MySQLError
			return errors.As(err, &me) && me.Number == 1213 // deadlock: transaction rolled back
		},
		Interrupt: s.interrupt,
	}
	if sl.shadowed {
		h.Watch = sl.t.(*myTemplate).watch
		h.Unshadow = func(ctx context.Context, phys driver.Conn, keepTx bool) (bool, error) {
			sl.shadowed = false
			return s.unshadow(ctx, sl.t.(*myTemplate), phys, keepTx)
		}
	}
	return h
}

func (s *mysqlServer) outerStarted() bool { return true }
func (s *mysqlServer) poolSize() int      { return envInt("GREENROOM_TEST_DATABASE_POOL_SIZE", 6) }
