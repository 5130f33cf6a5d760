package testdatabases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Clone mode and pool bounds of the server engines: a Clone database is a
// clone of the template with plain connections, used by one test and
// dropped after it.

func (s *pgServer) createClone(ctx context.Context, t tmpl, name string) (*slot, error) {
	tp := t.(*pgTemplate)
	err := s.lockedAdmin(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "CREATE DATABASE "+pgIdent(name)+" TEMPLATE "+pgIdent(tp.name))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cloning template %s into %s: %w", tp.name, name, err)
	}
	sl := &slot{name: name, t: tp}
	phys, err := s.cloneConnector(sl).Connect(ctx)
	if err != nil {
		s.dropName(ctx, name)
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
func (s *pgServer) dropClone(ctx context.Context, sl *slot) { s.dropName(ctx, sl.name) }

// endSessions: what a PostgreSQL session holds (advisory locks, LISTEN)
// is scoped to its database, so the sessions may end with the drop.
func (s *pgServer) endSessions(context.Context, *slot) error { return nil }

func (s *pgServer) keepClone(ctx context.Context, sl *slot) (string, error) {
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
	err := s.lockedAdmin(func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, "CREATE DATABASE "+myIdent(name)+" CHARACTER SET "+tp.charset+" COLLATE "+tp.collate)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", name, err)
	}
	sl := &slot{name: name, t: tp}
	phys, err := s.cloneConnector(sl).Connect(ctx)
	if err != nil {
		s.dropName(ctx, name)
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

// dropClone drops the database; endSessions ran before.
func (s *mysqlServer) dropClone(ctx context.Context, sl *slot) {
	_ = s.endSessions(ctx, sl)
	s.dropName(ctx, sl.name)
}

// endSessions ends the sessions still open on the database of sl and waits
// until the server has ended them: named locks (GET_LOCK) are server-wide
// and a closed connection releases them only when the server gets to it,
// and a transaction left open would make DROP DATABASE wait for its
// metadata locks.
func (s *mysqlServer) endSessions(ctx context.Context, sl *slot) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.lockedAdmin(func(c *sql.Conn) error {
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
	})
}

func (s *mysqlServer) keepClone(ctx context.Context, sl *slot) (string, error) {
	err := s.lockedAdmin(func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+myIdent(sl.name)+"."+myIdent(keptTable)+" (kept_at timestamp)")
		return err
	})
	if err != nil {
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
