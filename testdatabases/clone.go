package testdatabases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Clone mode and pool bounds of the server engines: a Clone database is a
// clone of the template with plain connections, used by one test and
// dropped after it.

// cloneAdmin holds the server sessions that make, end and drop Clone
// databases, apart from the admin session that Rollback mode and templates
// use: a clone is made and another dropped at the same time. On
// PostgreSQL every DROP DATABASE requests a checkpoint (measured: 15-90 ms
// here, against about 40 ms for CREATE DATABASE ... TEMPLATE), so drops run
// one at a time and never delay the clones that tests wait for.
type cloneAdmin struct {
	once  sync.Once
	db    *sql.DB
	drops chan struct{} // one drop at a time
}

// Sessions of cloneAdmin: two make clones while one drops.
const cloneAdminConns = 3

func (a *cloneAdmin) get(open func() *sql.DB) *sql.DB {
	a.once.Do(func() {
		a.db = open()
		a.db.SetMaxOpenConns(cloneAdminConns)
		a.db.SetMaxIdleConns(cloneAdminConns)
		a.drops = make(chan struct{}, 1)
	})
	return a.db
}

// drop runs f while no other drop of the server runs.
func (a *cloneAdmin) drop(ctx context.Context, f func() error) error {
	select {
	case a.drops <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-a.drops }()
	return f()
}

// cloneDB returns the sessions for clones. Each takes the run lock (shared)
// like the admin session, so that the reaper waits for a CREATE DATABASE
// they were running when the process died.
func (s *pgServer) cloneDB() *sql.DB {
	return s.clones.get(func() *sql.DB {
		return stdlib.OpenDB(*s.cfg.Copy(), stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "SELECT pg_advisory_lock_shared($1, $2)", pgLockRun, key32(s.marker))
			return err
		}))
	})
}

func (s *pgServer) createClone(ctx context.Context, t tmpl, name string) (*slot, error) {
	tp := t.(*pgTemplate)
	if _, err := s.cloneDB().ExecContext(ctx, "CREATE DATABASE "+pgIdent(name)+" TEMPLATE "+pgIdent(tp.name)); err != nil {
		return nil, fmt.Errorf("cloning template %s into %s: %w", tp.name, name, err)
	}
	sl := &slot{name: name, t: tp}
	phys, err := s.cloneConnector(sl).Connect(ctx)
	if err != nil {
		s.dropClone(ctx, sl)
		return nil, fmt.Errorf("connecting to database %s: %w", name, err)
	}
	sl.phys = phys
	return sl, nil
}

func (s *pgServer) cloneConnector(sl *slot) driver.Connector {
	cfg := s.cfg.Copy()
	cfg.Database = sl.name
	return stdlib.GetConnector(*cfg)
}

// dropClone: WITH (FORCE) ends the test's sessions that are still open.
// A failure is reported, as for the other drops.
func (s *pgServer) dropClone(ctx context.Context, sl *slot) {
	err := s.clones.drop(ctx, func() error {
		_, err := s.cloneDB().ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgIdent(sl.name)+" WITH (FORCE)")
		return err
	})
	if err != nil {
		warnf(s.warn, "%s: dropping the clone %s: %v (the run's reaper drops it when the test binary exits)", s.id, sl.name, err)
	}
}

// endSessions: what a PostgreSQL session holds (advisory locks, LISTEN)
// is scoped to its database, so the sessions may end with the drop.
func (s *pgServer) endSessions(context.Context, *slot) error { return nil }

func (s *pgServer) keepClone(ctx context.Context, sl *slot) (string, error) {
	if _, err := s.cloneDB().ExecContext(ctx, "COMMENT ON DATABASE "+pgIdent(sl.name)+" IS '"+keptComment+"'"); err != nil {
		return "", err
	}
	theManager.keepName(sl.name)
	return s.url(sl) + " (drop it with: DROP DATABASE " + sl.name + ")", nil
}

func (s *pgServer) capacity(ctx context.Context) (capacity, error) {
	var c capacity
	err := s.lockedAdmin(ctx, func(conn *pgx.Conn) error {
		// reserved_connections exists from PostgreSQL 16 on.
		return conn.QueryRow(ctx, `SELECT current_setting('max_connections')::int,
			current_setting('superuser_reserved_connections')::int + coalesce(current_setting('reserved_connections', true)::int, 0),
			(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int`).Scan(&c.max, &c.reserved, &c.inUse)
	})
	return c, err
}

func (s *pgServer) tooManyConnections(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "53300" // too_many_connections
}

func (s *mysqlServer) createClone(ctx context.Context, t tmpl, name string) (*slot, error) {
	tp := t.(*myTemplate)
	if _, err := s.cloneDB().ExecContext(ctx, "CREATE DATABASE "+myIdent(name)+" CHARACTER SET "+tp.charset+" COLLATE "+tp.collate); err != nil {
		return nil, fmt.Errorf("creating %s: %w", name, err)
	}
	sl := &slot{name: name, t: tp}
	phys, err := s.cloneConnector(sl).Connect(ctx)
	if err != nil {
		s.dropClone(ctx, sl)
		return nil, fmt.Errorf("connecting to database %s: %w", name, err)
	}
	sl.phys = phys
	if err := s.replay(ctx, tp, sl); err != nil {
		_ = phys.Close()
		sl.phys = nil
		s.dropClone(ctx, sl)
		return nil, err
	}
	return sl, nil
}

// cloneDB returns the sessions for clones. (MySQL has no shared locks: the
// reaper does not wait for them, and the next run drops what a CREATE
// DATABASE in flight when the process died left behind.)
func (s *mysqlServer) cloneDB() *sql.DB {
	return s.clones.get(func() *sql.DB {
		c, err := mysql.NewConnector(s.cfg)
		if err != nil {
			// NewConnector fails only on a config that the admin session
			// already connected with.
			panic(fmt.Sprintf("testdatabases: connector for %s: %v", s.id, err))
		}
		return sql.OpenDB(c)
	})
}

// cloneConnector connects as the Rollback sessions do (parseTime,
// multiStatements, interpolateParams), so that both tiers accept the same
// SQL.
func (s *mysqlServer) cloneConnector(sl *slot) driver.Connector {
	cfg := s.cfg.Clone()
	cfg.DBName = sl.name
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		// NewConnector fails only on a config that connect already used.
		panic(fmt.Sprintf("testdatabases: connector for %s: %v", sl.name, err))
	}
	return c
}

// dropClone drops the database; endSessions ran before, but a test's
// goroutine may have connected since.
// A failure is reported, as for the other drops.
func (s *mysqlServer) dropClone(ctx context.Context, sl *slot) {
	if err := s.endSessions(ctx, sl); err != nil {
		warnf(s.warn, "%s: ending the sessions of the clone %s before dropping it: %v", s.id, sl.name, err)
	}
	err := s.clones.drop(ctx, func() error {
		_, err := s.cloneDB().ExecContext(ctx, "DROP DATABASE IF EXISTS "+myIdent(sl.name))
		return err
	})
	if err != nil {
		warnf(s.warn, "%s: dropping the clone %s: %v (the run's reaper drops it when the test binary exits)", s.id, sl.name, err)
	}
}

// endSessions ends the sessions still open on the database of sl and waits
// until the server has ended them: named locks (GET_LOCK) are server-wide
// and a closed connection releases them only when the server gets to it,
// and a transaction left open would make DROP DATABASE wait for its
// metadata locks.
func (s *mysqlServer) endSessions(ctx context.Context, sl *slot) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := s.cloneDB().Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		rows, err := c.QueryContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()", sl.name)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) == 0 {
			return nil
		}
		for _, id := range ids {
			// Fails for a session that ended meanwhile.
			_, _ = c.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", id))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sessions %v on %s did not end: %w", ids, sl.name, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

func (s *mysqlServer) keepClone(ctx context.Context, sl *slot) (string, error) {
	if _, err := s.cloneDB().ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+myIdent(sl.name)+"."+myIdent(keptTable)+" (kept_at timestamp)"); err != nil {
		return "", err
	}
	theManager.keepName(sl.name)
	return s.url(sl) + " (drop it with: DROP DATABASE " + sl.name + ")", nil
}

func (s *mysqlServer) capacity(ctx context.Context) (capacity, error) {
	var c capacity
	err := s.lockedAdmin(func(conn *sql.Conn) error {
		return conn.QueryRowContext(ctx, "SELECT @@max_connections, (SELECT COUNT(*) FROM information_schema.PROCESSLIST)").Scan(&c.max, &c.inUse)
	})
	return c, err
}

func (s *mysqlServer) tooManyConnections(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1040 // ER_CON_COUNT_ERROR
}
