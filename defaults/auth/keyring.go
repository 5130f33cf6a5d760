package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
)

// Defaults of the remote JWKS cache.
const (
	// jwksCacheTTL is how long the public keys of a plugin in another
	// backend are trusted before they are fetched again.
	jwksCacheTTL = 10 * time.Minute
	// jwksMinRefresh is the shortest interval between two fetches of the
	// same JWKS. A token with an unknown kid triggers a refetch (the other
	// backend may have restarted with new keys) at most this often, and a
	// failed fetch is remembered this long, so that forged tokens cannot
	// make the backend hammer another one.
	jwksMinRefresh = 30 * time.Second
	// jwksFetchTimeout bounds one JWKS fetch.
	jwksFetchTimeout = 10 * time.Second
	// jwksMaxEntries bounds the number of cached JWKS; the oldest entry is
	// dropped first. Subjects of plugin tokens are chosen by callers, so
	// the cache must not grow with them.
	jwksMaxEntries = 256
	// jwksMaxBytes bounds the size of a fetched JWKS document.
	jwksMaxBytes = 1 << 20
	// jwksFetchBurst and jwksFetchEvery are the budget of JWKS fetches of
	// a backend: at most jwksFetchBurst at once, then one per
	// jwksFetchEvery. A token that needs a fetch beyond the budget is
	// refused (or verified with the expired cached keys, if any).
	jwksFetchBurst = 16
	jwksFetchEvery = time.Second
	// warnPeriod is how often one cause of failed verifications (say, the
	// JWKS of one plugin cannot be fetched) is logged.
	warnPeriod = jwksMinRefresh
	// warnMaxCauses bounds the causes tracked for warnPeriod; beyond it
	// further causes share one.
	warnMaxCauses = 64
)

// DefaultMaxTokenLifetime is the default of backend.auth.maxTokenLifetime:
// the longest time between a token's iat and its exp that is accepted.
const DefaultMaxTokenLifetime = 24 * time.Hour

// minMaxTokenLifetime is the smallest backend.auth.maxTokenLifetime: a
// shorter one would leave no room for clock skew.
const minMaxTokenLifetime = time.Minute

// Keyring is the state that the Auth services of all plugins in one backend
// share (the root context of [AuthFactory]): the parsed backend.auth
// configuration, the public service keys of every plugin in this backend,
// and a cache of the public keys of plugins in other backends.
//
// Build one per backend with [NewKeyring]; a Keyring is safe for concurrent
// use.
type Keyring struct {
	disableDefaultAuthPolicy bool
	// maxLifetime bounds exp - iat of every token.
	maxLifetime time.Duration
	userIssuer  string
	userKeys    []jose.JSONWebKey
	static      []staticToken

	// storeType is backend.auth.keyStore.type, and storeTypeSet whether
	// the config set it; rotation is backend.auth.keyStore.rotationPeriod.
	storeType    string
	storeTypeSet bool
	rotation     time.Duration

	mu    sync.RWMutex
	local map[string]*pluginKeys // by plugin id: the service keys of the plugins of this backend

	remote remoteKeys
	warns  warnGate
	now    func() time.Time
}

// staticToken is one configured external access token.
type staticToken struct {
	key     string // config key, for messages
	hash    [sha256.Size]byte
	subject string
	// plugins lists the plugins the token is restricted to, in config
	// order; empty means unrestricted.
	plugins      []string
	restrictions map[string]*core.AccessRestrictions
}

// NewKeyring reads the backend.auth configuration (see the package
// documentation) and returns an empty registry of plugin keys. A nil cfg is
// an empty configuration. Configuration errors name the offending key.
func NewKeyring(cfg core.Config) (*Keyring, error) {
	k := &Keyring{
		maxLifetime: DefaultMaxTokenLifetime,
		storeType:   KeyStoreDatabase,
		rotation:    DefaultKeyRotationPeriod,
		local:       make(map[string]*pluginKeys),
		now:         time.Now,
		remote: remoteKeys{
			client:     &http.Client{Timeout: jwksFetchTimeout},
			ttl:        jwksCacheTTL,
			minRefresh: jwksMinRefresh,
			maxEntries: jwksMaxEntries,
			budget:     fetchBudget{burst: jwksFetchBurst, every: jwksFetchEvery},
			entries:    make(map[string]*remoteEntry),
			failures:   make(map[string]*remoteEntry),
		},
		warns: warnGate{period: warnPeriod, maxCauses: warnMaxCauses, last: make(map[string]*warnEntry)},
	}
	if cfg == nil {
		return k, nil
	}
	disable, _, err := cfg.OptionalBool("backend.auth.dangerouslyDisableDefaultAuthPolicy")
	if err != nil {
		return nil, fmt.Errorf("invalid config backend.auth.dangerouslyDisableDefaultAuthPolicy: %w", err)
	}
	k.disableDefaultAuthPolicy = disable
	maxLifetime, ok, err := cfg.OptionalDuration("backend.auth.maxTokenLifetime")
	if err != nil {
		return nil, fmt.Errorf("invalid config backend.auth.maxTokenLifetime: %w; give a duration such as 24h", err)
	}
	if ok {
		if maxLifetime < minMaxTokenLifetime {
			return nil, fmt.Errorf("invalid config backend.auth.maxTokenLifetime: %s is too short; give at least %s, such as 24h", maxLifetime, minMaxTokenLifetime)
		}
		k.maxLifetime = maxLifetime
	}
	if err := k.readKeyStore(cfg); err != nil {
		return nil, err
	}
	if k.static, err = readExternalAccess(cfg); err != nil {
		return nil, err
	}
	if k.userIssuer, k.userKeys, err = readUserTokens(cfg); err != nil {
		return nil, err
	}
	return k, nil
}

// DangerouslyDisableDefaultAuthPolicy reports the value of
// backend.auth.dangerouslyDisableDefaultAuthPolicy.
func (k *Keyring) DangerouslyDisableDefaultAuthPolicy() bool { return k.disableDefaultAuthPolicy }

// MaxTokenLifetime reports backend.auth.maxTokenLifetime, or
// [DefaultMaxTokenLifetime] when it is not set.
func (k *Keyring) MaxTokenLifetime() time.Duration { return k.maxLifetime }

// matchStatic returns the configured static token equal to token. Every
// configured token is compared, in constant time, on SHA-256 digests so
// that neither the position of a difference nor the length of the
// configured tokens shows in the timing.
func (k *Keyring) matchStatic(token string) (staticToken, bool) {
	h := sha256.Sum256([]byte(token))
	found := -1
	for i := range k.static {
		if subtle.ConstantTimeCompare(h[:], k.static[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return staticToken{}, false
	}
	return k.static[found], true
}

var externalAccessKeys = []string{"type", "options", "accessRestrictions"}

// readExternalAccess reads backend.auth.externalAccess.
func readExternalAccess(cfg core.Config) ([]staticToken, error) {
	const base = "backend.auth.externalAccess"
	if !cfg.Has(base) {
		return nil, nil
	}
	entries, err := cfg.SubList(base)
	if err != nil {
		return nil, fmt.Errorf("invalid config %s: %w; expected a list of {type: static, options: {token, subject}}", base, err)
	}
	var out []staticToken
	seen := make(map[[sha256.Size]byte]string)
	for i, e := range entries {
		key := fmt.Sprintf("%s[%d]", base, i)
		if err := checkKeys(e, key, externalAccessKeys); err != nil {
			return nil, err
		}
		typ, err := e.String("type")
		if err != nil {
			return nil, fmt.Errorf("invalid config %s.type: %w; set it to 'static'", key, err)
		}
		if typ != "static" {
			return nil, fmt.Errorf("invalid config %s.type: unknown type '%s', expected 'static' (the only external access type Greenroom supports)", key, typ)
		}
		st, err := readStatic(e, key)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[st.hash]; dup {
			return nil, fmt.Errorf("invalid config %s.options.token: the same static token is already declared at %s.options.token; give every caller its own token", key, prev)
		}
		seen[st.hash] = key
		out = append(out, st)
	}
	return out, nil
}

func readStatic(e core.Config, key string) (staticToken, error) {
	opts, err := e.Sub("options")
	if err != nil {
		return staticToken{}, fmt.Errorf("invalid config %s.options: %w; a static token needs options {token, subject}", key, err)
	}
	if err := checkKeys(opts, key+".options", []string{"token", "subject"}); err != nil {
		return staticToken{}, err
	}
	token, err := opts.String("token")
	if err != nil {
		return staticToken{}, fmt.Errorf("invalid config %s.options.token: %w", key, err)
	}
	if len(token) < 8 {
		return staticToken{}, fmt.Errorf("invalid config %s.options.token: the token must be at least 8 characters long; use a long random string, for example the output of 'openssl rand -base64 24'", key)
	}
	if strings.ContainsFunc(token, unicode.IsSpace) {
		return staticToken{}, fmt.Errorf("invalid config %s.options.token: the token must not contain whitespace", key)
	}
	subject, err := opts.String("subject")
	if err != nil {
		return staticToken{}, fmt.Errorf("invalid config %s.options.subject: %w; name the caller, for example 'ci-bot'", key, err)
	}
	if strings.TrimSpace(subject) == "" {
		return staticToken{}, fmt.Errorf("invalid config %s.options.subject: the subject must not be empty; name the caller, for example 'ci-bot'", key)
	}
	st := staticToken{key: key, hash: sha256.Sum256([]byte(token)), subject: subject}
	if !e.Has("accessRestrictions") {
		return st, nil
	}
	rs, err := e.SubList("accessRestrictions")
	if err != nil {
		return staticToken{}, fmt.Errorf("invalid config %s.accessRestrictions: %w; expected a list of {plugin: <pluginId>}", key, err)
	}
	st.restrictions = make(map[string]*core.AccessRestrictions)
	for j, r := range rs {
		rkey := fmt.Sprintf("%s.accessRestrictions[%d]", key, j)
		if err := checkKeys(r, rkey, []string{"plugin", "permission", "permissionAttribute"}); err != nil {
			return staticToken{}, err
		}
		plugin, err := r.String("plugin")
		if err != nil {
			return staticToken{}, fmt.Errorf("invalid config %s.plugin: %w; name the plugin id the token may call", rkey, err)
		}
		if !pluginIDPattern.MatchString(plugin) {
			return staticToken{}, fmt.Errorf("invalid config %s.plugin: %q is not a plugin id (letters, digits, '-' and '_')", rkey, plugin)
		}
		if _, dup := st.restrictions[plugin]; dup {
			return staticToken{}, fmt.Errorf("invalid config %s.plugin: plugin '%s' is listed twice; merge the entries", rkey, plugin)
		}
		var ar core.AccessRestrictions
		if ar.PermissionNames, err = config.StringOrList(r, "permission"); err != nil {
			return staticToken{}, fmt.Errorf("invalid config %s.permission: %w", rkey, err)
		}
		if r.Has("permissionAttribute") {
			pa, err := r.Sub("permissionAttribute")
			if err != nil {
				return staticToken{}, fmt.Errorf("invalid config %s.permissionAttribute: %w", rkey, err)
			}
			if err := checkKeys(pa, rkey+".permissionAttribute", []string{"action"}); err != nil {
				return staticToken{}, err
			}
			if ar.PermissionActions, err = config.StringOrList(pa, "action"); err != nil {
				return staticToken{}, fmt.Errorf("invalid config %s.permissionAttribute.action: %w", rkey, err)
			}
			for _, a := range ar.PermissionActions {
				if !slices.Contains([]string{"create", "read", "update", "delete"}, a) {
					return staticToken{}, fmt.Errorf("invalid config %s.permissionAttribute.action: unknown action %q, expected create, read, update or delete", rkey, a)
				}
			}
		}
		st.plugins = append(st.plugins, plugin)
		if ar.PermissionNames != nil || ar.PermissionActions != nil {
			st.restrictions[plugin] = &ar
		} else {
			st.restrictions[plugin] = nil
		}
	}
	return st, nil
}

var userTokensKeys = []string{"issuer", "publicKeys", "jwks"}

// readUserTokens reads backend.auth.userTokens.
func readUserTokens(cfg core.Config) (issuer string, keys []jose.JSONWebKey, err error) {
	const base = "backend.auth.userTokens"
	ut, ok, err := cfg.OptionalSub(base)
	if err != nil {
		return "", nil, fmt.Errorf("invalid config %s: %w; expected {issuer?, publicKeys?: [{file}], jwks?: {keys: [...]}}", base, err)
	}
	if !ok {
		return "", nil, nil
	}
	if err := checkKeys(ut, base, userTokensKeys); err != nil {
		return "", nil, err
	}
	issuer, _, err = ut.OptionalString("issuer")
	if err != nil {
		return "", nil, fmt.Errorf("invalid config %s.issuer: %w", base, err)
	}
	kidAt := make(map[string]string)
	add := func(where string, ks []jose.JSONWebKey) error {
		for _, k := range ks {
			if prev, dup := kidAt[k.KeyID]; dup {
				return fmt.Errorf("invalid config %s: key id %q is also used by a key from %s; key ids must be unique", where, k.KeyID, prev)
			}
			kidAt[k.KeyID] = where
			keys = append(keys, k)
		}
		return nil
	}
	if ut.Has("publicKeys") {
		pks, err := ut.SubList("publicKeys")
		if err != nil {
			return "", nil, fmt.Errorf("invalid config %s.publicKeys: %w; expected a list of {file: <path to a JWKS or PEM file>}", base, err)
		}
		for i, pk := range pks {
			key := fmt.Sprintf("%s.publicKeys[%d]", base, i)
			if err := checkKeys(pk, key, []string{"file"}); err != nil {
				return "", nil, err
			}
			file, err := pk.String("file")
			if err != nil {
				return "", nil, fmt.Errorf("invalid config %s.file: %w; give the path of a JWKS or PEM file", key, err)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return "", nil, fmt.Errorf("invalid config %s.file: reading the key file: %w", key, err)
			}
			ks, err := parsePublicKeys(data)
			if err != nil {
				return "", nil, fmt.Errorf("invalid config %s.file: %s: %w", key, file, err)
			}
			if err := add(key+".file", ks); err != nil {
				return "", nil, err
			}
		}
	}
	if ut.Has("jwks") {
		var m map[string]any
		if err := cfg.Decode(base+".jwks", &m); err != nil {
			return "", nil, fmt.Errorf("invalid config %s.jwks: %w; expected an object {keys: [<JWK>, ...]}", base, err)
		}
		data, err := json.Marshal(m)
		if err != nil {
			return "", nil, fmt.Errorf("invalid config %s.jwks: %w", base, err)
		}
		ks, err := parsePublicKeys(data)
		if err != nil {
			return "", nil, fmt.Errorf("invalid config %s.jwks: %w", base, err)
		}
		if err := add(base+".jwks", ks); err != nil {
			return "", nil, err
		}
	}
	if len(keys) == 0 {
		return "", nil, fmt.Errorf("invalid config %s: no public keys; set %s.publicKeys or %s.jwks, or remove %s to accept no user tokens", base, base, base, base)
	}
	return issuer, keys, nil
}

// checkKeys reports keys of c that are not in allowed, so that a typo does
// not silently leave a setting at its default.
func checkKeys(c core.Config, key string, allowed []string) error {
	for _, k := range c.Keys() {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("invalid config %s.%s: unknown key, expected one of %s", key, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// remoteKeys caches the public service keys of plugins in other backends,
// fetched from their JWKS endpoints. Fetched sets and failed fetches are
// kept apart, so that failures (which callers can cause at will, with
// tokens naming plugins that do not answer) never evict a good key set.
type remoteKeys struct {
	client     *http.Client
	ttl        time.Duration
	minRefresh time.Duration
	maxEntries int

	group    singleflight.Group
	mu       sync.Mutex
	budget   fetchBudget
	entries  map[string]*remoteEntry // by JWKS URL: fetched key sets
	failures map[string]*remoteEntry // by JWKS URL: failed fetches
}

type remoteEntry struct {
	keys      []jose.JSONWebKey
	err       error
	fetchedAt time.Time
}

var (
	errUnknownKey = errors.New("no key with the token's kid")
	errNoBudget   = errors.New("too many JWKS fetches")
)

// key returns the key with the given kid from the JWKS at url, fetching it
// when it is not cached, is older than the TTL, or (at most once per
// minRefresh) lacks the kid. A failed fetch is remembered for minRefresh.
// Concurrent calls for one url share one fetch, and fetches are bounded by
// the budget. onFetchError, if not nil, is called with the error of a
// failed fetch by the one call that made it, so that a failure is
// reported once however many tokens wait for it.
func (r *remoteKeys) key(ctx context.Context, now time.Time, url, kid string, onFetchError func(error)) (jose.JSONWebKey, error) {
	r.mu.Lock()
	e, f := r.entries[url], r.failures[url]
	r.mu.Unlock()
	if f != nil && now.Sub(f.fetchedAt) < r.minRefresh {
		return jose.JSONWebKey{}, f.err
	}
	if e != nil {
		age := now.Sub(e.fetchedAt)
		if age < r.ttl {
			if k, ok := findKID(e.keys, kid); ok {
				return k, nil
			}
			if age < r.minRefresh {
				return jose.JSONWebKey{}, errUnknownKey
			}
		}
	}
	v, _, _ := r.group.Do(url, func() (any, error) {
		// A call that read the cache just before another one stored its
		// fetch must not fetch again.
		r.mu.Lock()
		e2, f2 := r.entries[url], r.failures[url]
		r.mu.Unlock()
		if f2 != nil && now.Sub(f2.fetchedAt) < r.minRefresh {
			return f2, nil
		}
		if e2 != nil && e2 != e && now.Sub(e2.fetchedAt) < r.minRefresh {
			return e2, nil
		}
		if !r.spend(now) {
			return &remoteEntry{err: errNoBudget}, nil
		}
		keys, err := r.fetch(ctx, url)
		fetched := &remoteEntry{keys: keys, err: err, fetchedAt: now}
		r.store(url, fetched)
		if err != nil && onFetchError != nil {
			onFetchError(err)
		}
		return fetched, nil
	})
	got := v.(*remoteEntry)
	if errors.Is(got.err, errNoBudget) && e != nil {
		// Out of budget: the expired set is the best information there
		// is, and a plugin's keys do not change while it runs.
		got = e
	}
	if got.err != nil {
		return jose.JSONWebKey{}, got.err
	}
	if k, ok := findKID(got.keys, kid); ok {
		return k, nil
	}
	return jose.JSONWebKey{}, errUnknownKey
}

func (r *remoteKeys) spend(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.budget.take(now)
}

// store records a fetch: a key set replaces the one cached for url and
// clears a failure; a failure is kept beside the key set. Each map keeps
// at most maxEntries, dropping the oldest first.
func (r *remoteKeys) store(url string, e *remoteEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.entries
	if e.err != nil {
		m = r.failures
	} else {
		delete(r.failures, url)
	}
	m[url] = e
	for len(m) > r.maxEntries {
		oldest := ""
		for u, x := range m {
			if oldest == "" || x.fetchedAt.Before(m[oldest].fetchedAt) {
				oldest = u
			}
		}
		delete(m, oldest)
	}
}

// fetchBudget is a token bucket: burst tokens, one more every every. It is
// written here rather than taken from golang.org/x/time/rate because it is
// a dozen lines driven by the keyring's clock, which tests replace, and
// packages that plugins import should not grow a module for that.
type fetchBudget struct {
	burst  float64
	every  time.Duration
	tokens float64
	last   time.Time
}

func (b *fetchBudget) take(now time.Time) bool {
	switch {
	case b.last.IsZero():
		b.tokens = b.burst
		b.last = now
	case now.After(b.last):
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.last))/float64(b.every))
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// warnGate lets one warning through per cause and period, so that a flood
// of bad tokens logs once per cause rather than once per token. It tracks
// at most maxCauses causes in a period; beyond that, new causes share one.
type warnGate struct {
	mu        sync.Mutex
	period    time.Duration
	maxCauses int
	last      map[string]*warnEntry
}

type warnEntry struct {
	at         time.Time
	suppressed int
}

// overflowCause is the cause that causes share when the gate is full.
const overflowCause = "\x00overflow"

// allow reports whether a warning for cause may be logged at now, and how
// many warnings for it were suppressed since the last one.
func (g *warnGate) allow(now time.Time, cause string) (ok bool, suppressed int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.last[cause]
	if e == nil && len(g.last) >= g.maxCauses {
		for c, x := range g.last {
			if now.Sub(x.at) >= g.period {
				delete(g.last, c)
			}
		}
		if len(g.last) >= g.maxCauses {
			cause = overflowCause
			e = g.last[cause]
		}
	}
	if e == nil {
		g.last[cause] = &warnEntry{at: now}
		return true, 0
	}
	if now.Sub(e.at) < g.period {
		e.suppressed++
		return false, 0
	}
	suppressed = e.suppressed
	*e = warnEntry{at: now}
	return true, suppressed
}

func (r *remoteKeys) fetch(ctx context.Context, url string) ([]jose.JSONWebKey, error) {
	// The fetch is shared by every request waiting for this JWKS, so it
	// must not end when the first of them is cancelled; the client's
	// timeout bounds it.
	ctx = context.WithoutCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, jwksMaxBytes))
		return nil, fmt.Errorf("fetching JWKS %s: unexpected status %s", url, resp.Status)
	}
	// Keys are decoded one by one: a key this backend cannot read (a new
	// key type, say) is skipped rather than failing the whole set.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, jwksMaxBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("fetching JWKS %s: decoding: %w", url, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := json.Unmarshal(raw, &k); err != nil {
			continue
		}
		// Only public ES256 keys with a kid can verify service tokens;
		// anything else in the set is ignored.
		if k.KeyID == "" || !k.Valid() || !k.IsPublic() {
			continue
		}
		if alg, err := keyAlgorithm(k.Key); err != nil || alg != jose.ES256 {
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func findKID(keys []jose.JSONWebKey, kid string) (jose.JSONWebKey, bool) {
	for _, k := range keys {
		if k.KeyID == kid {
			return k, true
		}
	}
	return jose.JSONWebKey{}, false
}
