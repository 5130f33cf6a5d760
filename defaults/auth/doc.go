// Package auth is the production implementation of the core.Auth,
// core.HTTPAuth and core.UserInfo services: how Greenroom verifies tokens,
// issues tokens for calls between plugins, and reads credentials from HTTP
// requests. Install [AuthFactory], [HTTPAuthFactory] and [UserInfoFactory]
// (package defaults does); plugin code depends on the core interfaces only.
//
// # Tokens
//
// Tokens are JWTs in compact form, signed and verified with go-jose
// (github.com/go-jose/go-jose/v4), chosen over golang-jwt because it also
// reads and writes JWKs and JWK sets, which the JWKS endpoints, the
// configured user keys and the greenroom command need, and because its
// parser takes the list of allowed algorithms up front. The JWT "typ"
// header tells the three kinds apart:
//
//   - User tokens ([TokenTypeUser]) are issued by an identity provider (or
//     a [UserTokenIssuer]). sub is a user entity ref such as
//     "user:default/alice", ent the user's ownership entity refs; iat and
//     exp are required. They are verified against the public keys of
//     backend.auth.userTokens with ES256, RS256 or EdDSA.
//   - Limited user tokens ([TokenTypeLimitedUser]) go in the auth cookie
//     ([CookieName]). Auth.LimitedUserToken signs them with the issuing
//     plugin's own service key: {iss: <pluginId>, sub, ent, iat, exp: the
//     user's}. Any plugin verifies them like plugin tokens, with the key of
//     the plugin named by iss. They give credentials with Limited set,
//     which HTTPAuth accepts only on paths with a user-cookie auth policy.
//     (Backstage instead reuses a signature carried in the user token;
//     signing with the plugin key works with user tokens of any issuer.)
//   - Plugin tokens ([TokenTypePlugin]) are issued by
//     Auth.PluginRequestToken for a call to another plugin: {sub: <own
//     pluginId>, aud: <target pluginId>, iat, exp: +1h}, ES256, with the
//     plugin's kid. On behalf of a user, the obo claim carries the user's
//     token and exp is at most the user's; the receiver verifies it too and
//     sees the user (limited if the user's token was limited). On behalf of
//     a service the receiver sees the service "plugin:<sub>".
//
// Every token is checked for: a known kind, each of its three parts in
// canonical unpadded base64url (no stray bits in the last character, no
// line breaks: one token has one spelling), an algorithm on the kind's
// allow-list (never "none", never HMAC, whatever the header says), a valid
// signature by a known key, iat and exp present, exp not past, nbf and iat
// not in the future (30 seconds of clock skew are tolerated), exp at most
// backend.auth.maxTokenLifetime (default 24h) after iat, and, for plugin
// tokens, aud equal to the receiving plugin and a plugin id as sub.
// ES256 signatures are malleable ((r, n-s) verifies like (r, s)), so a
// replay cache or revocation list should key on the header and payload,
// not on the whole token string.
// Failures are AuthenticationErrors (401) whose message says what is wrong,
// such as "Token has expired" or "Invalid token signature", without
// revealing keys or configuration. Mock tokens of the test fakes are not
// JWTs and are always rejected.
//
// # Service keys
//
// Each instance of a backend signs the plugin tokens and limited user
// tokens of each plugin with an ES256 key pair of its own, generated in
// memory; private keys are never written anywhere. An instance makes a new
// key when its current one is older than backend.auth.keyStore.rotationPeriod
// (default 1h; checked when it signs, no goroutine), or when
// [KeyRotator].RotateKeys is called, and publishes the public key in the
// plugin's key store before the key signs anything. A published key
// expires rotationPeriod + maxTokenLifetime + 30 s after it was made: by
// then every token it can have signed has expired. Expired keys are
// refused.
//
// Key stores (backend.auth.keyStore.type):
//
//   - database (the default, [KeyStoreDatabase]): the public keys go to
//     the table greenroom_auth_public_keys (plugin_id, kid, public_key as
//     JWK JSON, created_at and expires_at in ms since the epoch; primary
//     key plugin_id, kid) of the plugin's own database (core.Database),
//     so every instance of the backend verifies the tokens of every other
//     instance: an auth cookie or a plugin token issued on one replica
//     works on all, with no sticky sessions. The framework creates the
//     table with package migrate (versions in greenroom_auth_migrations),
//     once per plugin and instance, when the plugin first issues or
//     verifies a token of its own, so a plugin that never does never opens
//     its database for keys. The table is the framework's, so it is
//     created even when backend.database.skipMigrations is set (which is
//     about the plugin's own migrations); where the database user may not
//     create tables, create it beforehand from the SQL in this package's
//     migrations directory, or use the memory store. A failed creation is
//     retried by the next token; the error names the plugin and the fix.
//     An instance caches the keys it has found until they expire; a token
//     with a kid it has not seen makes it re-read the plugin's whole key
//     list (one query) and look the kid up there. Concurrent such tokens
//     share one read, and a read starts at most every 200 ms: anyone can
//     send tokens with made-up kids, and they cost the plugin's pool at
//     most five queries a second however many arrive. A token waits for a
//     read that started after it arrived, so a key inserted a moment ago
//     on another instance verifies (within one read, forged tokens or
//     not). Expired rows are left out of the list and deleted when an
//     instance publishes a key. Auth.PublicServiceKeys (the JWKS) is
//     served from the same list while its read started less than a
//     second ago, else after a new read: a key this instance published
//     shows at once, a key another instance published at most a second
//     (plus one read) later; so all instances serve the same JWKS once
//     their lists are refreshed.
//   - memory ([KeyStoreMemory]): the public keys stay in the instance's
//     [Keyring]. Tokens issued by another instance, or before a restart,
//     fail with "Token signing key is unknown". For a single instance.
//
// [NewAuth] without [WithKeyDatabase] uses the memory store (the database
// store needs the plugin's database; [AuthFactory] passes it).
//
// The public keys of every plugin in a backend are reachable through its
// [Keyring], so plugins of one backend verify each other's tokens
// without network calls. A token from a plugin in another backend is
// verified with the JWKS that plugin serves at
// <discovery base URL>/.greenroom/auth/v1/jwks.json (Auth.PublicServiceKeys);
// it is fetched with a 10 second timeout, cached for 10 minutes, and
// fetched again (at most every 30 seconds) when a token names a kid it
// does not hold. Since anyone can send a token naming any plugin, the
// fetches are bounded:
//
//   - Keys are fetched only for plugins the discovery locates in another
//     backend ([PluginEndpoints]; with the default discovery, plugins
//     listed with an internal target in discovery.endpoints). A token
//     naming any other plugin fails with "Unable to verify token: plugin
//     'x' is not known to this backend" and costs no request.
//   - A failed fetch is remembered for 30 seconds per plugin, apart from
//     the cached key sets (at most 256 of each), so failures never evict
//     good keys; concurrent tokens of one plugin share one fetch.
//   - A backend makes at most 16 fetches at once, then one per second;
//     beyond that, tokens of plugins whose keys are not cached fail (an
//     expired cached key set is used instead, if there is one).
//   - Warnings are logged once per cause (a plugin whose keys cannot be
//     fetched, tokens from unknown plugins, the exhausted budget) every 30
//     seconds, with the number of repeats suppressed, not once per token.
//
// With the memory key store, keys belong to one process, and a backend
// that runs plugin P verifies P's tokens with its own P keys only: with
// several replicas, a plugin token or an auth cookie issued by P on one
// replica fails with "Token signing key is unknown" on another. Use the
// database key store (the default) for replicas.
//
// # Configuration
//
// The root context of [AuthFactory] reads, once per backend:
//
//	backend:
//	  auth:
//	    # Accept requests without credentials everywhere and ignore auth
//	    # policies (the router reads it too). For local experiments only.
//	    dangerouslyDisableDefaultAuthPolicy: false
//
//	    # The longest lifetime (exp - iat) of a token of any kind; tokens
//	    # that live longer are refused with "Token lifetime is too long".
//	    # Plugin and limited user tokens are issued within it. Give every
//	    # backend of a deployment the same value. At least 1m.
//	    maxTokenLifetime: 24h
//
//	    # Where the public service keys are published (see Service keys).
//	    keyStore:
//	      type: database                    # database (default) | memory
//	      rotationPeriod: 1h                # at least 1m
//
//	    # Public keys that verify user tokens. Omit to accept no user tokens.
//	    userTokens:
//	      issuer: https://idp.example.com   # optional; when set, iss must equal it
//	      publicKeys:                       # files, read at startup
//	        - file: /etc/greenroom/user-keys.jwks.json  # a JWKS or a single JWK
//	        - file: /etc/greenroom/user-key.pem         # PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE blocks
//	      jwks:                             # an inline JWKS, e.g. printed by "greenroom keygen"
//	        keys:
//	          - {kty: EC, crv: P-256, x: "...", y: "...", kid: "...", alg: ES256, use: sig}
//
//	    # Static tokens for callers outside the backend (scripts, CI).
//	    externalAccess:
//	      - type: static                    # the only supported type
//	        options:
//	          token: ${CI_TOKEN}            # at least 8 characters, no whitespace, unique
//	          subject: ci-bot               # the service principal's subject
//	        accessRestrictions:             # optional: the plugins the token may call
//	          - plugin: catalog
//	            permission: [catalog.entity.read]      # optional
//	            permissionAttribute: {action: [read]}  # optional
//
// Keys must be EC P-256 (ES256), RSA of at least 2048 bits (RS256) or
// Ed25519 (EdDSA) public keys; a key's alg, if given, must match its type,
// and keys without a kid get their RFC 7638 thumbprint as kid. A user token
// with a kid is verified by the key with that kid only; one without a kid
// by any key. Static tokens are compared in constant time; a request
// with a restricted token to another plugin fails with NotAllowedError
// (403) "This token's access is restricted to plugin(s) 'a', 'b'". Unknown
// keys, bad values and duplicates fail the factory with an error naming the
// key, such as backend.auth.externalAccess[1].options.token.
//
// HTTPAuthFactory reads the plugin's external base URL from core.Discovery
// (backend.baseUrl, discovery.endpoints): the auth cookie is Secure and
// SameSite=None when it is https, SameSite=Lax otherwise, HttpOnly, Path
// "/", host-only (no Domain attribute).
//
// # HTTP
//
// HTTPAuth.Credentials reads "Authorization: Bearer <token>" (the scheme is
// case-insensitive); on paths with a user-cookie policy (see
// internal/reqctx) it falls back to the auth cookie. No token gives none
// credentials. The result is verified once per request. With an allow list,
// a disallowed none principal is a 401 "Missing credentials" and a
// disallowed user or service principal a 403 "This endpoint does not
// allow 'user' credentials". HTTPAuth.IssueUserCookie with none credentials
// clears the cookie, for the DELETE route of the cookie endpoint.
//
// # Minting user tokens
//
// [UserTokenIssuer] holds a private key and issues user tokens, for tests
// and development:
//
//	go run ./cmd/greenroom keygen --out dev-user-key.json  # prints the public JWKS for userTokens.jwks
//	go run ./cmd/greenroom token --key dev-user-key.json --user user:default/alice --ttl 1h
package auth
