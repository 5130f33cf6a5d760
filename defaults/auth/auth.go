package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

const (
	// pluginTokenTTL is the lifetime of plugin-to-plugin tokens.
	pluginTokenTTL = time.Hour
	// limitedTokenTTL is the lifetime of a limited user token when the
	// user credentials do not say when they expire.
	limitedTokenTTL = time.Hour
	// leeway is the clock skew tolerated between the issuer and this
	// backend for exp, nbf and iat.
	leeway = 30 * time.Second
	// maxTokenBytes bounds the size of a token; larger ones are rejected
	// before any parsing.
	maxTokenBytes = 64 << 10
	// jwksPath is where a plugin serves its public service keys, relative
	// to its base URL.
	jwksPath = "/.greenroom/auth/v1/jwks.json"
)

// pluginIDPattern is the format of a plugin id in the sub of a plugin token
// and the iss of a limited user token. It also keeps the id safe to put in
// a discovery URL.
var pluginIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Messages of authentication failures. They tell the caller what is wrong
// with the token and nothing about the backend's keys or configuration.
const (
	msgMissingToken     = "Missing token"
	msgIllegalToken     = "Illegal token: it is neither a JWT nor a configured external access token"
	msgMalformed        = "Malformed token"
	msgAlgorithm        = "Token signing algorithm is not allowed"
	msgType             = "Unsupported token type"
	msgSignature        = "Invalid token signature"
	msgExpired          = "Token has expired"
	msgNotYetValid      = "Token is not yet valid"
	msgUnknownKey       = "Token signing key is unknown"
	msgForbiddenSubject = "Invalid plugin token: forbidden subject format"
	msgForbiddenIssuer  = "Invalid limited user token: forbidden issuer format"
	msgIssuer           = "Invalid token issuer"
	msgUserSubject      = "Invalid user token: the subject must be a user entity ref such as 'user:default/alice'"
	msgOwnership        = "Invalid user token: the 'ent' claim must be a list of entity refs"
	msgUserSubjectLong  = "Invalid user token: the subject is longer than the maximum entity ref length of 255 characters (core.MaxEntityRefLength)"
	msgOwnershipLong    = "Invalid user token: an 'ent' ref is longer than the maximum entity ref length of 255 characters (core.MaxEntityRefLength)"
	msgOBO              = "Invalid user token in plugin token obo claim"
	msgLifetime         = "Token lifetime is too long: exp is more than backend.auth.maxTokenLifetime after iat"
)

// claims are the JWT claims of all three token kinds.
type claims struct {
	jwt.Claims
	// Ent are the ownership entity refs of a user.
	Ent []string `json:"ent,omitempty"`
	// OBO is the user token a plugin token was issued on behalf of.
	OBO string `json:"obo,omitempty"`
}

// header is the part of a JOSE header needed to route a token before it is
// parsed for verification.
type header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

// PluginEndpoints is an optional interface of the core.Discovery that
// [NewAuth] is given; the default discovery (package defaults/discovery)
// implements it. A plugin token or limited user token issued by a plugin
// that is not in this backend is verified with the public keys that
// plugin serves, fetched over HTTP. When the discovery implements
// PluginEndpoints, those keys are fetched only for plugins HasEndpoint
// reports, and a token naming any other plugin is refused without a
// request. With another discovery every plugin id it locates is fetched,
// bounded by the cache of failures and the fetch budget only.
type PluginEndpoints interface {
	// HasEndpoint reports whether pluginID is located in another backend
	// by configuration, rather than given a default URL.
	HasEndpoint(ctx context.Context, pluginID string) bool
}

type authService struct {
	k         *Keyring
	pluginID  string
	discovery core.Discovery
	logger    core.Logger
	keys      *pluginKeys
}

var _ KeyRotator = (*authService)(nil)

// NewAuth returns the Auth service of plugin pluginID, and uses discovery
// to find the JWKS of plugins in other backends. logger may be nil.
//
// The plugin signs its tokens with an ES256 key pair of this instance,
// made when it first signs and replaced every
// backend.auth.keyStore.rotationPeriod (or [WithKeyRotationPeriod]), or
// when [KeyRotator].RotateKeys is called. Its public keys are registered
// in k, so that the other plugins of the backend verify its tokens without
// a network call, and published in a key store: with [WithKeyDatabase]
// (as [AuthFactory] does), in the plugin's database, where every instance
// of the backend finds them; without it, in memory, for this instance
// only. Auth services of one plugin built with one Keyring share their
// keys.
func NewAuth(k *Keyring, pluginID string, discovery core.Discovery, logger core.Logger, opts ...AuthOption) (core.Auth, error) {
	if k == nil {
		return nil, errors.New("auth: NewAuth needs a Keyring; build one with NewKeyring")
	}
	if !pluginIDPattern.MatchString(pluginID) {
		return nil, fmt.Errorf("auth: plugin id %q cannot sign tokens: use letters, digits, '-' and '_'", pluginID)
	}
	o := authOptions{rotation: k.rotation}
	for _, opt := range opts {
		opt(&o)
	}
	if o.rotation <= 0 {
		return nil, fmt.Errorf("auth: plugin '%s': the key rotation period %s is not positive; give WithKeyRotationPeriod a positive duration", pluginID, o.rotation)
	}
	kind := KeyStoreMemory
	if k.storeType == KeyStoreDatabase && o.db != nil {
		kind = KeyStoreDatabase
	} else if k.storeTypeSet && k.storeType == KeyStoreDatabase {
		return nil, fmt.Errorf("auth: plugin '%s': %w", pluginID, errNoKeyDatabase)
	}
	now := func() time.Time { return k.now() }
	keys, err := k.pluginKeysFor(pluginID, kind, o.rotation, func() keyStore {
		if kind == KeyStoreDatabase {
			return newDBStore(pluginID, o.db, now)
		}
		return newMemoryStore(now)
	})
	if err != nil {
		return nil, err
	}
	a := &authService{k: k, pluginID: pluginID, discovery: discovery, logger: logger, keys: keys}
	if kind == KeyStoreMemory {
		// Memory keys cost nothing to make: the first is made now, as
		// before key stores, so that the JWKS is never empty.
		if _, err := keys.current(context.Background()); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// RotateKeys implements [KeyRotator].
func (a *authService) RotateKeys(ctx context.Context) error {
	return a.keys.rotate(ctx)
}

func unauthenticated(msg string, cause error) error {
	return errs.Wrap(errs.Authentication, cause, "%s", msg)
}

// Authenticate verifies token: a configured static token, a user token, a
// limited user token or a plugin token, in that order.
func (a *authService) Authenticate(ctx context.Context, token string) (core.Credentials, error) {
	if token == "" {
		return core.Credentials{}, unauthenticated(msgMissingToken, nil)
	}
	if len(token) > maxTokenBytes {
		return core.Credentials{}, unauthenticated(msgMalformed, nil)
	}
	if st, ok := a.k.matchStatic(token); ok {
		return a.staticCredentials(st, token)
	}
	h, err := peekHeader(token)
	if err != nil {
		return core.Credentials{}, err
	}
	switch h.Typ {
	case TokenTypePlugin:
		return a.authenticatePlugin(ctx, token, h)
	case TokenTypeUser, TokenTypeLimitedUser:
		return a.authenticateUser(ctx, token, h)
	default:
		return core.Credentials{}, unauthenticated(msgType, nil)
	}
}

// peekHeader decodes the header of a compact JWS, to choose how to verify
// the token. Nothing in it is trusted: the algorithm is checked against
// the allow-list of the token kind and the library checks it again.
func peekHeader(token string) (header, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return header{}, unauthenticated(msgIllegalToken, nil)
	}
	for _, p := range parts {
		if err := checkCanonicalBase64(p); err != nil {
			return header{}, unauthenticated(msgMalformed, err)
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return header{}, unauthenticated(msgMalformed, err)
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return header{}, unauthenticated(msgMalformed, err)
	}
	return h, nil
}

// strictBase64 decodes unpadded base64url and rejects unused bits that are
// not zero.
var strictBase64 = base64.RawURLEncoding.Strict()

// checkCanonicalBase64 accepts only the one canonical unpadded base64url
// spelling of some bytes. go-jose decodes leniently: it ignores the unused
// low bits of the last character and the decoder skips CR and LF, so
// without this check several token strings carry the same header, payload
// and signature and all verify, and a token string would not be a unique
// key for replay caches or revocation lists. (ES256 signatures stay
// malleable: (r, n-s) verifies like (r, s); see the package documentation.)
func checkCanonicalBase64(part string) error {
	for i := 0; i < len(part); i++ {
		c := part[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("byte %#02x at %d is not base64url", c, i)
		}
	}
	if _, err := strictBase64.DecodeString(part); err != nil {
		return fmt.Errorf("not canonical base64url: %w", err)
	}
	return nil
}

func (a *authService) staticCredentials(st staticToken, token string) (core.Credentials, error) {
	p := core.Principal{Type: core.PrincipalService, Subject: st.subject}
	if len(st.plugins) > 0 {
		r, ok := st.restrictions[a.pluginID]
		if !ok {
			quoted := make([]string, len(st.plugins))
			for i, p := range st.plugins {
				quoted[i] = "'" + p + "'"
			}
			return core.Credentials{}, errs.NewNotAllowed("This token's access is restricted to plugin(s) %s", strings.Join(quoted, ", "))
		}
		if r != nil {
			cp := *r
			p.AccessRestrictions = &cp
		}
	}
	return core.NewCredentials(p, time.Time{}, token), nil
}

// verify parses token, allowing only algs, checks its typ, finds its key
// with keys (which sees the unverified header and claims) and verifies the
// signature and the time claims. The claims are returned only when all of
// that succeeded.
func (a *authService) verify(token, typ string, algs []jose.SignatureAlgorithm, keys func(kid string, unverified claims) ([]jose.JSONWebKey, error)) (claims, error) {
	jws, err := jose.ParseSignedCompact(token, algs)
	if err != nil || len(jws.Signatures) != 1 {
		return claims{}, unauthenticated(msgMalformed, err)
	}
	hdr := jws.Signatures[0].Header
	if t, _ := hdr.ExtraHeaders[jose.HeaderType].(string); t != typ {
		return claims{}, unauthenticated(msgType, nil)
	}
	var c claims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		return claims{}, unauthenticated(msgMalformed, err)
	}
	candidates, err := keys(hdr.KeyID, c)
	if err != nil {
		return claims{}, err
	}
	verified := false
	for _, k := range candidates {
		if k.Algorithm != "" && k.Algorithm != hdr.Algorithm {
			continue
		}
		// Verify returns the payload that was just decoded above.
		if _, err := jws.Verify(k); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return claims{}, unauthenticated(msgSignature, nil)
	}
	if err := a.checkTime(c); err != nil {
		return claims{}, err
	}
	return c, nil
}

// checkTime requires iat and exp, checks exp, nbf and iat against the
// clock with the leeway, and exp - iat against the maximum lifetime. As
// iat may not be in the future, exp is then at most the maximum lifetime
// (plus the leeway) from now.
func (a *authService) checkTime(c claims) error {
	if c.IssuedAt == nil {
		return unauthenticated("Token is missing the 'iat' claim", nil)
	}
	if c.Expiry == nil {
		return unauthenticated("Token is missing the 'exp' claim", nil)
	}
	if c.Expiry.Time().Sub(c.IssuedAt.Time()) > a.k.maxLifetime {
		return unauthenticated(msgLifetime, nil)
	}
	err := c.Claims.ValidateWithLeeway(jwt.Expected{Time: a.k.now()}, leeway)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrExpired):
		return unauthenticated(msgExpired, nil)
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return unauthenticated(msgNotYetValid, nil)
	default:
		return unauthenticated(msgMalformed, err)
	}
}

func (a *authService) authenticatePlugin(ctx context.Context, token string, h header) (core.Credentials, error) {
	if !slices.Contains(serviceTokenAlgorithms, jose.SignatureAlgorithm(h.Alg)) {
		return core.Credentials{}, unauthenticated(msgAlgorithm, nil)
	}
	c, err := a.verify(token, TokenTypePlugin, serviceTokenAlgorithms, func(kid string, c claims) ([]jose.JSONWebKey, error) {
		if c.Subject == "" {
			return nil, unauthenticated("Token is missing the 'sub' claim", nil)
		}
		if !pluginIDPattern.MatchString(c.Subject) {
			return nil, unauthenticated(msgForbiddenSubject, nil)
		}
		return a.pluginKey(ctx, c.Subject, kid)
	})
	if err != nil {
		return core.Credentials{}, err
	}
	if len(c.Audience) == 0 {
		return core.Credentials{}, unauthenticated("Token is missing the 'aud' claim", nil)
	}
	if len(c.Audience) != 1 || c.Audience[0] != a.pluginID {
		return core.Credentials{}, unauthenticated(fmt.Sprintf("Invalid token audience, expected plugin '%s'", a.pluginID), nil)
	}
	exp := c.Expiry.Time()
	if c.OBO == "" {
		p := core.Principal{Type: core.PrincipalService, Subject: "plugin:" + c.Subject}
		return core.NewCredentials(p, exp, token), nil
	}
	oh, err := peekHeader(c.OBO)
	if err == nil && oh.Typ != TokenTypeUser && oh.Typ != TokenTypeLimitedUser {
		err = unauthenticated(msgType, nil)
	}
	var user core.Credentials
	if err == nil {
		user, err = a.authenticateUser(ctx, c.OBO, oh)
	}
	if err != nil {
		msg := msgOBO
		if e, ok := errs.As(err); ok {
			msg += ": " + e.Message
		}
		return core.Credentials{}, unauthenticated(msg, err)
	}
	if user.ExpiresAt.Before(exp) {
		exp = user.ExpiresAt
	}
	creds := core.NewCredentials(user.Principal, exp, c.OBO)
	creds.Limited = user.Limited
	return creds, nil
}

// authenticateUser verifies a user or limited user token.
func (a *authService) authenticateUser(ctx context.Context, token string, h header) (core.Credentials, error) {
	limited := h.Typ == TokenTypeLimitedUser
	algs := userTokenAlgorithms
	if limited {
		algs = serviceTokenAlgorithms
	}
	if !slices.Contains(algs, jose.SignatureAlgorithm(h.Alg)) {
		return core.Credentials{}, unauthenticated(msgAlgorithm, nil)
	}
	keys := a.userKeys
	if limited {
		keys = func(kid string, c claims) ([]jose.JSONWebKey, error) {
			if c.Issuer == "" {
				return nil, unauthenticated("Token is missing the 'iss' claim", nil)
			}
			if !pluginIDPattern.MatchString(c.Issuer) {
				return nil, unauthenticated(msgForbiddenIssuer, nil)
			}
			return a.pluginKey(ctx, c.Issuer, kid)
		}
	}
	c, err := a.verify(token, h.Typ, algs, keys)
	if err != nil {
		return core.Credentials{}, err
	}
	if !limited && a.k.userIssuer != "" && c.Issuer != a.k.userIssuer {
		return core.Credentials{}, unauthenticated(msgIssuer, nil)
	}
	if c.Subject == "" {
		return core.Credentials{}, unauthenticated("Token is missing the 'sub' claim", nil)
	}
	if len(c.Subject) > core.MaxEntityRefLength {
		return core.Credentials{}, unauthenticated(msgUserSubjectLong, nil)
	}
	ref, err := core.ParseUserEntityRef(c.Subject)
	if err != nil {
		return core.Credentials{}, unauthenticated(msgUserSubject, err)
	}
	for _, e := range c.Ent {
		if len(e) > core.MaxEntityRefLength {
			return core.Credentials{}, unauthenticated(msgOwnershipLong, nil)
		}
		if _, err := core.ParseEntityRef(e); err != nil {
			return core.Credentials{}, unauthenticated(msgOwnership, err)
		}
	}
	p := core.Principal{Type: core.PrincipalUser, UserEntityRef: ref.String()}
	creds := core.NewCredentials(p, c.Expiry.Time(), token)
	creds.Limited = limited
	return creds, nil
}

// userKeys finds the configured user token keys for kid; a token without
// a kid is tried against every key.
func (a *authService) userKeys(kid string, _ claims) ([]jose.JSONWebKey, error) {
	if kid == "" {
		if len(a.k.userKeys) == 0 {
			return nil, unauthenticated(msgUnknownKey, nil)
		}
		return a.k.userKeys, nil
	}
	if k, ok := findKID(a.k.userKeys, kid); ok {
		return []jose.JSONWebKey{k}, nil
	}
	return nil, unauthenticated(msgUnknownKey, nil)
}

// pluginKey finds the public service key kid of pluginID: in the keyring
// for plugins of this backend, else in the JWKS the plugin serves.
func (a *authService) pluginKey(ctx context.Context, pluginID, kid string) ([]jose.JSONWebKey, error) {
	if kid == "" {
		return nil, unauthenticated(msgUnknownKey, nil)
	}
	if keys, local := a.k.localKeys(pluginID); local {
		return a.localKey(ctx, keys, kid)
	}
	if a.discovery == nil {
		return nil, unauthenticated(msgUnknownKey, nil)
	}
	if d, ok := a.discovery.(PluginEndpoints); ok && !d.HasEndpoint(ctx, pluginID) {
		a.warnOnce("unknown plugin", "refusing tokens issued by plugins that are neither in this backend nor listed with an internal target in discovery.endpoints; if such a plugin runs in another backend, list it there", "issuer", pluginID)
		return nil, unauthenticated(fmt.Sprintf("Unable to verify token: plugin '%s' is not known to this backend", pluginID), nil)
	}
	base, err := a.discovery.BaseURL(ctx, pluginID)
	if err != nil {
		a.warnOnce("locate "+pluginID, "cannot locate the plugin that issued a token", "issuer", pluginID, "error", err)
		return nil, unauthenticated(fmt.Sprintf("Unable to verify token: plugin '%s' could not be located", pluginID), err)
	}
	url := strings.TrimSuffix(base, "/") + jwksPath
	k, err := a.k.remote.key(ctx, a.k.now(), url, kid, func(err error) {
		a.warnOnce("fetch "+pluginID, "cannot fetch the public keys of the plugin that issued a token; its tokens are refused until a fetch succeeds (retried at most every "+jwksMinRefresh.String()+")", "issuer", pluginID, "url", url, "error", err)
	})
	switch {
	case err == nil:
		return []jose.JSONWebKey{k}, nil
	case errors.Is(err, errUnknownKey):
		return nil, unauthenticated(msgUnknownKey, nil)
	case errors.Is(err, errNoBudget):
		a.warnOnce("fetch budget", fmt.Sprintf("more than %d public key fetches for plugin tokens in a burst; refusing tokens of plugins whose keys are not cached until the budget refills (one fetch per %s)", jwksFetchBurst, jwksFetchEvery), "issuer", pluginID)
		return nil, unauthenticated(fmt.Sprintf("Unable to verify token: the public keys of plugin '%s' are not cached and too many key sets were fetched recently; retry later", pluginID), err)
	default:
		// Logged once, by the call that fetched.
		return nil, unauthenticated(fmt.Sprintf("Unable to verify token: the public keys of plugin '%s' could not be fetched", pluginID), err)
	}
}

// localKey finds the public key kid of a plugin of this backend in its
// key store.
func (a *authService) localKey(ctx context.Context, keys *pluginKeys, kid string) ([]jose.JSONWebKey, error) {
	k, err := keys.store.key(ctx, kid)
	switch {
	case err == nil:
		return []jose.JSONWebKey{k}, nil
	case errors.Is(err, errUnknownKey):
		return nil, unauthenticated(msgUnknownKey, nil)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, unauthenticated(fmt.Sprintf("Unable to verify token: the request ended while the public keys of plugin '%s' were being read", keys.pluginID), err)
	default:
		a.warnOnce("key store "+keys.pluginID, "cannot read the public keys of a plugin of this backend; its tokens with keys not cached here are refused", "issuer", keys.pluginID, "error", err)
		return nil, unauthenticated(fmt.Sprintf("Unable to verify token: the public keys of plugin '%s' could not be read", keys.pluginID), err)
	}
}

// warnOnce logs a warning unless one for the same cause was logged in the
// last warnPeriod (see [warnGate]).
func (a *authService) warnOnce(cause, msg string, args ...any) {
	if a.logger == nil {
		return
	}
	ok, suppressed := a.k.warns.allow(a.k.now(), cause)
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	a.logger.Warn(msg, args...)
}

func (a *authService) NoneCredentials() core.Credentials {
	return core.NewCredentials(core.Principal{Type: core.PrincipalNone}, time.Time{}, "")
}

func (a *authService) OwnServiceCredentials() core.Credentials {
	return core.NewCredentials(core.Principal{Type: core.PrincipalService, Subject: "plugin:" + a.pluginID}, time.Time{}, "")
}

// PluginRequestToken issues an ES256 plugin token {sub: own plugin id, aud:
// target, iat, exp: +1h, or +backend.auth.maxTokenLifetime if that is
// shorter}. For user credentials the user's token goes in the obo claim
// and exp is at most the user's.
func (a *authService) PluginRequestToken(ctx context.Context, onBehalfOf core.Credentials, targetPluginID string) (string, error) {
	if !pluginIDPattern.MatchString(targetPluginID) {
		return "", errs.NewInput("Refused to issue service token for target plugin %q: not a plugin id", targetPluginID)
	}
	now := a.k.now()
	ttl := min(pluginTokenTTL, a.k.maxLifetime)
	c := claims{Claims: jwt.Claims{
		Subject:  a.pluginID,
		Audience: jwt.Audience{targetPluginID},
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(ttl)),
	}}
	switch onBehalfOf.Type() {
	case core.PrincipalService:
	case core.PrincipalUser:
		if onBehalfOf.Token() == "" {
			return "", errs.NewAuthentication("Refused to issue service token for user '%s': the credentials carry no token; use credentials from HTTPAuth.Credentials or Auth.Authenticate", onBehalfOf.Principal.UserEntityRef)
		}
		if !onBehalfOf.ExpiresAt.IsZero() {
			if !onBehalfOf.ExpiresAt.After(now) {
				return "", errs.NewAuthentication("Refused to issue service token for user '%s': the user credentials have expired", onBehalfOf.Principal.UserEntityRef)
			}
			if onBehalfOf.ExpiresAt.Before(now.Add(ttl)) {
				c.Expiry = jwt.NewNumericDate(onBehalfOf.ExpiresAt)
			}
		}
		c.OBO = onBehalfOf.Token()
	default:
		if a.k.disableDefaultAuthPolicy {
			// With the default auth policy disabled, the target accepts
			// anonymous requests, which carry no token.
			return "", nil
		}
		return "", errs.NewAuthentication("Refused to issue service token for credential type '%s'", onBehalfOf.Type())
	}
	sk, err := a.keys.current(ctx)
	if err != nil {
		return "", err
	}
	return sign(sk.plugin, c)
}

// LimitedUserToken issues a limited user token, signed with the plugin's
// own service key: {iss: own plugin id, sub: user entity ref, ent, iat, exp:
// the user's, at most backend.auth.maxTokenLifetime from now}. Limited
// credentials are passed through unchanged.
func (a *authService) LimitedUserToken(ctx context.Context, user core.Credentials) (string, time.Time, error) {
	if !user.IsUser() {
		return "", time.Time{}, errs.NewNotAllowed("Refused to issue limited user token for non-user principal '%s'", user.Type())
	}
	if user.Limited {
		return user.Token(), user.ExpiresAt, nil
	}
	if user.Token() == "" {
		return "", time.Time{}, errs.NewAuthentication("Refused to issue limited user token for user '%s': the credentials carry no token; use credentials from HTTPAuth.Credentials or Auth.Authenticate", user.Principal.UserEntityRef)
	}
	uc, err := unverifiedClaims(user.Token())
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: plugin '%s': reading the claims of user '%s': %w", a.pluginID, user.Principal.UserEntityRef, err)
	}
	now := a.k.now()
	exp := user.ExpiresAt
	if exp.IsZero() {
		exp = now.Add(limitedTokenTTL)
	}
	// Receivers refuse tokens that live longer than the maximum.
	exp = minTime(exp, now.Add(a.k.maxLifetime))
	if !exp.After(now) {
		return "", time.Time{}, errs.NewAuthentication("Refused to issue limited user token for user '%s': the user credentials have expired", user.Principal.UserEntityRef)
	}
	c := claims{
		Claims: jwt.Claims{
			Issuer:   a.pluginID,
			Subject:  user.Principal.UserEntityRef,
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(exp),
		},
		Ent: uc.Ent,
	}
	sk, err := a.keys.current(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	tok, err := sign(sk.limited, c)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, c.Expiry.Time(), nil
}

// PublicServiceKeys returns the unexpired public service keys of the
// plugin: with the database key store, those of every instance of the
// backend, read from the database, so that every instance serves the same
// JWKS; with the memory key store, those of this instance.
func (a *authService) PublicServiceKeys(ctx context.Context) (core.JSONWebKeySet, error) {
	keys, err := a.keys.store.keys(ctx)
	if err != nil {
		return core.JSONWebKeySet{}, err
	}
	return toJWKS(keys)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func sign(s jose.Signer, c claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("auth: encoding token claims: %w", err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("auth: signing token: %w", err)
	}
	return jws.CompactSerialize()
}

// unverifiedClaims decodes the claims of a token that was verified
// earlier, such as the token credentials carry.
func unverifiedClaims(token string) (claims, error) {
	jws, err := jose.ParseSignedCompact(token, userTokenAlgorithms)
	if err != nil {
		return claims{}, fmt.Errorf("parsing token: %w", err)
	}
	var c claims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		return claims{}, fmt.Errorf("decoding token claims: %w", err)
	}
	return c, nil
}
