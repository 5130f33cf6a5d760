package testdatabases

import (
	"context"
	"crypto/rand"
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
	// source checks cfg and returns where its databases come from,
	// starting their preparation in the background.
	source(cfg config) (source, error)
}

// errUnavailable reports an engine that cannot be used here; tests skip
// (or fail under CI=true).
type errUnavailable struct {
	msg string
	err error // the cause, if any
}

func (e errUnavailable) Error() string { return e.msg }
func (e errUnavailable) Unwrap() error { return e.err }

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

func (m *manager) engine(id ID, provider ContainerProvider) (engine, error) {
	if id != SQLite3 && provider == nil && os.Getenv(id.EnvVar()) == "" {
		// Not cached: a later Set may bring a container provider.
		return nil, noProvider(id)
	}
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
func (m *manager) resolve(id ID, provider ContainerProvider) (engine, error) {
	if id == SQLite3 {
		return newSQLiteEngine(m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	url := os.Getenv(id.EnvVar())
	source := id.EnvVar()
	if url == "" {
		u, err := startContainer(ctx, id, provider)
		if err != nil {
			return nil, err
		}
		url, source = u, "container "+containerName(id)+" ("+provider.Name()+")"
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
	return newServerEngine(ctx, id, ops), nil
}

// serverOps is what PostgreSQL and MySQL/MariaDB implement.
type serverOps interface {
	// template builds or finds the template for a migration hash.
	template(ctx context.Context, hash string, m Migrator) (tmpl, error)
	// create clones tmpl into a new database and connects to it, inside
	// the outer transaction of Rollback mode (begun, or to be begun with
	// the first statement, see outerStarted).
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

	// Clone mode (clone.go).

	// createClone clones tmpl into a new database with one plain
	// connection (no outer transaction), made by cloneConnector.
	createClone(ctx context.Context, t tmpl, name string) (*slot, error)
	// cloneConnector opens connections to the database of s.
	cloneConnector(s *slot) driver.Connector
	// endSessions ends the sessions on the database of s that hold
	// server-wide state, before the test ends.
	endSessions(ctx context.Context, s *slot) error
	// dropClone ends every session on the database of s and drops it.
	dropClone(ctx context.Context, s *slot)
	// keepClone marks the database of s so that no reaper drops it and
	// returns its URL.
	keepClone(ctx context.Context, s *slot) (string, error)
	// capacity reads the server's connection limit and use.
	capacity(ctx context.Context) (capacity, error)
	// tooManyConnections reports whether err is the server refusing a
	// connection because it has too many.
	tooManyConnections(err error) bool
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

// capacity is what the server said about connections when the engine was
// resolved.
type capacity struct {
	max      int // max_connections
	reserved int // kept for superusers
	inUse    int // sessions open then
}

// serverEngine hands out databases of a PostgreSQL or MySQL/MariaDB server
// from pools, one per migration hash and isolation tier.
//
// A pool keeps poolSize databases warm (GREENROOM_TEST_DATABASE_POOL_SIZE)
// but is not bounded by it: while callers wait and nothing is being made
// for them, it makes more, up to the engine's cap, which bounds the
// databases (each with one server session) that all pools of the engine
// hold: half of the connections the server had free when the engine was
// resolved, or GREENROOM_TEST_DATABASE_POOL_MAX. A caller that waits while
// the cap is reached and nothing is being made, recycled or released for
// it gets an explanation after GREENROOM_TEST_DATABASE_POOL_WAIT (2m).
type serverEngine struct {
	id     ID
	ops    serverOps
	wait   time.Duration // how long a caller may wait with nothing in flight
	capWhy string        // where cap comes from, for messages

	mu      sync.Mutex    // guards everything below and every pool's state
	changed chan struct{} // closed and replaced when a pool changes
	cap     int           // bound of total
	total   int           // databases of every pool: ready, in use, being made or recycled
	pools   map[poolKey]*pool
	tmpls   map[string]*tmplEntry
}

type poolKey struct {
	hash  string
	clone bool
}

type tmplEntry struct {
	once sync.Once
	t    tmpl
	err  error
}

// Defaults of the pool bounds.
const (
	defaultPoolWait = 2 * time.Minute
	poolMaxEnv      = "GREENROOM_TEST_DATABASE_POOL_MAX"
	poolWaitEnv     = "GREENROOM_TEST_DATABASE_POOL_WAIT"
)

func newServerEngine(ctx context.Context, id ID, ops serverOps) *serverEngine {
	e := &serverEngine{id: id, ops: ops, wait: defaultPoolWait, changed: make(chan struct{}),
		pools: map[poolKey]*pool{}, tmpls: map[string]*tmplEntry{}}
	if d, err := time.ParseDuration(os.Getenv(poolWaitEnv)); err == nil && d > 0 {
		e.wait = d
	}
	if n := envInt(poolMaxEnv, 0); n > 0 {
		e.cap, e.capWhy = n, poolMaxEnv+"="+strconv.Itoa(n)
		return e
	}
	c, err := ops.capacity(ctx)
	if err != nil {
		// Unknown: PostgreSQL's default max_connections is 100.
		e.cap = 32
		e.capWhy = fmt.Sprintf("a default, as the server's max_connections could not be read (%v)", err)
		return e
	}
	free := c.max - c.reserved - c.inUse
	e.cap = max(1, free/2)
	e.capWhy = fmt.Sprintf("half of the connections the server had free: max_connections %d, %d reserved, %d in use", c.max, c.reserved, c.inUse)
	return e
}

func (e *serverEngine) template(ctx context.Context, hash string, m Migrator) (tmpl, error) {
	e.mu.Lock()
	te := e.tmpls[hash]
	if te == nil {
		te = &tmplEntry{}
		e.tmpls[hash] = te
	}
	e.mu.Unlock()
	te.once.Do(func() {
		te.t, te.err = e.ops.template(ctx, hash, m)
		if te.err != nil {
			te.err = fmt.Errorf("building the %s template for migration hash %s: %w (fix the migration; the template is rebuilt by the next test binary)", e.id, hash, te.err)
		}
	})
	return te.t, te.err
}

// notify wakes waiters; e.mu held.
func (e *serverEngine) notify() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *serverEngine) source(cfg config) (source, error) {
	hash, err := migrationHash(cfg.migrator)
	if err != nil {
		return nil, err
	}
	k := poolKey{hash, cfg.isolation == Clone}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.pools[k]
	if p == nil {
		p = &pool{e: e, hash: hash, migrator: cfg.migrator, clone: k.clone, warm: e.ops.poolSize()}
		e.pools[k] = p
		p.grow(2) // fill ahead
	}
	return p, nil
}

// evict drops a ready database of another pool than p to make room for p;
// e.mu held. It reports whether it did.
func (e *serverEngine) evict(p *pool) bool {
	for _, q := range e.pools {
		if q == p || len(q.ready) == 0 {
			continue
		}
		s := q.ready[0]
		q.ready = q.ready[1:]
		q.total--
		e.total--
		q.dropLater(s)
		return true
	}
	return false
}

func dialectOf(id ID) txmux.Dialect {
	if id.Dialect() == DialectMySQL {
		return txmux.MySQL
	}
	return txmux.Postgres
}

// pool keeps per-test databases of one migration hash and isolation tier
// ready before tests ask for them, recycles them after use (Rollback) or
// drops them (Clone). Its state is guarded by e.mu.
type pool struct {
	e        *serverEngine
	hash     string
	migrator Migrator
	clone    bool
	warm     int // databases kept ready or recycled when nobody waits

	ready     []*slot
	total     int // ready + in use + being made or recycled
	creating  int
	recycling int
	waiting   int
	lastErr   error
	errGen    int

	bg sync.WaitGroup // background recycling and drops, for tests
}

func (p *pool) driver() driver.Driver { return p.e.ops.driver() }

// maxIdleConns: Rollback connections are virtual connections on one
// session, cheap to keep; Clone connections are server sessions.
func (p *pool) maxIdleConns() int {
	if p.clone {
		return 0
	}
	return 16
}

// grow starts up to n creations within the engine's cap and returns how
// many it started; e.mu held.
func (p *pool) grow(n int) int {
	started := 0
	for ; started < n && p.e.total < p.e.cap; started++ {
		p.total++
		p.e.total++
		p.creating++
		// Numbered process-wide, so names are unique across engines and
		// servers of the run (the reaper keeps kept databases by name).
		name := fmt.Sprintf("greenroom_test_%s_%s_%d", theManager.runMarker(), p.hash[:8], theManager.seq.Add(1))
		go p.create(name)
	}
	return started
}

func (p *pool) create(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t, err := p.e.template(ctx, p.hash, p.migrator)
	var s *slot
	if err == nil {
		if p.clone {
			s, err = p.e.ops.createClone(ctx, t, name)
		} else {
			s, err = p.e.ops.create(ctx, t, name)
		}
		if err != nil {
			err = fmt.Errorf("preparing a database: %w (is the server up, and may the user create databases?)", err)
		}
	}
	e := p.e
	e.mu.Lock()
	defer e.mu.Unlock()
	p.creating--
	switch {
	case err == nil:
		p.lastErr = nil
		p.ready = append(p.ready, s)
	case e.ops.tooManyConnections(err) && e.total > 1:
		// Other clients took the connections the cap counted on: hold no
		// more than now, and let waiters wait for a database to come back.
		p.total--
		e.total--
		e.cap = e.total
		e.capWhy = fmt.Sprintf("what the server accepted before refusing more connections (%v)", err)
	default:
		p.total--
		e.total--
		p.lastErr = err
		p.errGen++
	}
	e.notify()
}

func (p *pool) acquire(ctx context.Context) (lease, error) {
	s, err := p.acquireSlot(ctx)
	if err != nil {
		return nil, err
	}
	if p.clone {
		return &cloneLease{p: p, s: s, w: &warmConnector{conn: s.phys, next: p.e.ops.cloneConnector(s)}}, nil
	}
	e := p.e
	if err := e.ops.freshen(ctx, s); err != nil {
		e.ops.drop(context.Background(), s)
		p.discard()
		return nil, err
	}
	sess := txmux.NewSession(s.phys, dialectOf(e.id), e.ops.hooks(s), e.ops.outerStarted())
	return &serverLease{p: p, s: s, sess: sess, conn: sess.Connector(e.ops.driver())}, nil
}

func (p *pool) acquireSlot(ctx context.Context) (*slot, error) {
	e := p.e
	e.mu.Lock()
	defer e.mu.Unlock()
	p.waiting++
	defer func() { p.waiting-- }()
	gen := p.errGen
	var (
		stuck   *time.Timer // runs while nothing is in flight for p
		expired bool
	)
	defer func() {
		if stuck != nil {
			stuck.Stop()
		}
	}()
	for {
		if n := len(p.ready); n > 0 {
			s := p.ready[n-1]
			p.ready = p.ready[:n-1]
			p.ahead()
			return s, nil
		}
		if p.errGen != gen && p.creating == 0 && p.lastErr != nil {
			return nil, p.lastErr
		}
		// Make a database for every caller that nothing is on its way for.
		if need := p.waiting - p.creating - p.recycling; need > 0 {
			need -= p.grow(need)
			for need > 0 && e.evict(p) {
				need -= p.grow(need)
			}
		}
		if p.creating == 0 && p.recycling == 0 {
			if p.total == 0 && p.lastErr != nil {
				return nil, p.lastErr
			}
			if expired {
				return nil, p.exhausted()
			}
			if stuck == nil {
				stuck = time.NewTimer(e.wait)
			}
		} else if stuck != nil {
			stuck.Stop()
			stuck, expired = nil, false
		}
		var timeout <-chan time.Time
		if stuck != nil {
			timeout = stuck.C
		}
		ch := e.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-timeout:
			expired = true
		case <-ctx.Done():
			e.mu.Lock()
			return nil, fmt.Errorf("waiting for a prepared %s database: %w", e.id, ctx.Err())
		}
		e.mu.Lock()
	}
}

// ahead starts preparing databases for the next callers after one was
// taken; e.mu held.
func (p *pool) ahead() {
	if p.clone {
		// Clones are used once: keep warm of them on the way.
		if n := p.warm - len(p.ready) - p.creating; n > 0 {
			p.grow(n)
		}
		return
	}
	// Used databases come back: keep one ready ahead while the pool is
	// smaller than warm.
	if len(p.ready) == 0 && p.creating == 0 && p.total < p.warm {
		p.grow(1)
	}
}

// exhausted explains why a caller waited in vain; e.mu held.
func (p *pool) exhausted() error {
	e := p.e
	inUse, ready := 0, 0
	for _, q := range e.pools {
		inUse += q.total - len(q.ready) - q.creating - q.recycling
		ready += len(q.ready)
	}
	return fmt.Errorf("no %s database became free for %v: this test binary holds %d %s databases, its cap (%s), "+
		"%d of them taken by tests that have not ended and %d ready for tests with other migrations or isolation; "+
		"tests that took a database and then paused in t.Parallel() (or wait for their subtests) keep theirs while the tests that wait here hold the parallel slots. "+
		"Fix: use the database only after t.Parallel() (Init and Each take it at first use, so do not query it, or call Name or ConnectionString, before t.Parallel), "+
		"run with a lower -parallel, or raise the cap with %s (and the server's max_connections); %s sets this wait",
		e.id, e.wait, e.total, e.id, e.capWhy, inUse, ready, poolMaxEnv, poolWaitEnv)
}

// release recycles a used Rollback database in the background.
func (p *pool) release(s *slot, st txmux.State) {
	e := p.e
	e.mu.Lock()
	p.recycling++
	e.mu.Unlock()
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err := e.ops.recycle(ctx, s, st)
		if err != nil {
			e.ops.drop(ctx, s)
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		p.recycling--
		switch {
		case err != nil:
			p.forget()
		case p.waiting == 0 && len(p.ready) >= p.warm:
			// The burst that grew the pool is over: give the connection back.
			p.total--
			e.total--
			p.dropLater(s)
		default:
			p.ready = append(p.ready, s)
		}
		e.notify()
	}()
}

// discard forgets a database that was dropped or kept and replaces it if
// someone waits.
func (p *pool) discard() {
	p.e.mu.Lock()
	defer p.e.mu.Unlock()
	p.forget()
	p.e.notify()
}

// forget is discard with e.mu held.
func (p *pool) forget() {
	p.total--
	p.e.total--
	if p.waiting > p.creating+p.recycling {
		p.grow(1)
	} else if len(p.ready) == 0 && p.creating == 0 && p.total < p.warm {
		p.grow(1)
	}
}

// dropLater drops s in the background; e.mu held, s already uncounted.
func (p *pool) dropLater(s *slot) {
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if p.clone {
			p.e.ops.dropClone(ctx, s)
		} else {
			p.e.ops.drop(ctx, s)
		}
	}()
}

// serverLease is a Rollback database: a session in an outer transaction.
type serverLease struct {
	p    *pool
	s    *slot
	sess *txmux.Session
	conn driver.Connector
}

func (l *serverLease) connector() driver.Connector { return l.conn }
func (l *serverLease) name() string                { return l.s.name }
func (l *serverLease) share(ctx context.Context) error {
	return l.sess.GoDirect(ctx, "the connection string was handed out")
}
func (l *serverLease) url() string                 { return l.p.e.ops.url(l.s) }
func (l *serverLease) driverDSN() (string, string) { return l.p.e.ops.driverDSN(l.s) }

func (l *serverLease) release(keep bool, logf func(string, ...any)) {
	e, s := l.p.e, l.s
	st := l.sess.Close()
	// Server-wide state goes before the test ends, not in the background.
	e.ops.settle(context.Background(), s, st)
	if keep && st.Broken == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		u, err := e.ops.keep(ctx, s, st)
		if err == nil {
			logf("testdatabases: kept the %s database; connect with: %s", e.id, u)
			l.p.discard()
			return
		}
		logf("testdatabases: could not keep the %s database %s: %v", e.id, s.name, err)
	}
	l.p.release(s, st)
}

// cloneLease is a Clone database: a database of the test's own, with real
// connections, dropped after the test.
type cloneLease struct {
	p *pool
	s *slot
	w *warmConnector
}

func (l *cloneLease) connector() driver.Connector { return l.w }
func (l *cloneLease) name() string                { return l.s.name }
func (l *cloneLease) share(context.Context) error { return nil }
func (l *cloneLease) url() string                 { return l.p.e.ops.url(l.s) }
func (l *cloneLease) driverDSN() (string, string) { return l.p.e.ops.driverDSN(l.s) }
func (l *cloneLease) release(keep bool, logf func(string, ...any)) {
	e, s := l.p.e, l.s
	// database/sql owns (and has closed) the connection opened ahead if
	// the test took it.
	if c := l.w.take(); c != nil {
		_ = c.Close()
	}
	s.phys = nil
	// Server-wide state goes before the test ends, not in the background.
	if err := e.ops.endSessions(context.Background(), s); err != nil {
		logf("testdatabases: ending the sessions of the %s database %s: %v", e.id, s.name, err)
	}
	if keep {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		u, err := e.ops.keepClone(ctx, s)
		if err == nil {
			logf("testdatabases: kept the %s database; connect with: %s", e.id, u)
			l.p.discard()
			return
		}
		logf("testdatabases: could not keep the %s database %s: %v", e.id, s.name, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	l.p.forget()
	l.p.dropLater(s)
	e.notify()
}

// envInt reads a positive integer from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
