package testdatabases

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/greenroom-dev/greenroom/testdatabases/internal/txmux"
)

// theManager is the only process-wide state of the package: the engines
// resolved so far, their templates and their pools of prepared databases.
// It is created lazily, guarded by its mutex, and never exposed.
var theManager = &manager{engines: map[ID]*engineEntry{}}

type manager struct {
	seq     atomic.Int64 // numbers databases and files of the run
	mu      sync.Mutex
	engines map[ID]*engineEntry
	marker  string
	reaper  *reaperClient
}

type engineEntry struct {
	once sync.Once
	e    engine
	err  error
}

// engine hands out isolated databases of one engine.
type engine interface {
	open(ctx context.Context, cfg config) (*DB, error)
}

// errUnavailable reports an engine that cannot be used here; tests skip
// (or fail under CI=true).
type errUnavailable struct{ msg string }

func (e errUnavailable) Error() string { return e.msg }

// runMarker identifies this process in database names. Liveness of a marker
// is proven by a lock the process holds on each server (see reaper.go).
func (m *manager) runMarker() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.marker == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic(err)
		}
		m.marker = hex.EncodeToString(b[:])
	}
	return m.marker
}

func (m *manager) engine(id ID, provider string) (engine, error) {
	m.mu.Lock()
	en := m.engines[id]
	if en == nil {
		en = &engineEntry{}
		m.engines[id] = en
	}
	m.mu.Unlock()
	en.once.Do(func() { en.e, en.err = m.resolve(id, provider) })
	if en.err != nil {
		return nil, en.err
	}
	return en.e, nil
}

// resolve finds where engine id comes from: the environment variable, else
// a container, else it is unavailable.
func (m *manager) resolve(id ID, provider string) (engine, error) {
	if id == SQLite3 {
		return newSQLiteEngine(m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	url := os.Getenv(id.EnvVar())
	source := id.EnvVar()
	if url == "" {
		u, err := startContainer(ctx, id, provider, m.runMarker())
		if err != nil {
			return nil, err
		}
		url, source = u, "container "+containerName(id)
	}
	var (
		ops serverOps
		err error
	)
	switch id.Dialect() {
	case DialectPostgres:
		ops, err = newPostgresServer(ctx, id, url, m)
	case DialectMySQL:
		ops, err = newMySQLServer(ctx, id, url, m)
	}
	if err != nil {
		return nil, fmt.Errorf("%s (from %s): %w", id, source, err)
	}
	return &serverEngine{id: id, ops: ops, pools: map[string]*pool{}}, nil
}

// serverOps is what PostgreSQL and MySQL/MariaDB implement.
type serverOps interface {
	// template builds or finds the template for a migration hash.
	template(ctx context.Context, hash string, m Migrator) (tmpl, error)
	// create clones tmpl into a new database and connects to it.
	create(ctx context.Context, t tmpl, name string) (*slot, error)
	// recycle returns a used slot to its pristine state, or fails.
	recycle(ctx context.Context, s *slot, st txmux.State) error
	// freshen prepares a ready slot for the test that takes it.
	freshen(ctx context.Context, s *slot) error
	// settle undoes server-wide effects of the test at once (MySQL named
	// locks), before the database is recycled in the background.
	settle(ctx context.Context, s *slot, st txmux.State)
	// drop closes the slot's connection and drops its database.
	drop(ctx context.Context, s *slot)
	// keep commits what the test wrote, closes the connection and marks the
	// database so that no reaper drops it; returns its URL.
	keep(ctx context.Context, s *slot, st txmux.State) (string, error)
	url(s *slot) string
	driverDSN(s *slot) (string, string)
	driver() driver.Driver
	hooks(s *slot) txmux.Hooks
	outerStarted() bool
	poolSize() int
}

type tmpl interface{ hash() string }

// slot is one prepared per-test database with its warm physical connection.
type slot struct {
	name  string
	phys  driver.Conn
	t     tmpl
	begun time.Time // when the outer transaction began (PostgreSQL)
	// shadowed: the session carries TEMPORARY copies of the template's
	// tables that shadow the real ones (MySQL, see mysqlShadows).
	shadowed bool
}

type serverEngine struct {
	id    ID
	ops   serverOps
	mu    sync.Mutex
	pools map[string]*pool
}

func (e *serverEngine) pool(hash string, m Migrator) *pool {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.pools[hash]
	if p == nil {
		p = &pool{e: e, hash: hash, migrator: m, max: e.ops.poolSize(), changed: make(chan struct{})}
		e.pools[hash] = p
		p.mu.Lock()
		p.grow(2) // fill ahead
		p.mu.Unlock()
	}
	return p
}

func (e *serverEngine) open(ctx context.Context, cfg config) (*DB, error) {
	hash, err := migrationHash(cfg.migrator)
	if err != nil {
		return nil, err
	}
	p := e.pool(hash, cfg.migrator)
	s, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if err := e.ops.freshen(ctx, s); err != nil {
		e.ops.drop(context.Background(), s)
		p.discard()
		return nil, err
	}
	sess := txmux.NewSession(s.phys, dialectOf(e.id), e.ops.hooks(s), e.ops.outerStarted())
	db := sql.OpenDB(sess.Connector(e.ops.driver()))
	db.SetMaxIdleConns(16)
	l := &serverLease{e: e, s: s, sess: sess}
	d := &DB{DB: db, ID: e.id, Dialect: e.id.Dialect(), Name: s.name, lease: l}
	d.release = func(keep bool, logf func(string, ...any)) {
		_ = db.Close()
		st := sess.Close()
		// Server-wide state goes before the test ends, not in the background.
		e.ops.settle(context.Background(), s, st)
		if keep && st.Broken == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			u, err := e.ops.keep(ctx, s, st)
			if err == nil {
				logf("testdatabases: kept the %s database; connect with: %s", e.id, u)
				p.discard()
				return
			}
			logf("testdatabases: could not keep the %s database %s: %v", e.id, s.name, err)
		}
		p.release(s, st)
	}
	return d, nil
}

func dialectOf(id ID) txmux.Dialect {
	if id.Dialect() == DialectMySQL {
		return txmux.MySQL
	}
	return txmux.Postgres
}

type serverLease struct {
	e    *serverEngine
	s    *slot
	sess *txmux.Session
}

func (l *serverLease) share(ctx context.Context) error {
	return l.sess.GoDirect(ctx, "the connection string was handed out")
}
func (l *serverLease) url() string                 { return l.e.ops.url(l.s) }
func (l *serverLease) driverDSN() (string, string) { return l.e.ops.driverDSN(l.s) }

// pool keeps migrated per-test databases ready before tests ask for them,
// and recycles them after use.
type pool struct {
	e        *serverEngine
	hash     string
	migrator Migrator

	tmplOnce sync.Once
	tmpl     tmpl
	tmplErr  error

	mu       sync.Mutex
	ready    []*slot
	total    int // ready + in use + being created or recycled
	creating int
	waiting  int
	max      int
	lastErr  error
	errGen   int
	changed  chan struct{}
}

func (p *pool) template(ctx context.Context) (tmpl, error) {
	p.tmplOnce.Do(func() {
		p.tmpl, p.tmplErr = p.e.ops.template(ctx, p.hash, p.migrator)
		if p.tmplErr != nil {
			p.tmplErr = fmt.Errorf("building the %s template for migration hash %s: %w", p.e.id, p.hash, p.tmplErr)
		}
	})
	return p.tmpl, p.tmplErr
}

// notify wakes waiters; p.mu held.
func (p *pool) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// grow starts up to n slot creations within the pool's bound; p.mu held.
func (p *pool) grow(n int) {
	for i := 0; i < n && p.total < p.max; i++ {
		p.total++
		p.creating++
		// Numbered process-wide, so names are unique across engines and
		// servers of the run (the reaper keeps kept databases by name).
		name := fmt.Sprintf("greenroom_test_%s_%s_%d", theManager.runMarker(), p.hash[:8], theManager.seq.Add(1))
		go p.create(name)
	}
}

func (p *pool) create(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t, err := p.template(ctx)
	var s *slot
	if err == nil {
		s, err = p.e.ops.create(ctx, t, name)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.creating--
	if err != nil {
		p.total--
		p.lastErr = err
		p.errGen++
	} else {
		p.lastErr = nil
		p.ready = append(p.ready, s)
	}
	p.notify()
}

func (p *pool) acquire(ctx context.Context) (*slot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting++
	defer func() { p.waiting-- }()
	gen := p.errGen
	for {
		if n := len(p.ready); n > 0 {
			s := p.ready[n-1]
			p.ready = p.ready[:n-1]
			// Keep one database ready ahead of the next request.
			if len(p.ready) == 0 && p.creating == 0 {
				p.grow(1)
			}
			return s, nil
		}
		if p.errGen != gen && p.creating == 0 {
			return nil, p.lastErr
		}
		if p.creating < p.waiting {
			p.grow(p.waiting - p.creating)
		}
		if p.creating == 0 && p.total >= p.max && p.lastErr != nil && p.total == 0 {
			return nil, p.lastErr
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			p.mu.Lock()
			return nil, fmt.Errorf("waiting for a prepared %s database: %w", p.e.id, ctx.Err())
		}
		p.mu.Lock()
	}
}

// release recycles a used slot in the background.
func (p *pool) release(s *slot, st txmux.State) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err := p.e.ops.recycle(ctx, s, st)
		if err != nil {
			p.e.ops.drop(ctx, s)
			p.discard()
			return
		}
		p.mu.Lock()
		p.ready = append(p.ready, s)
		p.notify()
		p.mu.Unlock()
	}()
}

// discard forgets a slot that was dropped or kept and replaces it if
// someone waits.
func (p *pool) discard() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total--
	if p.waiting > p.creating || len(p.ready) == 0 {
		p.grow(1)
	}
	p.notify()
}

// envInt reads a positive integer from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
