package testdatabases

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// The reaper is a child process (this test binary re-executed) that outlives
// the test process just long enough to drop the run's databases. It reads
// registrations from a pipe; end-of-file means the test process has exited
// or was killed, and then it drops every greenroom_test_<marker>_* database
// the run created (except kept ones) and removes the run's directories.
//
// It inherits the test process's stdout and stderr, so `go test` waits for
// it to finish before reporting the package: when `go test` returns, the
// run's databases are gone.
//
// Runs whose reaper could not do its work (machine crash, server down) are
// reaped by the next run, which drops databases whose run lock is free.

// A reaper is this binary started with argv[0] reaperArg0 and the run's
// marker in reaperEnv. Both are needed: an inherited or exported variable
// alone never turns a process into a reaper.
const (
	reaperEnv  = "GREENROOM_TESTDATABASES_REAPER"
	reaperArg0 = "greenroom-testdatabases-reaper"
)

// The process's own stdout and stderr, taken before the testing package
// may swap os.Stdout for a pipe (as it does while running examples).
var procStdout, procStderr = os.Stdout, os.Stderr

// init turns the process into the reaper when startReaper started it, and
// does nothing in every other process. The reaper process itself is
// started only at a process's first server database (registerServer):
// a binary that links this package but opens no server database starts
// none, and one that uses only SQLite starts a shell (startDirReaper).
func init() {
	if len(os.Args) == 1 && os.Args[0] == reaperArg0 {
		if marker := os.Getenv(reaperEnv); marker != "" {
			os.Exit(runReaper(marker, os.Stdin))
		}
	}
}

type reaperClient struct {
	w io.WriteCloser
}

func (m *manager) send(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reaper == nil {
		m.reaper = startReaper(m.marker)
	}
	if m.reaper != nil {
		fmt.Fprintln(m.reaper.w, line)
	}
}

func (m *manager) registerServer(kind, url string) {
	m.runMarker()
	m.send("server\t" + kind + "\t" + url)
}
func (m *manager) registerDir(dir string) {
	m.runMarker()
	if startDirReaper(dir) {
		return
	}
	m.send("dir\t" + dir)
}
func (m *manager) keepName(name string) { m.send("keep\t" + name) }

func startReaper(marker string) *reaperClient {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{reaperArg0}
	cmd.Env = append(os.Environ(), reaperEnv+"="+marker)
	cmd.Stdin = r
	cmd.Stdout = procStdout
	cmd.Stderr = procStderr
	cmd.SysProcAttr = reaperSysProcAttr()
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil
	}
	r.Close()
	go cmd.Wait() //nolint:errcheck // reaped on exit; the child outlives us
	return &reaperClient{w: w}
}

func runReaper(marker string, in io.Reader) int {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	type srv struct{ kind, url string }
	var servers []srv
	var dirs []string
	kept := map[string]bool{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		switch {
		case len(f) == 3 && f[0] == "server":
			servers = append(servers, srv{f[1], f[2]})
		case len(f) == 2 && f[0] == "dir":
			dirs = append(dirs, f[1])
		case len(f) == 2 && f[0] == "keep":
			kept[f[1]] = true
		}
	}
	// The test process is gone.
	status := 0
	for _, s := range servers {
		if err := dropRun(s.kind, s.url, marker, kept); err != nil {
			fmt.Fprintf(os.Stderr, "testdatabases reaper: dropping databases of run %s: %v (the next run will retry)\n", marker, err)
			status = 1
		}
	}
	for _, d := range dirs {
		os.RemoveAll(d)
	}
	return status
}

// dropRun drops the databases named greenroom_test_<marker>_* on a server.
func dropRun(kind, rawURL, marker string, kept map[string]bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	prefix := "greenroom_test_" + marker + "_"
	switch kind {
	case "postgres":
		c, err := pgx.Connect(ctx, rawURL)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		// Wait until the run's admin session is gone: a CREATE DATABASE it
		// was running when the test process died finishes first.
		for {
			var free bool
			if err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", pgLockRun, key32(marker)).Scan(&free); err != nil {
				return err
			}
			if free {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("run %s still holds its lock: %w", marker, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
		rows, err := c.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		return dropAll(names, kept, func() (exec func(string) error, done func(), err error) {
			// A connection per worker: a session runs one DROP at a time.
			wc, err := pgx.Connect(ctx, rawURL)
			if err != nil {
				return nil, nil, err
			}
			return func(n string) error {
					_, err := wc.Exec(ctx, "DROP DATABASE IF EXISTS "+pgIdent(n)+" WITH (FORCE)")
					return err
				}, func() {
					_ = wc.Close(ctx)
				}, nil
		})
	case "mysql":
		_, cfg, err := parseMySQLURL(rawURL)
		if err != nil {
			return err
		}
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return err
		}
		db := sql.OpenDB(conn)
		defer db.Close()
		db.SetMaxOpenConns(1)
		// Wait until the run's admin sessions are gone (see above).
		for _, id := range allIDs {
			if id.Dialect() != DialectMySQL {
				continue
			}
			var got sql.NullInt64
			if err := db.QueryRowContext(ctx, "SELECT GET_LOCK(?, 30)", runLockName(marker, id)).Scan(&got); err != nil || got.Int64 != 1 {
				return fmt.Errorf("run %s still holds its lock: %v", marker, err)
			}
		}
		rows, err := db.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ?) = ?", len(prefix), prefix)
		if err != nil {
			return err
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			names = append(names, n)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		db.SetMaxOpenConns(reaperDropWorkers)
		return dropAll(names, kept, func() (func(string) error, func(), error) {
			return func(n string) error {
				_, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+myIdent(n))
				return err
			}, func() {}, nil
		})
	}
	return nil
}

// reaperDropWorkers is how many databases the reaper drops at once: a drop
// waits mostly for the server's file system (three PostgreSQL drops took
// 96 ms together and 240 ms one after another here), and go test waits
// for the reaper before it reports the package.
const reaperDropWorkers = 4

// dropAll drops names but kept ones with up to reaperDropWorkers workers,
// each with the exec function open returns. It drops every database it can
// and reports every failure, each naming its database.
func dropAll(names []string, kept map[string]bool, open func() (exec func(string) error, done func(), err error)) error {
	var todo []string
	for _, n := range names {
		if !kept[n] {
			todo = append(todo, n)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	// Connections first: a worker that cannot connect must not take names.
	var (
		execs []func(string) error
		errs  []error
	)
	for range min(reaperDropWorkers, len(todo)) {
		exec, done, err := open()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		defer done()
		execs = append(execs, exec)
	}
	if len(execs) == 0 {
		return errors.Join(errs...)
	}
	errs = nil // enough workers connected
	work := make(chan string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, exec := range execs {
		wg.Go(func() {
			for n := range work {
				if err := exec(n); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("dropping %s: %w", n, err))
					mu.Unlock()
				}
			}
		})
	}
	for _, n := range todo {
		work <- n
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}
