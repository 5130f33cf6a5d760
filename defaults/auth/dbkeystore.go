package auth

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

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

// Budget of database lookups of unknown kids, per plugin and instance:
// at most keyLookupBurst at once, then one per keyLookupEvery. Anyone can
// send a token with a made-up kid naming a plugin of this backend, and
// every unknown kid costs a query on the plugin's own pool (a handful of
// connections that the plugin needs for its own work), so forged tokens
// must not be able to turn into an unbounded stream of queries. Genuine
// new kids are rare (an instance starting or rotating, once per
// rotationPeriod each), and each is looked up once, then cached.
const (
	keyLookupBurst = 16
	keyLookupEvery = time.Second
)

// dbStore publishes the public keys of one plugin in the plugin's own
// database, table greenroom_auth_public_keys. It opens the database and
// creates the table on first use. Keys found there are cached until they
// expire, so a token verifies with one database query per new key at most.
type dbStore struct {
	pluginID string
	db       core.Database
	now      func() time.Time

	initMu sync.Mutex
	sqlDB  *sql.DB // set once the table exists

	group  singleflight.Group // lookups by kid, and "keys" for the list
	mu     sync.Mutex
	cache  map[string]publishedKey // by kid: keys found, until they expire
	budget fetchBudget
}

func newDBStore(pluginID string, db core.Database, now func() time.Time) *dbStore {
	return &dbStore{
		pluginID: pluginID,
		db:       db,
		now:      now,
		cache:    make(map[string]publishedKey),
		budget:   fetchBudget{burst: keyLookupBurst, every: keyLookupEvery},
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
	// Package migrate serializes the migrations of one pool, and of
	// several processes on PostgreSQL and MySQL, but not of two pools on
	// one SQLite file (two instances sharing it): the loser of such a race
	// fails with "table ... already exists", at the version table or at
	// the key table. Every such failure means another instance got
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

// errNoLookupBudget is returned for an unknown kid when the lookup budget
// is spent.
var errNoLookupBudget = errors.New("too many lookups of unknown key ids")

func (s *dbStore) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	now := s.now()
	s.mu.Lock()
	e, ok := s.cache[kid]
	s.mu.Unlock()
	if ok {
		if !now.Before(e.expires) {
			return jose.JSONWebKey{}, errUnknownKey
		}
		return e.key, nil
	}
	// Concurrent tokens with one new kid share one query and one unit of
	// budget.
	v, err, _ := s.group.Do("kid:"+kid, func() (any, error) {
		s.mu.Lock()
		if e, ok := s.cache[kid]; ok {
			s.mu.Unlock()
			return e, nil
		}
		spent := s.budget.take(now)
		s.mu.Unlock()
		if !spent {
			return nil, errNoLookupBudget
		}
		return s.lookup(context.WithoutCancel(ctx), kid)
	})
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	e = v.(publishedKey)
	if !now.Before(e.expires) {
		return jose.JSONWebKey{}, errUnknownKey
	}
	return e.key, nil
}

// lookup reads the key kid from the database and caches it. An expired
// row is deleted.
func (s *dbStore) lookup(ctx context.Context, kid string) (publishedKey, error) {
	db, err := s.open(ctx)
	if err != nil {
		return publishedKey{}, err
	}
	var data string
	var expires int64
	err = db.QueryRowContext(ctx, s.q("SELECT public_key, expires_at FROM "+keyTable+" WHERE plugin_id = ? AND kid = ?"), s.pluginID, kid).Scan(&data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return publishedKey{}, errUnknownKey
	}
	if err != nil {
		return publishedKey{}, s.dbError("reading a public key", err)
	}
	e, err := s.decode(kid, data, expires)
	if err != nil {
		return publishedKey{}, err
	}
	if !s.now().Before(e.expires) {
		if _, err := db.ExecContext(ctx, s.q("DELETE FROM "+keyTable+" WHERE plugin_id = ? AND kid = ?"), s.pluginID, kid); err != nil {
			return publishedKey{}, s.dbError("deleting an expired key", err)
		}
		return publishedKey{}, errUnknownKey
	}
	s.mu.Lock()
	s.cache[kid] = e
	s.mu.Unlock()
	return e, nil
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

// keys reads every unexpired key of the plugin, from every instance.
// Concurrent calls share one query, so a flood of JWKS requests costs at
// most one query at a time; a caller that joins a query already under way
// may miss a key that another instance published while it ran (never a key
// this instance published, which is in the database before the key
// signs anything, nor one whose token the caller received before asking).
func (s *dbStore) keys(ctx context.Context) ([]jose.JSONWebKey, error) {
	v, err, _ := s.group.Do("keys", func() (any, error) {
		return s.list(context.WithoutCancel(ctx))
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]jose.JSONWebKey)), nil
}

func (s *dbStore) list(ctx context.Context) ([]jose.JSONWebKey, error) {
	db, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, s.q("SELECT kid, public_key, expires_at FROM "+keyTable+" WHERE plugin_id = ? AND expires_at > ?"), s.pluginID, s.now().UnixMilli())
	if err != nil {
		return nil, s.dbError("listing public keys", err)
	}
	defer rows.Close()
	var out []jose.JSONWebKey
	for rows.Next() {
		var kid, data string
		var expires int64
		if err := rows.Scan(&kid, &data, &expires); err != nil {
			return nil, s.dbError("listing public keys", err)
		}
		e, err := s.decode(kid, data, expires)
		if err != nil {
			return nil, err
		}
		out = append(out, e.key)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError("listing public keys", err)
	}
	sortKeys(out)
	return out, nil
}

// sortKeys orders keys by kid, so that every instance serves one JWKS.
func sortKeys(keys []jose.JSONWebKey) {
	slices.SortFunc(keys, func(a, b jose.JSONWebKey) int { return strings.Compare(a.KeyID, b.KeyID) })
}
