package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/sqlkit"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// testClock is a clock that tests move; instances of one test share it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// cluster is several instances of one backend, running plugins search and
// catalog, sharing one database (the two plugins share it too, as the
// primary key of the key table allows).
type cluster struct {
	t      testing.TB
	doc    string // config YAML
	issuer *UserTokenIssuer
	clock  *testClock
	open   func() core.Database // a new pool on the shared database
	opts   []AuthOption
}

// instance is one backend instance: its Keyring and the Auth services of
// its plugins, on its own pool.
type instance struct {
	k               *Keyring
	db              core.Database
	search, catalog *authService
}

func newCluster(t testing.TB, open func() core.Database, extra string, opts ...AuthOption) *cluster {
	t.Helper()
	iss, err := NewUserTokenIssuer()
	if err != nil {
		t.Fatal(err)
	}
	iss.now = func() time.Time { return testNow }
	jwks, err := json.Marshal(iss.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	doc := "backend:\n  auth:\n    userTokens:\n      jwks: " + string(jwks) + "\n" + indent(extra, "    ")
	return &cluster{t: t, doc: doc, issuer: iss, clock: &testClock{now: testNow}, open: open, opts: opts}
}

// dbCluster is a cluster on db, each instance with a pool of its own.
func dbCluster(t *testing.T, db *testdatabases.DB, extra string, opts ...AuthOption) *cluster {
	t.Helper()
	drv, dsn := db.DriverDSN()
	if drv == "" {
		t.Fatal("no database")
	}
	return newCluster(t, func() core.Database {
		pool, err := sql.Open(drv, dsn)
		if err != nil {
			t.Fatalf("sql.Open(%s): %v", drv, err)
		}
		t.Cleanup(func() { pool.Close() })
		return &sqlDatabase{db: pool, dialect: db.Dialect}
	}, extra, opts...)
}

func (c *cluster) instance() *instance {
	c.t.Helper()
	k := newTestKeyring(c.t, newConfig(c.t, c.doc))
	k.now = c.clock.Now
	in := &instance{k: k}
	opts := c.opts
	if c.open != nil {
		in.db = c.open()
		opts = append([]AuthOption{WithKeyDatabase(in.db)}, opts...)
	}
	for _, p := range []struct {
		id string
		a  **authService
	}{{"search", &in.search}, {"catalog", &in.catalog}} {
		a, err := NewAuth(k, p.id, &fakeDiscovery{}, newBufLogger(), opts...)
		if err != nil {
			c.t.Fatalf("NewAuth(%s): %v", p.id, err)
		}
		*p.a = a.(*authService)
	}
	return in
}

// eachDatabase runs fn on every configured engine, each test with a real
// database of its own (Clone), so that several pools see each other's
// commits.
func eachDatabase(t *testing.T, fn func(t *testing.T, db *testdatabases.DB)) {
	testdatabases.New(t).With(testdatabases.Clone).Each(t, func(t *testing.T, db *testdatabases.DB) {
		t.Parallel()
		fn(t, db)
	})
}

func kidOf(t testing.TB, token string) string {
	t.Helper()
	h, err := peekHeader(token)
	if err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

func jwksKIDs(t testing.TB, a *authService) []string {
	t.Helper()
	set, err := a.PublicServiceKeys(context.Background())
	if err != nil {
		t.Fatalf("PublicServiceKeys: %v", err)
	}
	var kids []string
	for _, k := range set.Keys {
		if _, private := k["d"]; private {
			t.Fatal("PublicServiceKeys leaks a private key")
		}
		kids = append(kids, k["kid"].(string))
	}
	return kids
}

func countKeyRows(t testing.TB, in *instance, pluginID string) int {
	t.Helper()
	db, err := in.db.DB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(sqlkit.Rebind(in.db.Dialect(), "SELECT COUNT(*) FROM "+keyTable+" WHERE plugin_id = ?"), pluginID).Scan(&n); err != nil {
		t.Fatalf("counting keys: %v", err)
	}
	return n
}

func TestDatabaseKeyStoreAcrossInstances(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := context.Background()
		c := dbCluster(t, db, "")
		a, b := c.instance(), c.instance()

		// A plugin token minted on A verifies on B.
		tok1 := mustToken(t)(a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog"))
		creds, err := b.catalog.Authenticate(ctx, tok1)
		if err != nil || creds.Principal.Subject != "plugin:search" {
			t.Fatalf("B: Authenticate(A's plugin token) = %v, %v", creds, err)
		}
		// So does a limited user token (the auth cookie).
		user, err := a.search.Authenticate(ctx, c.issuer.mustIssue(t, "user:default/alice"))
		if err != nil {
			t.Fatal(err)
		}
		limited, _, err := a.search.LimitedUserToken(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if creds, err := b.catalog.Authenticate(ctx, limited); err != nil || !creds.Limited || creds.Principal.UserEntityRef != "user:default/alice" {
			t.Fatalf("B: Authenticate(A's limited token) = %v, %v", creds, err)
		}

		// After A rotates, old and new tokens verify on B.
		if err := a.search.RotateKeys(ctx); err != nil {
			t.Fatal(err)
		}
		tok2 := mustToken(t)(a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog"))
		if kidOf(t, tok2) == kidOf(t, tok1) {
			t.Fatal("RotateKeys did not change the signing key")
		}
		for i, tok := range []string{tok1, tok2} {
			if _, err := b.catalog.Authenticate(ctx, tok); err != nil {
				t.Errorf("B: token %d after A rotated: %v", i+1, err)
			}
		}
		// After B rotates too, everything verifies everywhere.
		if err := b.search.RotateKeys(ctx); err != nil {
			t.Fatal(err)
		}
		tok3 := mustToken(t)(b.search.PluginRequestToken(ctx, b.search.OwnServiceCredentials(), "catalog"))
		for i, tok := range []string{tok1, tok2, tok3} {
			for name, in := range map[string]*instance{"A": a, "B": b} {
				if _, err := in.catalog.Authenticate(ctx, tok); err != nil {
					t.Errorf("%s: token %d: %v", name, i+1, err)
				}
			}
		}
		// Both serve the same JWKS, with all three keys.
		ja, jb := jwksKIDs(t, a.search), jwksKIDs(t, b.search)
		if !reflect.DeepEqual(ja, jb) || len(ja) != 3 {
			t.Fatalf("JWKS of A = %v, of B = %v; want the same three keys", ja, jb)
		}
		for _, tok := range []string{tok1, tok2, tok3} {
			if !strings.Contains(strings.Join(ja, " "), kidOf(t, tok)) {
				t.Errorf("JWKS %v lacks kid %s", ja, kidOf(t, tok))
			}
		}

		// A key that no instance published is refused.
		forged, err := newSigningKey()
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.catalog.Authenticate(ctx, signJWS(t, forged, jose.ES256, TokenTypePlugin, pluginClaims("search", "catalog")))
		wantErr(t, err, errs.Authentication, msgUnknownKey)
		// A key of search's published kid, but another key, fails the signature.
		forged.KeyID = kidOf(t, tok1)
		_, err = b.catalog.Authenticate(ctx, signJWS(t, forged, jose.ES256, TokenTypePlugin, pluginClaims("search", "catalog")))
		wantErr(t, err, errs.Authentication, msgSignature)
	})
}

func (iss *UserTokenIssuer) mustIssue(t testing.TB, sub string) string {
	t.Helper()
	tok, err := iss.Issue(sub, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestDatabaseKeyStoreExpiry(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := context.Background()
		// Keys sign for a minute and their tokens live at most a minute,
		// so a key expires 2m30s after it was made.
		c := dbCluster(t, db, "maxTokenLifetime: 1m\nkeyStore: {rotationPeriod: 1m}")
		a, b := c.instance(), c.instance()
		tok1 := mustToken(t)(a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog"))
		kid1 := kidOf(t, tok1)
		if _, err := b.catalog.Authenticate(ctx, tok1); err != nil {
			t.Fatal(err)
		}
		key1 := a.search.signingKey(t)

		// The rotation period passed: the next token has a new key, and
		// the old key still verifies.
		c.clock.Add(time.Minute)
		tok2 := mustToken(t)(a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog"))
		if kidOf(t, tok2) == kid1 {
			t.Fatal("the key was not rotated after rotationPeriod")
		}
		fresh := func() string {
			now := c.clock.Now()
			return signJWS(t, key1, jose.ES256, TokenTypePlugin, with(pluginClaims("search", "catalog"), "iat", now.Unix(), "exp", now.Add(30*time.Second).Unix()))
		}
		if _, err := b.catalog.Authenticate(ctx, fresh()); err != nil {
			t.Fatalf("the previous key within its lifetime: %v", err)
		}

		// Past its lifetime the old key is refused: from B's cache, and
		// by an instance that never saw it, whose key list leaves expired
		// rows out (reads do not delete them; publishing does, below).
		c.clock.Add(90*time.Second + time.Millisecond)
		_, err := b.catalog.Authenticate(ctx, fresh())
		wantErr(t, err, errs.Authentication, msgUnknownKey)
		if n := countKeyRows(t, b, "search"); n != 2 {
			t.Fatalf("%d keys of search before the purge, want 2", n)
		}
		newcomer := c.instance()
		_, err = newcomer.catalog.Authenticate(ctx, fresh())
		wantErr(t, err, errs.Authentication, msgUnknownKey)
		if n := countKeyRows(t, b, "search"); n != 2 {
			t.Fatalf("%d keys of search after an expired key was looked up, want 2 (reads delete nothing)", n)
		}
		// B never saw tok2's key; its JWKS shows it once its list is
		// older than keysCacheFor (here at once).
		staleList(dbStoreOf(t, b, "search"))
		if kids := jwksKIDs(t, b.search); len(kids) != 1 || kids[0] != kidOf(t, tok2) {
			t.Fatalf("JWKS = %v, want only %s", kids, kidOf(t, tok2))
		}

		// Expired keys are also deleted when a key is published.
		c.clock.Add(3 * time.Minute)
		mustToken(t)(newcomer.search.PluginRequestToken(ctx, newcomer.search.OwnServiceCredentials(), "catalog"))
		if n := countKeyRows(t, b, "search"); n != 1 {
			t.Fatalf("%d keys of search after a new key was published, want 1", n)
		}
	})
}

func TestDatabaseKeyStoreConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := context.Background()
		c := dbCluster(t, db, "")
		a, b := c.instance(), c.instance()
		const n = 8
		tokens := make([]string, 2*n)
		errc := make(chan error, 2*n)
		var wg sync.WaitGroup
		for i := range 2 * n {
			in := a
			if i%2 == 1 {
				in = b
			}
			wg.Go(func() {
				tok, err := in.search.PluginRequestToken(ctx, in.search.OwnServiceCredentials(), "catalog")
				tokens[i] = tok
				errc <- err
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		// One key per instance, every token verifies on both.
		if n := countKeyRows(t, a, "search"); n != 2 {
			t.Fatalf("%d keys of search, want 2 (one per instance)", n)
		}
		for _, tok := range tokens {
			for _, in := range []*instance{a, b} {
				if _, err := in.catalog.Authenticate(ctx, tok); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func TestMemoryKeyStoreIsSingleInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// With keyStore.type memory, the database given is not used.
	unusable := &sqlDatabase{dialect: core.DialectSQLite, err: errors.New("the memory store must not open the database")}
	c := newCluster(t, func() core.Database { return unusable }, "keyStore: {type: memory}")
	a, b := c.instance(), c.instance()
	tok := mustToken(t)(a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog"))
	if _, err := a.catalog.Authenticate(ctx, tok); err != nil {
		t.Fatalf("A: %v", err)
	}
	_, err := b.catalog.Authenticate(ctx, tok)
	wantErr(t, err, errs.Authentication, msgUnknownKey)

	if err := a.search.RotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	tok2 := mustToken(t)(a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog"))
	for _, tk := range []string{tok, tok2} {
		if _, err := a.catalog.Authenticate(ctx, tk); err != nil {
			t.Fatalf("A after rotation: %v", err)
		}
	}
	if kids := jwksKIDs(t, a.search); len(kids) != 2 {
		t.Fatalf("JWKS after rotation = %v, want two keys", kids)
	}
}

// dbStoreOf returns the database key store of pluginID on in.
func dbStoreOf(t testing.TB, in *instance, pluginID string) *dbStore {
	t.Helper()
	p, ok := in.k.localKeys(pluginID)
	if !ok {
		t.Fatalf("no keys for plugin %s", pluginID)
	}
	s, ok := p.store.(*dbStore)
	if !ok {
		t.Fatalf("plugin %s has the %s key store, want the database one", pluginID, p.store.kind())
	}
	return s
}

// forgedPluginToken returns a token of plugin search for catalog, signed
// with a key that no instance published.
func forgedPluginToken(t testing.TB) string {
	t.Helper()
	k, err := newSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return signJWS(t, k, jose.ES256, TokenTypePlugin, pluginClaims("search", "catalog"))
}

// staleList makes the next JWKS request of s re-read the key list, as if
// keysCacheFor had passed since the last read.
func staleList(s *dbStore) {
	s.mu.Lock()
	s.listedAt = time.Time{}
	s.mu.Unlock()
}

func isUnknownKey(err error) bool {
	e, ok := errs.As(err)
	return ok && e.Message == msgUnknownKey
}

// maxRefreshes is the most refreshes that s can have started in elapsed:
// one at once, then one per s.every.
func maxRefreshes(s *dbStore, elapsed time.Duration) int64 {
	return 1 + int64(elapsed/s.every)
}

// TestUnknownKidRefreshBudget checks what tokens with unknown kids cost:
// they are refused as unknown (never for a spent budget, as before: the
// per-kid lookup budget is gone), concurrent ones share refreshes of the
// key list, which start at most once per keyRefreshEvery, and known keys
// cost no query.
func TestUnknownKidRefreshBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shared := newSQLiteDatabase(t)
	c := newCluster(t, func() core.Database { return shared }, "")
	a, b := c.instance(), c.instance()
	store := dbStoreOf(t, b, "search")
	const forgers, each = 16, 4
	start := time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, forgers*each)
	for range forgers {
		tokens := make([]string, each)
		for i := range tokens {
			tokens[i] = forgedPluginToken(t)
		}
		wg.Go(func() {
			for _, tok := range tokens {
				_, err := b.catalog.Authenticate(ctx, tok)
				errc <- err
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errc)
	for err := range errc {
		if e, ok := errs.As(err); !ok || e.Message != msgUnknownKey {
			t.Fatalf("forged token: %v, want %q", err, msgUnknownKey)
		}
	}
	got := store.refreshes.Load()
	if max := maxRefreshes(store, elapsed); got > max {
		t.Errorf("%d forged tokens made %d refreshes in %s, want at most %d (one per %s)", forgers*each, got, elapsed, max, store.every)
	}
	if got >= forgers*each {
		t.Errorf("%d forged tokens made %d refreshes: concurrent tokens must share them", forgers*each, got)
	}
	genuine := mustToken(t)(a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog"))
	if _, err := b.catalog.Authenticate(ctx, genuine); err != nil {
		t.Fatalf("genuine token after the forged ones: %v", err)
	}
	// Known keys cost nothing.
	before := store.refreshes.Load()
	for range 2 * forgers {
		if _, err := b.catalog.Authenticate(ctx, genuine); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.refreshes.Load(); got != before {
		t.Errorf("a cached key made %d refreshes", got-before)
	}
}

// TestForgedKidFloodDoesNotLockOutGenuineNewKeys is the regression test
// of the per-kid lookup budget: a stream of tokens with made-up kids (sub
// a plugin of the backend, anyone can send them) kept the budget empty, so
// a genuine key new on another instance (after its start or a rotation)
// was refused for as long as the stream went on. Now a genuine key is
// found by the next refresh of the key list, however many forged tokens
// arrive, and the flood costs at most one query per keyRefreshEvery.
func TestForgedKidFloodDoesNotLockOutGenuineNewKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shared := newSQLiteDatabase(t)
	c := newCluster(t, func() core.Database { return shared }, "")
	a, b := c.instance(), c.instance()
	store := dbStoreOf(t, b, "search")
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = forgedPluginToken(t)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for _, tok := range tokens {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = b.catalog.Authenticate(ctx, tok)
			}
		})
	}
	// The flood is on once it has made two refreshes: the old budget
	// (16 lookups at once) would be spent by then.
	for deadline := time.Now().Add(time.Minute); store.refreshes.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the forged tokens made no refreshes")
		}
		runtime.Gosched()
	}
	for range 3 {
		if err := a.search.RotateKeys(ctx); err != nil {
			t.Fatal(err)
		}
		genuine := mustToken(t)(a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog"))
		if _, err := b.catalog.Authenticate(ctx, genuine); err != nil {
			t.Errorf("a genuine token of another instance is refused during a flood of forged tokens: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	if got, max := store.refreshes.Load(), maxRefreshes(store, elapsed); got > max {
		t.Errorf("the flood made %d refreshes in %s, want at most %d (one per %s)", got, elapsed, max, store.every)
	}
}

// TestKeyInsertedDuringRefreshVerifies checks the race that a shared
// refresh must not lose: a key inserted on another instance after a
// refresh of this instance read the table, and a token signed with it
// arriving while that refresh is still under way. The token must wait for
// a refresh that started after it arrived, not take the older one's list.
func TestKeyInsertedDuringRefreshVerifies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shared := newSQLiteDatabase(t)
	c := newCluster(t, func() core.Database { return shared }, "")
	a, b := c.instance(), c.instance()
	store := dbStoreOf(t, b, "search")
	read, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	store.afterList = func() {
		once.Do(func() {
			close(read)
			<-release
		})
	}
	// A forged token starts a refresh, which reads the table and stops.
	forgedErr := make(chan error, 1)
	go func() {
		_, err := b.catalog.Authenticate(ctx, forgedPluginToken(t))
		forgedErr <- err
	}()
	<-read
	// A publishes a key and signs with it; B receives the token while the
	// refresh that missed the key is still under way.
	genuine := mustToken(t)(a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog"))
	genuineErr := make(chan error, 1)
	go func() {
		_, err := b.catalog.Authenticate(ctx, genuine)
		genuineErr <- err
	}()
	// Release the old refresh once the genuine token waits for a new one.
	for deadline := time.Now().Add(time.Minute); ; runtime.Gosched() {
		store.mu.Lock()
		waiting := store.pending != nil
		store.mu.Unlock()
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the genuine token does not wait for a new refresh")
		}
	}
	close(release)
	if err := <-genuineErr; err != nil {
		t.Errorf("a key inserted on another instance while a refresh was under way: %v", err)
	}
	if err := <-forgedErr; !isUnknownKey(err) {
		t.Errorf("forged token: %v, want %q", err, msgUnknownKey)
	}
}

// TestPublicServiceKeysCache checks that the JWKS of the database key
// store is served from the key list without a query while it is fresh,
// shows a key this instance just published at once, and shows keys of
// other instances once the list is refreshed.
func TestPublicServiceKeysCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shared := newSQLiteDatabase(t)
	c := newCluster(t, func() core.Database { return shared }, "")
	a, b := c.instance(), c.instance()
	store := dbStoreOf(t, b, "search")
	store.mu.Lock()
	store.cacheFor = time.Hour // the list stays fresh, whatever the machine's load
	store.mu.Unlock()
	if err := a.search.RotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	first := jwksKIDs(t, b.search)
	if len(first) != 1 {
		t.Fatalf("B's JWKS = %v, want A's key", first)
	}
	n := store.refreshes.Load()
	for range 10 {
		jwksKIDs(t, b.search)
	}
	if got := store.refreshes.Load(); got != n {
		t.Errorf("10 JWKS requests made %d queries, want none (the list is fresh)", got-n)
	}
	// B's own new key shows at once, without a query.
	if err := b.search.RotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, b.search); len(got) != 2 || store.refreshes.Load() != n {
		t.Errorf("B's JWKS after B rotated = %v (%d queries), want 2 keys and no query", got, store.refreshes.Load()-n)
	}
	// A's new key shows once the list is stale.
	if err := a.search.RotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, b.search); len(got) != 2 {
		t.Errorf("B's JWKS while its list is fresh = %v, want the 2 keys it knew", got)
	}
	staleList(store)
	if got, want := jwksKIDs(t, b.search), jwksKIDs(t, a.search); len(got) != 3 || !reflect.DeepEqual(got, want) {
		t.Errorf("B's JWKS once stale = %v, A's = %v, want the same 3 keys", got, want)
	}
}

func TestKeyStoreConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, want string }{
		{"keyStore: {typ: memory}", "invalid config backend.auth.keyStore.typ: unknown key, expected one of type, rotationPeriod"},
		{"keyStore: {type: redis}", `invalid config backend.auth.keyStore.type: unknown type "redis", expected database`},
		{"keyStore: {type: [memory]}", "invalid config backend.auth.keyStore.type:"},
		{"keyStore: {rotationPeriod: soon}", "invalid config backend.auth.keyStore.rotationPeriod:"},
		{"keyStore: {rotationPeriod: 30s}", "invalid config backend.auth.keyStore.rotationPeriod: 30s is too short; give at least 1m0s"},
		{"keyStore: memory", "invalid config backend.auth.keyStore:"},
	} {
		_, err := NewKeyring(newConfig(t, "backend:\n  auth:\n"+indent(tc.doc, "    ")))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want %q", tc.doc, err, tc.want)
		}
	}
	k, err := NewKeyring(newConfig(t, "backend: {auth: {keyStore: {type: memory, rotationPeriod: 2h}}}"))
	if err != nil || k.KeyStore() != KeyStoreMemory || k.rotation != 2*time.Hour {
		t.Errorf("NewKeyring = %v, %v", k, err)
	}
	if k, _ := NewKeyring(nil); k.KeyStore() != KeyStoreDatabase || k.rotation != DefaultKeyRotationPeriod {
		t.Errorf("defaults: %s, %s", k.KeyStore(), k.rotation)
	}
	// Asking explicitly for the database store without a database.
	k = newTestKeyring(t, newConfig(t, "backend: {auth: {keyStore: {type: database}}}"))
	if _, err := NewAuth(k, "catalog", nil, nil); err == nil || !strings.Contains(err.Error(), "plugin 'catalog'") || !strings.Contains(err.Error(), "WithKeyDatabase") {
		t.Errorf("NewAuth without a database = %v", err)
	}
	if _, err := NewAuth(k, "catalog", nil, nil, WithKeyDatabase(newSQLiteDatabase(t)), WithKeyRotationPeriod(0)); err == nil || !strings.Contains(err.Error(), "WithKeyRotationPeriod") {
		t.Errorf("NewAuth with a zero rotation period = %v", err)
	}
}

func TestDatabaseKeyStoreFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	closed := newSQLiteDatabase(t)
	closed.db.Close()
	for name, db := range map[string]*sqlDatabase{
		"unreachable": {dialect: core.DialectSQLite, err: errors.New("dial tcp: connection refused")},
		"closed pool": closed,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t, func() core.Database { return db }, "")
			in := c.instance()
			_, err := in.search.PluginRequestToken(ctx, in.search.OwnServiceCredentials(), "catalog")
			for _, want := range []string{"plugin 'search'", "backend.auth.keyStore.type: memory", "backend.database"} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("PluginRequestToken error = %v, want it to mention %q", err, want)
				}
			}
			forged, err := newSigningKey()
			if err != nil {
				t.Fatal(err)
			}
			_, err = in.catalog.Authenticate(ctx, signJWS(t, forged, jose.ES256, TokenTypePlugin, pluginClaims("search", "catalog")))
			wantErr(t, err, errs.Authentication, "Unable to verify token: the public keys of plugin 'search' could not be read")
			if _, err := in.search.PublicServiceKeys(ctx); err == nil || !strings.Contains(err.Error(), "plugin 'search'") {
				t.Errorf("PublicServiceKeys error = %v", err)
			}
		})
	}
}

// The key table is the framework's: it is created even when the plugin's
// migrations are skipped.
func TestDatabaseKeyStoreIgnoresSkipMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newSQLiteDatabase(t)
	db.skip = true
	c := newCluster(t, func() core.Database { return db }, "")
	a, b := c.instance(), c.instance()
	tok := mustToken(t)(a.search.PluginRequestToken(ctx, a.search.OwnServiceCredentials(), "catalog"))
	if _, err := b.catalog.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

// A database that failed at first use is retried by the next token.
func TestDatabaseKeyStoreRetriesInitialization(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newSQLiteDatabase(t)
	down := &sqlDatabase{dialect: core.DialectSQLite, err: fmt.Errorf("database is starting up")}
	var mu sync.Mutex
	current := down
	c := newCluster(t, func() core.Database {
		return databaseFunc(func() core.Database { mu.Lock(); defer mu.Unlock(); return current })
	}, "")
	in := c.instance()
	if _, err := in.search.PluginRequestToken(ctx, in.search.OwnServiceCredentials(), "catalog"); err == nil {
		t.Fatal("PluginRequestToken succeeded with the database down")
	}
	mu.Lock()
	current = db
	mu.Unlock()
	tok := mustToken(t)(in.search.PluginRequestToken(ctx, in.search.OwnServiceCredentials(), "catalog"))
	if _, err := in.catalog.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

// databaseFunc is a core.Database that delegates to the one f returns.
type databaseFunc func() core.Database

func (f databaseFunc) DB(ctx context.Context) (*sql.DB, error) { return f().DB(ctx) }
func (f databaseFunc) Dialect() core.Dialect                   { return f().Dialect() }
func (f databaseFunc) MigrationsSkipped() bool                 { return f().MigrationsSkipped() }

// countingDatabase counts the calls of DB.
type countingDatabase struct {
	core.Database
	mu    sync.Mutex
	calls int
}

func (d *countingDatabase) DB(ctx context.Context) (*sql.DB, error) {
	d.mu.Lock()
	d.calls++
	d.mu.Unlock()
	return d.Database.DB(ctx)
}

func (d *countingDatabase) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// A plugin that never issues or verifies its own tokens never opens its
// database for keys; the first token does, once.
func TestDatabaseKeyStoreIsLazy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := &countingDatabase{Database: newSQLiteDatabase(t)}
	c := newCluster(t, func() core.Database { return db }, "")
	in := c.instance()
	// Tokens of other kinds do not touch the key store.
	if _, err := in.catalog.Authenticate(ctx, c.issuer.mustIssue(t, "user:default/alice")); err != nil {
		t.Fatal(err)
	}
	if n := db.count(); n != 0 {
		t.Fatalf("the database was opened %d times before any plugin token", n)
	}
	tok := mustToken(t)(in.search.PluginRequestToken(ctx, in.search.OwnServiceCredentials(), "catalog"))
	if _, err := in.catalog.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	opened := db.count()
	if opened == 0 {
		t.Fatal("the database was not opened")
	}
	mustToken(t)(in.search.PluginRequestToken(ctx, in.search.OwnServiceCredentials(), "catalog"))
	if n := db.count(); n != opened {
		t.Fatalf("the database was opened again (%d calls, then %d)", opened, n)
	}
}
