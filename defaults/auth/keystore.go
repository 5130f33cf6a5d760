package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/core"
)

// Key store types, the values of backend.auth.keyStore.type.
const (
	// KeyStoreDatabase publishes every instance's public service keys in
	// the plugin's own database, so that all instances (replicas) of a
	// backend verify each other's tokens. The default.
	KeyStoreDatabase = "database"
	// KeyStoreMemory keeps the public service keys in the memory of one
	// instance: tokens issued by another instance are refused.
	KeyStoreMemory = "memory"
)

const (
	// DefaultKeyRotationPeriod is the default of
	// backend.auth.keyStore.rotationPeriod: how long an instance signs
	// with one service key before it makes a new one.
	DefaultKeyRotationPeriod = time.Hour
	// minKeyRotationPeriod is the smallest rotationPeriod the config
	// accepts; [WithKeyRotationPeriod] accepts any positive period.
	minKeyRotationPeriod = time.Minute
)

// KeyRotator is implemented by the Auth services that [NewAuth] and
// [AuthFactory] return. RotateKeys makes a new service key for the plugin
// on this instance, publishes its public key (in the database with the
// database key store) and signs every later token with it. Earlier keys
// stay published, and their tokens keep verifying, until every token they
// can have signed has expired. Operators and tests use it to rotate at a
// known moment rather than when backend.auth.keyStore.rotationPeriod has
// passed:
//
//	if r, ok := a.(auth.KeyRotator); ok {
//		err = r.RotateKeys(ctx)
//	}
type KeyRotator interface {
	RotateKeys(ctx context.Context) error
}

// AuthOption configures [NewAuth].
type AuthOption func(*authOptions)

type authOptions struct {
	db       core.Database
	rotation time.Duration
}

// WithKeyDatabase makes the Auth service publish the plugin's public
// service keys in db, the plugin's own database (the database key store,
// see the package documentation), unless backend.auth.keyStore.type is
// memory. Without it the keys stay in memory, and configuring
// backend.auth.keyStore.type: database is an error.
func WithKeyDatabase(db core.Database) AuthOption {
	return func(o *authOptions) { o.db = db }
}

// WithKeyRotationPeriod replaces backend.auth.keyStore.rotationPeriod for
// one plugin. Unlike the config, it accepts periods shorter than a minute,
// for tests.
func WithKeyRotationPeriod(d time.Duration) AuthOption {
	return func(o *authOptions) { o.rotation = d }
}

// keyStore is where the public service keys of one plugin are published:
// the keyring's memory, or a table of the plugin's database. Published
// keys carry their expiry; a store never returns an expired key.
type keyStore interface {
	// kind is KeyStoreMemory or KeyStoreDatabase.
	kind() string
	// publish records the public key pub, created at created and valid
	// until expires. It returns once every instance can find the key.
	publish(ctx context.Context, pub jose.JSONWebKey, created, expires time.Time) error
	// key returns the unexpired key kid, or an error wrapping
	// errUnknownKey.
	key(ctx context.Context, kid string) (jose.JSONWebKey, error)
	// keys returns every unexpired key.
	keys(ctx context.Context) ([]jose.JSONWebKey, error)
}

// pluginKeys are the service keys of one plugin on this instance: the
// private key it signs with now and the store where public keys are
// published. Every Auth service of the plugin built with one Keyring
// shares it.
type pluginKeys struct {
	pluginID string
	store    keyStore
	rotation time.Duration
	// keyLifetime is how long a published key stays valid after it was
	// created: it signs for rotation, then its last token lives at most
	// the maximum token lifetime, plus the clock skew tolerated.
	keyLifetime time.Duration
	now         func() time.Time

	mu  sync.Mutex // serializes rotations
	cur atomic.Pointer[signingKey]
}

// signingKey is a private service key with its signers.
type signingKey struct {
	created time.Time
	priv    jose.JSONWebKey
	pub     jose.JSONWebKey
	plugin  jose.Signer
	limited jose.Signer
}

func newPluginKeys(k *Keyring, pluginID string, store keyStore, rotation time.Duration) *pluginKeys {
	return &pluginKeys{
		pluginID:    pluginID,
		store:       store,
		rotation:    rotation,
		keyLifetime: rotation + k.maxLifetime + leeway,
		now:         func() time.Time { return k.now() },
	}
}

// current returns the key to sign with, making and publishing a new one
// when there is none yet or the current one is older than the rotation
// period.
func (p *pluginKeys) current(ctx context.Context) (*signingKey, error) {
	if c := p.cur.Load(); c != nil && p.now().Sub(c.created) < p.rotation {
		return c, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Another call may have rotated while this one waited.
	if c := p.cur.Load(); c != nil && p.now().Sub(c.created) < p.rotation {
		return c, nil
	}
	return p.rotateLocked(ctx)
}

// rotate makes, publishes and installs a new signing key.
func (p *pluginKeys) rotate(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.rotateLocked(ctx)
	return err
}

func (p *pluginKeys) rotateLocked(ctx context.Context) (*signingKey, error) {
	key, err := newSigningKey()
	if err != nil {
		return nil, fmt.Errorf("auth: plugin '%s': %w", p.pluginID, err)
	}
	sk := &signingKey{created: p.now(), priv: key, pub: key.Public()}
	if sk.plugin, err = newSigner(key, TokenTypePlugin); err != nil {
		return nil, fmt.Errorf("auth: plugin '%s': %w", p.pluginID, err)
	}
	if sk.limited, err = newSigner(key, TokenTypeLimitedUser); err != nil {
		return nil, fmt.Errorf("auth: plugin '%s': %w", p.pluginID, err)
	}
	// Published before it signs anything: any instance that receives a
	// token signed with it finds it.
	if err := p.store.publish(ctx, sk.pub, sk.created, sk.created.Add(p.keyLifetime)); err != nil {
		return nil, err
	}
	p.cur.Store(sk)
	return sk, nil
}

// memoryStore keeps the public keys of one plugin in memory.
type memoryStore struct {
	now  func() time.Time
	mu   sync.RWMutex
	pubs map[string]publishedKey // by kid
}

type publishedKey struct {
	key     jose.JSONWebKey
	expires time.Time
}

func newMemoryStore(now func() time.Time) *memoryStore {
	return &memoryStore{now: now, pubs: make(map[string]publishedKey)}
}

func (m *memoryStore) kind() string { return KeyStoreMemory }

func (m *memoryStore) publish(_ context.Context, pub jose.JSONWebKey, _, expires time.Time) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for kid, e := range m.pubs {
		if !now.Before(e.expires) {
			delete(m.pubs, kid)
		}
	}
	m.pubs[pub.KeyID] = publishedKey{key: pub, expires: expires}
	return nil
}

func (m *memoryStore) key(_ context.Context, kid string) (jose.JSONWebKey, error) {
	m.mu.RLock()
	e, ok := m.pubs[kid]
	m.mu.RUnlock()
	if !ok || !m.now().Before(e.expires) {
		return jose.JSONWebKey{}, errUnknownKey
	}
	return e.key, nil
}

func (m *memoryStore) keys(context.Context) ([]jose.JSONWebKey, error) {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]jose.JSONWebKey, 0, len(m.pubs))
	for _, e := range m.pubs {
		if now.Before(e.expires) {
			out = append(out, e.key)
		}
	}
	sortKeys(out)
	return out, nil
}

// pluginKeysFor returns the keys of pluginID in k, creating them with the
// store newStore makes when the plugin has none yet. A second Auth service
// of the same plugin and Keyring shares the first one's keys; asking for
// another store type is an error.
func (k *Keyring) pluginKeysFor(pluginID, kind string, rotation time.Duration, newStore func() keyStore) (*pluginKeys, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if p, ok := k.local[pluginID]; ok {
		if p.store.kind() != kind {
			return nil, fmt.Errorf("auth: plugin '%s' already has an Auth service with the %s key store in this Keyring; give every Auth service of a plugin the same key store", pluginID, p.store.kind())
		}
		return p, nil
	}
	p := newPluginKeys(k, pluginID, newStore(), rotation)
	k.local[pluginID] = p
	return p, nil
}

// localKeys returns the keys of a plugin of this backend; ok is false when
// the plugin has no Auth service here.
func (k *Keyring) localKeys(pluginID string) (p *pluginKeys, ok bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	p, ok = k.local[pluginID]
	return p, ok
}

// readKeyStore reads backend.auth.keyStore into k.
func (k *Keyring) readKeyStore(cfg core.Config) error {
	const base = "backend.auth.keyStore"
	ks, ok, err := cfg.OptionalSub(base)
	if err != nil {
		return fmt.Errorf("invalid config %s: %w; expected {type: database | memory, rotationPeriod: <duration>}", base, err)
	}
	if !ok {
		return nil
	}
	if err := checkKeys(ks, base, []string{"type", "rotationPeriod"}); err != nil {
		return err
	}
	typ, ok, err := ks.OptionalString("type")
	if err != nil {
		return fmt.Errorf("invalid config %s.type: %w; set it to database or memory", base, err)
	}
	if ok {
		if typ != KeyStoreDatabase && typ != KeyStoreMemory {
			return fmt.Errorf("invalid config %s.type: unknown type %q, expected database (keys shared by all instances through the plugin's database) or memory (one instance only)", base, typ)
		}
		k.storeType, k.storeTypeSet = typ, true
	}
	period, ok, err := ks.OptionalDuration("rotationPeriod")
	if err != nil {
		return fmt.Errorf("invalid config %s.rotationPeriod: %w; give a duration such as 1h", base, err)
	}
	if ok {
		if period < minKeyRotationPeriod {
			return fmt.Errorf("invalid config %s.rotationPeriod: %s is too short; give at least %s, such as 1h", base, period, minKeyRotationPeriod)
		}
		k.rotation = period
	}
	return nil
}

// KeyStore reports backend.auth.keyStore.type: [KeyStoreDatabase] (the
// default) or [KeyStoreMemory].
func (k *Keyring) KeyStore() string { return k.storeType }

// errNoKeyDatabase is returned by NewAuth when the config asks for the
// database key store and no database was given.
var errNoKeyDatabase = errors.New("backend.auth.keyStore.type is database but NewAuth was given no database; pass auth.WithKeyDatabase(db) or set backend.auth.keyStore.type: memory")
