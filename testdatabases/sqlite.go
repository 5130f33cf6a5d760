package testdatabases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers database/sql driver "sqlite"
)

// sqliteEngine gives every test its own database file, written from an
// image of the migrated template (one per migration hash and run). The
// file is a real database: every connection, transaction and statement
// behaves as in production, and nothing needs resetting.
type sqliteEngine struct {
	dir    string
	mu     sync.Mutex
	images map[string]*sqliteImage
}

type sqliteImage struct {
	once  sync.Once
	data  []byte
	err   error
	start sync.Once
	ready chan prepared
}

// sqlitePragmas are applied to every connection. As in production
// (package defaults/database), transactions begin IMMEDIATE: a transaction
// that reads and then writes would otherwise fail at once with
// SQLITE_BUSY, without waiting for the busy timeout, when another
// connection (of this pool or of another one opened with DB.DriverDSN)
// wrote in between. The file itself is in WAL mode (see image), so readers
// do not wait for a writer.
const sqlitePragmas = "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_txlock=immediate"

func newSQLiteEngine(m *manager) (*sqliteEngine, error) {
	base := os.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "greenroom_probe_"); err == nil {
			f.Close()
			os.Remove(f.Name())
			base = "/dev/shm"
		}
	}
	reapDeadDirs(base)
	dir := filepath.Join(base, "greenroom_test_"+m.runMarker())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := lockDir(dir); err != nil {
		return nil, err
	}
	m.registerDir(dir)
	return &sqliteEngine{dir: dir, images: map[string]*sqliteImage{}}, nil
}

func (e *sqliteEngine) imageFor(hash string) *sqliteImage {
	e.mu.Lock()
	defer e.mu.Unlock()
	im := e.images[hash]
	if im == nil {
		im = &sqliteImage{}
		e.images[hash] = im
	}
	return im
}

func (e *sqliteEngine) image(hash string, mig Migrator) ([]byte, error) {
	im := e.imageFor(hash)
	im.once.Do(func() {
		path := filepath.Join(e.dir, "template_"+hash+".db")
		os.Remove(path)
		// The template is thrown away if the process dies: no journal file
		// and no fsync (neither is stored in the image), which makes
		// migrating it about three times faster.
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(MEMORY)&_pragma=synchronous(OFF)")
		if err != nil {
			im.err = err
			return
		}
		if mig != nil {
			im.err = mig.Migrate(context.Background(), db, DialectSQLite)
		} else {
			_, im.err = db.Exec("PRAGMA user_version = 0")
		}
		if im.err == nil {
			// WAL, as production runs SQLite, is recorded in the file's
			// header: every copy opens in WAL mode without a rewrite, and
			// its readers do not wait for a writer. Closing the last
			// connection checkpoints the WAL into the file.
			_, im.err = db.Exec("PRAGMA journal_mode=WAL")
		}
		if cerr := db.Close(); im.err == nil {
			im.err = cerr
		}
		if im.err == nil {
			im.data, im.err = os.ReadFile(path)
		}
		os.Remove(path)
		if im.err != nil {
			im.err = fmt.Errorf("building the sqlite template for migration hash %s: %w", hash, im.err)
		}
	})
	return im.data, im.err
}

// prepared is a database file with an open connection, made ahead of need.
type prepared struct {
	conn driver.Conn
	path string
	name string
	err  error
}

// sqliteDriver is modernc.org/sqlite's driver, which has no exported
// constructor; sql.Open does not connect.
var sqliteDriver = sync.OnceValue(func() driver.Driver {
	db, err := sql.Open("sqlite", "")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	return db.Driver()
})

func (e *sqliteEngine) source(cfg config) (source, error) {
	hash, err := migrationHash(cfg.migrator)
	if err != nil {
		return nil, err
	}
	im := e.imageFor(hash)
	im.start.Do(func() {
		// One producer per CPU: opening a file (reading its schema) is
		// CPU-bound, and tests running in parallel take files as fast as
		// all CPUs can make them. Each producer holds at most one file
		// beyond the channel's.
		n := runtime.GOMAXPROCS(0)
		im.ready = make(chan prepared, n)
		for range n {
			go e.fill(im, hash, cfg.migrator)
		}
	})
	return &sqliteSource{e: e, im: im}, nil
}

// sqliteSource hands out the files that fill prepares. Nothing bounds how
// many files a run holds (each is a file and an open connection, no server
// session), so a caller never waits for another test to end: it waits at
// most for one file to be written.
type sqliteSource struct {
	e  *sqliteEngine
	im *sqliteImage
}

func (s *sqliteSource) driver() driver.Driver { return sqliteDriver() }
func (s *sqliteSource) maxIdleConns() int     { return 0 }

func (s *sqliteSource) acquire(ctx context.Context) (lease, error) {
	var p prepared
	select {
	case p = <-s.im.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if p.err != nil {
		return nil, p.err
	}
	l := &sqliteLease{e: s.e, p: p}
	l.w = &warmConnector{conn: p.conn, next: dsnConnector{sqliteDriver(), l.dsn()}}
	return l, nil
}

// fill keeps prepared databases ready: the file is written from the
// template image and one connection is opened (which reads the schema).
func (e *sqliteEngine) fill(im *sqliteImage, hash string, mig Migrator) {
	for {
		img, err := e.image(hash, mig)
		if err != nil {
			for {
				im.ready <- prepared{err: err}
			}
		}
		name := fmt.Sprintf("greenroom_test_%s_%s_%d.db", theManager.runMarker(), hash[:8], theManager.seq.Add(1))
		path := filepath.Join(e.dir, name)
		p := prepared{path: path, name: name}
		if err := os.WriteFile(path, img, 0o600); err != nil {
			p.err = fmt.Errorf("writing %s: %w", path, err)
		} else {
			l := &sqliteLease{p: p}
			p.conn, p.err = sqliteDriver().Open(l.dsn())
			if p.err == nil {
				// A connection's first statement reads the schema; here,
				// not in the test.
				p.err = p.conn.(driver.Pinger).Ping(context.Background())
			}
		}
		im.ready <- p
	}
}

func removeSidecars(path string) {
	for _, s := range []string{"-wal", "-shm", "-journal"} {
		os.Remove(path + s)
	}
}

// sqliteLease is one test's file. Both isolation tiers are the same: the
// file and its connections are real.
type sqliteLease struct {
	e *sqliteEngine
	p prepared
	w *warmConnector
}

func (l *sqliteLease) dsn() string {
	u := url.URL{Scheme: "file", Opaque: l.p.path}
	return u.String() + "?" + sqlitePragmas
}

func (l *sqliteLease) connector() driver.Connector { return l.w }
func (l *sqliteLease) name() string                { return l.p.path }
func (l *sqliteLease) share(context.Context) error { return nil }
func (l *sqliteLease) url() string                 { return l.dsn() }
func (l *sqliteLease) driverDSN() (string, string) { return "sqlite", l.dsn() }

func (l *sqliteLease) release(keep bool, logf func(string, ...any)) {
	if c := l.w.take(); c != nil {
		_ = c.Close()
	}
	p := l.p
	if keep {
		// Same file system as the run directory, so rename works.
		kept := filepath.Join(filepath.Dir(l.e.dir), "greenroom_kept_"+p.name)
		if err := os.Rename(p.path, kept); err == nil {
			removeSidecars(p.path)
			logf("testdatabases: kept the sqlite database; open it with: sqlite3 %s", kept)
			return
		}
	}
	go func() {
		os.Remove(p.path)
		removeSidecars(p.path)
	}()
}

// reapDeadDirs removes run directories whose run is no longer alive (its
// lock file is not locked).
func reapDeadDirs(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, "greenroom_test_*"))
	for _, d := range dirs {
		if !strings.HasPrefix(filepath.Base(d), "greenroom_test_") {
			continue
		}
		if dirIsDead(d) {
			os.RemoveAll(d)
		}
	}
}
