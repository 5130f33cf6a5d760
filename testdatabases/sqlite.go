package testdatabases

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

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
	seq    atomic.Int64
}

type sqliteImage struct {
	once sync.Once
	data []byte
	err  error
}

// sqlitePragmas are applied to every connection.
const sqlitePragmas = "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)"

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

func (e *sqliteEngine) image(hash string, mig Migrator) ([]byte, error) {
	e.mu.Lock()
	im := e.images[hash]
	if im == nil {
		im = &sqliteImage{}
		e.images[hash] = im
	}
	e.mu.Unlock()
	im.once.Do(func() {
		path := filepath.Join(e.dir, "template_"+hash+".db")
		os.Remove(path)
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(DELETE)")
		if err != nil {
			im.err = err
			return
		}
		if mig != nil {
			im.err = mig.Migrate(context.Background(), db, DialectSQLite)
		} else {
			_, im.err = db.Exec("PRAGMA user_version = 0")
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

func (e *sqliteEngine) open(_ context.Context, cfg config) (*DB, error) {
	hash, err := migrationHash(cfg.migrator)
	if err != nil {
		return nil, err
	}
	img, err := e.image(hash, cfg.migrator)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("greenroom_test_%s_%s_%d.db", theManager.runMarker(), hash[:8], e.seq.Add(1))
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, img, 0o600); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	l := &sqliteLease{path: path}
	db, err := sql.Open("sqlite", l.dsn())
	if err != nil {
		return nil, err
	}
	d := &DB{DB: db, ID: SQLite3, Dialect: DialectSQLite, Name: path, lease: l}
	d.release = func(keep bool, logf func(string, ...any)) {
		_ = db.Close()
		if keep {
			// Checkpoint the WAL into the file so the copy is complete.
			if c, err := sql.Open("sqlite", l.dsn()); err == nil {
				_, _ = c.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
				c.Close()
			}
			kept := filepath.Join(os.TempDir(), "greenroom_kept_"+name)
			if err := os.Rename(path, kept); err == nil {
				removeSidecars(path)
				logf("testdatabases: kept the sqlite database; open it with: sqlite3 %s", kept)
				return
			}
		}
		os.Remove(path)
		removeSidecars(path)
	}
	return d, nil
}

func removeSidecars(path string) {
	for _, s := range []string{"-wal", "-shm", "-journal"} {
		os.Remove(path + s)
	}
}

type sqliteLease struct{ path string }

func (l *sqliteLease) dsn() string {
	u := url.URL{Scheme: "file", Opaque: l.path}
	return u.String() + "?" + sqlitePragmas
}

func (l *sqliteLease) share(context.Context) error { return nil }
func (l *sqliteLease) url() string                 { return l.dsn() }
func (l *sqliteLease) driverDSN() (string, string) { return "sqlite", l.dsn() }

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
