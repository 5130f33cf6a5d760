package auth

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/migrate"
	"github.com/greenroom-dev/greenroom/sqlkit"
)

// The key table and the table of its migrations, in the plugin's database.
const (
	keyTable          = "greenroom_auth_public_keys"
	keyMigrationTable = "greenroom_auth_migrations"
)

//go:embed migrations
var keyMigrations embed.FS

// Refreshes of the key list of a plugin, per instance. A token whose kid
// is not cached makes the instance re-read the plugin's whole key list (one
// query), at most once per keyRefreshEvery: anyone can send a token with a
// made-up kid naming a plugin of this backend, and each query runs on the
// plugin's own pool (a handful of connections that the plugin needs for
// its own work), so forged tokens cost at most one query per interval
// however many arrive, and a genuine new kid (an instance starting or
// rotating) is found by the next refresh. keysCacheFor is how long the
// list serves Auth.PublicServiceKeys (the JWKS endpoint) without a query:
// a key another instance published shows in this instance's JWKS at most
// keysCacheFor later; a key this instance published shows at once.
const (
	keyRefreshEvery = 200 * time.Millisecond
	keysCacheFor    = time.Second
	// keyListTimeout bounds one read of the key list: the callers that
	// wait for it are refused when it fails.
	keyListTimeout = 10 * time.Second
)

// dbStore publishes the public keys of one plugin in the plugin's own
// database, table greenroom_auth_public_keys. It opens the database and
// creates the table on first use. Keys found there are cached until they
// expire. A token with a kid not cached waits for a refresh of the whole
// key list that started after the token arrived (see [keyRefreshEvery]).
type dbStore struct {
	pluginID string
	db       core.Database
	now      func() time.Time // the keys' clock: creation and expiry

	// mono is the clock of refreshes (the monotonic wall clock, whatever
	// now is); every is the shortest interval between the starts of two
	// refreshes, and cacheFor how long a refresh serves keys.
	mono     func() time.Time
	every    time.Duration
	cacheFor time.Duration

	initMu sync.Mutex
	sqlDB  *sql.DB // set once the table exists

	mu    sync.Mutex
	cache map[string]publishedKey // by kid: keys listed, found or published here, until they expire
	bad   map[string]error        // by kid: the rows of the latest list that are not valid keys
	// pending is the next refresh, not started yet: every caller that
	// arrives before it starts shares it. running is the refresh under
	// way; a caller never joins it, as it may have read the table before
	// the caller's key was inserted.
	pending, running *keyRefresh
	lastStart        time.Time    // of the latest refresh, on mono
	listedAt         time.Time    // start of the latest successful refresh, on mono
	refreshes        atomic.Int64 // refreshes started, for tests

	// afterList, if set (by tests), runs in each refresh between the
	// query and the update of the cache.
	afterList func()
}

// keyRefresh is one read of the plugin's key list; done is closed when it
// has ended, with err set if it failed.
type keyRefresh struct {
	done chan struct{}
	err  error
}

func newDBStore(pluginID string, db core.Database, now func() time.Time) *dbStore {
	return &dbStore{
		pluginID: pluginID,
		db:       db,
		now:      now,
		mono:     time.Now,
		every:    keyRefreshEvery,
		cacheFor: keysCacheFor,
		cache:    make(map[string]publishedKey),
	}
}

func (s *dbStore) kind() string { return KeyStoreDatabase }

// forceMigrations is the plugin's database with MigrationsSkipped false:
// backend.database.skipMigrations is about the plugin's own migrations;
// the key table is the framework's and is created regardless.
type forceMigrations struct{ core.Database }

func (forceMigrations) MigrationsSkipped() bool { return false }

// open returns the plugin's pool, creating the key table the first time.
// Concurrent first calls wait for one initialization; a failed one is
// retried by the next call, so that a database that was down at the first
// token does not disable the plugin's tokens until a restart.
func (s *dbStore) open(ctx context.Context) (*sql.DB, error) {
	s.initMu.Lock()
	defer s.initMu.Unlock()
	if s.sqlDB != nil {
		return s.sqlDB, nil
	}
	var db core.Database = s.db
	if db.MigrationsSkipped() {
		db = forceMigrations{db}
	}
	// Package migrate serializes the migrations of every pool of this
	// process on one database, and of several processes on PostgreSQL and
	// MySQL, but not of two processes on one SQLite file: the loser of such
	// a race fails with "table ... already exists", at the version table or
	// at the key table. Every such failure means another process got
	// further, so a few more attempts find the work done.
	attempts := 1
	if db.Dialect() == core.DialectSQLite {
		attempts = 4
	}
	var err error
	for range attempts {
		if err = migrate.Up(ctx, db, keyMigrations, migrate.Dir("migrations"), migrate.Table(keyMigrationTable)); err == nil {
			break
		}
	}
	if err != nil {
		return nil, s.dbError("creating the table "+keyTable, err)
	}
	sqlDB, err := s.db.DB(ctx)
	if err != nil {
		return nil, s.dbError("opening the database", err)
	}
	s.sqlDB = sqlDB
	return sqlDB, nil
}

func (s *dbStore) dbError(what string, err error) error {
	return fmt.Errorf("auth: plugin '%s': database key store: %s in the plugin's database: %w; check the plugin's backend.database settings (the connection and the right to create tables), or set backend.auth.keyStore.type: memory to keep keys in memory (one instance only)", s.pluginID, what, err)
}

func (s *dbStore) q(query string) string { return sqlkit.Rebind(s.db.Dialect(), query) }

func (s *dbStore) publish(ctx context.Context, pub jose.JSONWebKey, created, expires time.Time) error {
	db, err := s.open(ctx)
	if err != nil {
		return err
	}
	data, err := json.Marshal(pub)
	if err != nil {
		return fmt.Errorf("auth: plugin '%s': encoding the public key: %w", s.pluginID, err)
	}
	now := s.now()
	// Expired keys of the plugin go first, whichever instance made them.
	if _, err := db.ExecContext(ctx, s.q("DELETE FROM "+keyTable+" WHERE plugin_id = ? AND expires_at <= ?"), s.pluginID, now.UnixMilli()); err != nil {
		return s.dbError("deleting expired keys", err)
	}
	if _, err := db.ExecContext(ctx, s.q("INSERT INTO "+keyTable+" (plugin_id, kid, public_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?)"),
		s.pluginID, pub.KeyID, string(data), created.UnixMilli(), expires.UnixMilli()); err != nil {
		return s.dbError("publishing a new public key", err)
	}
	s.mu.Lock()
	for kid, e := range s.cache {
		if !now.Before(e.expires) {
			delete(s.cache, kid)
		}
	}
	s.cache[pub.KeyID] = publishedKey{key: pub, expires: expires}
	s.mu.Unlock()
	return nil
}

// key returns the key kid: from the cache, else from a refresh of the key
// list that started after the call. A key published (on any instance)
// before the token naming it was minted is in the database when such a
// refresh reads it, so it is found however many other tokens with unknown
// kids arrive meanwhile; a made-up kid costs at most a share of one query
// per keyRefreshEvery.
func (s *dbStore) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	if k, ok, err := s.cached(kid); ok || err != nil {
		return k, err
	}
	if err := s.refresh(ctx); err != nil {
		return jose.JSONWebKey{}, err
	}
	if k, ok, err := s.cached(kid); ok || err != nil {
		return k, err
	}
	s.mu.Lock()
	err := s.bad[kid]
	s.mu.Unlock()
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	return jose.JSONWebKey{}, errUnknownKey
}

// cached returns the cached key kid; ok is false when it is not cached,
// and err is errUnknownKey when it is cached but expired.
func (s *dbStore) cached(kid string) (k jose.JSONWebKey, ok bool, err error) {
	now := s.now()
	s.mu.Lock()
	e, ok := s.cache[kid]
	s.mu.Unlock()
	if !ok {
		return jose.JSONWebKey{}, false, nil
	}
	if !now.Before(e.expires) {
		return jose.JSONWebKey{}, true, errUnknownKey
	}
	return e.key, true, nil
}

// refresh waits for a read of the key list that starts after the call,
// then returns its error. Callers share refreshes: at most one runs at a
// time, at most one more waits to start, and two start at least s.every
// apart. A caller whose ctx ends stops waiting; the refresh goes on for
// the others.
func (s *dbStore) refresh(ctx context.Context) error {
	s.mu.Lock()
	r := s.pending
	if r == nil {
		r = &keyRefresh{done: make(chan struct{})}
		s.pending = r
		go s.run(r, s.running)
	}
	s.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return fmt.Errorf("auth: plugin '%s': waiting for the key list: %w", s.pluginID, ctx.Err())
	}
}

// run starts r once prev (the refresh under way when r was made, or nil)
// has ended and s.every has passed since the previous start, then reads
// the key list into the cache.
func (s *dbStore) run(r, prev *keyRefresh) {
	if prev != nil {
		<-prev.done
	}
	s.mu.Lock()
	wait := s.lastStart.Add(s.every).Sub(s.mono())
	s.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		<-t.C
	}
	s.mu.Lock()
	s.pending, s.running = nil, r
	start := s.mono()
	s.lastStart = start
	s.mu.Unlock()
	s.refreshes.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), keyListTimeout)
	keys, bad, err := s.list(ctx)
	cancel()
	if s.afterList != nil {
		s.afterList()
	}
	now := s.now()
	s.mu.Lock()
	if err == nil {
		for kid, e := range s.cache {
			if !now.Before(e.expires) {
				delete(s.cache, kid)
			}
		}
		for _, e := range keys {
			s.cache[e.key.KeyID] = e
		}
		s.bad = bad
		s.listedAt = start
	}
	s.running = nil
	r.err = err
	s.mu.Unlock()
	close(r.done)
}

func (s *dbStore) decode(kid, data string, expires int64) (publishedKey, error) {
	var k jose.JSONWebKey
	if err := json.Unmarshal([]byte(data), &k); err != nil {
		return publishedKey{}, fmt.Errorf("auth: plugin '%s': database key store: the key %q in %s is not a JWK: %w", s.pluginID, kid, keyTable, err)
	}
	if k.KeyID != kid || !k.IsPublic() || !k.Valid() {
		return publishedKey{}, fmt.Errorf("auth: plugin '%s': database key store: the key %q in %s is not a public key with that kid; delete the row", s.pluginID, kid, keyTable)
	}
	if alg, err := keyAlgorithm(k.Key); err != nil || alg != jose.ES256 {
		return publishedKey{}, fmt.Errorf("auth: plugin '%s': database key store: the key %q in %s is not an ES256 key; delete the row", s.pluginID, kid, keyTable)
	}
	return publishedKey{key: k, expires: time.UnixMilli(expires)}, nil
}

// keys returns every unexpired key of the plugin, from every instance:
// the cache, when a refresh of the key list started less than s.cacheFor
// ago, else after a new refresh. Keys this instance published are in the
// cache from the moment they are published; a key another instance
// published shows at most s.cacheFor (plus one refresh) later. The cache
// holds every key of the last list plus those published or found since,
// so every instance serves the same JWKS once the lists agree.
func (s *dbStore) keys(ctx context.Context) ([]jose.JSONWebKey, error) {
	s.mu.Lock()
	fresh := !s.listedAt.IsZero() && s.mono().Sub(s.listedAt) < s.cacheFor
	s.mu.Unlock()
	if !fresh {
		if err := s.refresh(ctx); err != nil {
			return nil, err
		}
	}
	now := s.now()
	s.mu.Lock()
	out := make([]jose.JSONWebKey, 0, len(s.cache))
	for _, e := range s.cache {
		if now.Before(e.expires) {
			out = append(out, e.key)
		}
	}
	s.mu.Unlock()
	sortKeys(out)
	return out, nil
}

// list reads every unexpired key of the plugin from the database. Rows
// that are not valid keys are left out, with their error in bad, so that
// one bad row refuses only the tokens of its kid.
func (s *dbStore) list(ctx context.Context) (keys []publishedKey, bad map[string]error, err error) {
	db, err := s.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.QueryContext(ctx, s.q("SELECT kid, public_key, expires_at FROM "+keyTable+" WHERE plugin_id = ? AND expires_at > ?"), s.pluginID, s.now().UnixMilli())
	if err != nil {
		return nil, nil, s.dbError("listing public keys", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kid, data string
		var expires int64
		if err := rows.Scan(&kid, &data, &expires); err != nil {
			return nil, nil, s.dbError("listing public keys", err)
		}
		e, err := s.decode(kid, data, expires)
		if err != nil {
			if bad == nil {
				bad = make(map[string]error)
			}
			bad[kid] = err
			continue
		}
		keys = append(keys, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.dbError("listing public keys", err)
	}
	return keys, bad, nil
}

// sortKeys orders keys by kid, so that every instance serves one JWKS.
func sortKeys(keys []jose.JSONWebKey) {
	slices.SortFunc(keys, func(a, b jose.JSONWebKey) int { return strings.Compare(a.KeyID, b.KeyID) })
}
