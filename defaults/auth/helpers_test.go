package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/errs"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// testNow is the fixed time of the test clocks.
var testNow = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// newConfig parses a YAML document with the production config package.
func newConfig(t testing.TB, doc string) core.Config {
	t.Helper()
	c, err := config.FromYAML(doc)
	if err != nil {
		t.Fatalf("config.FromYAML: %v\n%s", err, doc)
	}
	return c
}

// fakeDiscovery maps plugin ids to base URLs; unknown plugins live at
// http://localhost:7007/api/<id> (or under fallback). It does not
// implement PluginEndpoints.
type fakeDiscovery struct {
	mu       sync.Mutex
	base     map[string]string
	external string // external base URL prefix, default http://localhost:7007
	fallback string // base URL prefix of plugins not set, default http://localhost:7007
	err      error
}

func (d *fakeDiscovery) set(pluginID, url string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.base == nil {
		d.base = make(map[string]string)
	}
	d.base[pluginID] = url
}

func (d *fakeDiscovery) BaseURL(ctx context.Context, pluginID string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return "", d.err
	}
	if u, ok := d.base[pluginID]; ok {
		return u, nil
	}
	if d.fallback != "" {
		return d.fallback + "/api/" + pluginID, nil
	}
	return "http://localhost:7007/api/" + pluginID, nil
}

func (d *fakeDiscovery) ExternalBaseURL(ctx context.Context, pluginID string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return "", d.err
	}
	ext := d.external
	if ext == "" {
		ext = "http://localhost:7007"
	}
	return ext + "/api/" + pluginID, nil
}

// bufLogger is a core.Logger writing text records to a buffer.
type bufLogger struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
	l   *slog.Logger
}

func newBufLogger() *bufLogger {
	buf := &bytes.Buffer{}
	mu := &sync.Mutex{}
	return &bufLogger{mu: mu, buf: buf, l: slog.New(slog.NewTextHandler(lockedWriter{mu, buf}, nil))}
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (l *bufLogger) Debug(msg string, args ...any) { l.l.Debug(msg, args...) }
func (l *bufLogger) Info(msg string, args ...any)  { l.l.Info(msg, args...) }
func (l *bufLogger) Warn(msg string, args ...any)  { l.l.Warn(msg, args...) }
func (l *bufLogger) Error(msg string, args ...any) { l.l.Error(msg, args...) }
func (l *bufLogger) With(args ...any) core.Logger {
	return &bufLogger{mu: l.mu, buf: l.buf, l: l.l.With(args...)}
}
func (l *bufLogger) Handler() slog.Handler { return l.l.Handler() }
func (l *bufLogger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// env is one test backend's auth state: a keyring with a fixed clock whose
// user tokens come from issuer.
type env struct {
	t      testing.TB
	k      *Keyring
	issuer *UserTokenIssuer
	disc   *fakeDiscovery
	logger *bufLogger
}

// newEnv builds a keyring from the YAML under backend.auth (extra is
// indented into it) plus a userTokens.jwks entry for a fresh issuer.
func newEnv(t testing.TB, extra string) *env {
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
	e := &env{t: t, k: newTestKeyring(t, newConfig(t, doc)), issuer: iss, disc: &fakeDiscovery{}, logger: newBufLogger()}
	return e
}

func newTestKeyring(t testing.TB, cfg core.Config) *Keyring {
	t.Helper()
	k, err := NewKeyring(cfg)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	k.now = func() time.Time { return testNow }
	return k
}

func indent(s, prefix string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// auth returns a new Auth service for pluginID.
func (e *env) auth(pluginID string) *authService {
	e.t.Helper()
	a, err := NewAuth(e.k, pluginID, e.disc, e.logger)
	if err != nil {
		e.t.Fatalf("NewAuth(%q): %v", pluginID, err)
	}
	return a.(*authService)
}

// userToken issues a user token for sub with the env's issuer.
func (e *env) userToken(sub string, ent []string, ttl time.Duration) string {
	e.t.Helper()
	tok, err := e.issuer.Issue(sub, ent, ttl)
	if err != nil {
		e.t.Fatalf("Issue: %v", err)
	}
	return tok
}

// signJWS signs payload (marshalled to JSON) with key, writing typ (if not
// empty) and extra headers. The key's KeyID becomes kid.
func signJWS(t testing.TB, key jose.JSONWebKey, alg jose.SignatureAlgorithm, typ string, payload map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// rawJWS builds a compact JWS by hand; sig computes the signature over
// the signing input (nil gives an empty signature).
func rawJWS(t testing.TB, header, payload map[string]any, sig func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(h) + "." + b64(p)
	var s []byte
	if sig != nil {
		s = sig([]byte(input))
	}
	return input + "." + b64(s)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func hs256(key []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(input)
		return m.Sum(nil)
	}
}

// userClaims returns valid user token claims at testNow.
func userClaims(sub string) map[string]any {
	return map[string]any{"sub": sub, "iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix()}
}

// pluginClaims returns valid plugin token claims from sub to aud.
func pluginClaims(sub, aud string) map[string]any {
	return map[string]any{"sub": sub, "aud": aud, "iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix()}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

// wantErr checks that err is an *errs.Error of kind name with message msg.
func wantErr(t testing.TB, err error, name errs.Name, msg string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok {
		t.Fatalf("error = %v (%T), want %s %q", err, err, name, msg)
	}
	if e.Name != name || e.Message != msg {
		t.Fatalf("error = %s %q, want %s %q", e.Name, e.Message, name, msg)
	}
}

// jwksServer serves the public keys of a, counting requests. status, if
// not zero, is returned instead.
type jwksServer struct {
	*httptest.Server
	hits   atomic.Int32
	status atomic.Int32
}

func newJWKSServer(t *testing.T, a core.Auth, pluginID string) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/"+pluginID+jwksPath, func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if st := s.status.Load(); st != 0 {
			http.Error(w, "nope", int(st))
			return
		}
		set, err := a.PublicServiceKeys(r.Context())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) base(pluginID string) string {
	return fmt.Sprintf("%s/api/%s", s.URL, pluginID)
}

// mustPublicPEM returns the PKIX PEM of the public part of k.
func mustPublicPEM(t testing.TB, k jose.JSONWebKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public().Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func b64decode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// signingKey returns the private key a signs with now.
func (a *authService) signingKey(t testing.TB) jose.JSONWebKey {
	t.Helper()
	sk, err := a.keys.current(context.Background())
	if err != nil {
		t.Fatalf("signing key of %s: %v", a.pluginID, err)
	}
	return sk.priv
}

// sqlDatabase is a core.Database over a *sql.DB: one instance's pool on a
// database that several instances share.
type sqlDatabase struct {
	db      *sql.DB
	dialect core.Dialect
	skip    bool  // MigrationsSkipped
	err     error // returned by DB, to simulate an unreachable database
}

func (d *sqlDatabase) DB(context.Context) (*sql.DB, error) {
	if d.err != nil {
		return nil, d.err
	}
	return d.db, nil
}
func (d *sqlDatabase) Dialect() core.Dialect   { return d.dialect }
func (d *sqlDatabase) MigrationsSkipped() bool { return d.skip }

// newSQLiteDatabase returns a core.Database on a new SQLite file, closed
// when the test ends.
func newSQLiteDatabase(t testing.TB) *sqlDatabase {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plugin.sqlite")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatalf("opening SQLite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return &sqlDatabase{db: db, dialect: core.DialectSQLite}
}
