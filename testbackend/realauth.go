package testbackend

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auth"
)

// realUserTokenTTL is the lifetime of the user tokens minted for requests.
const realUserTokenTTL = time.Hour

// realAuth mints tokens that the production auth services accept: user
// tokens signed by a key the backend trusts, plugin tokens issued by the
// calling plugin's own Auth service, and the static token configured for
// the default external subject.
//
// Plugin tokens are the backend's own; the keys are those of its settings,
// shared by every instance of StartInstances, which all trust them.
type realAuth struct {
	b *backend.Backend
	*realAuthKeys
}

// realAuthKeys are the user token key and static tokens of WithRealAuth,
// in the config of every backend started with the same settings.
type realAuthKeys struct {
	issuer *auth.UserTokenIssuer
	// static maps the subjects of the static external access tokens in
	// the backend's config to their tokens.
	static map[string]string
}

// configureRealAuth generates the user token key and the default static
// token, and adds them to the config, keeping what the test configured.
func (s *settings) configureRealAuth() (*realAuthKeys, error) {
	issuer, err := auth.NewUserTokenIssuer()
	if err != nil {
		return nil, fmt.Errorf("WithRealAuth: %w", err)
	}
	// The JWKS goes into the config as JSON values, as if read from YAML.
	var jwks map[string]any
	data, err := json.Marshal(issuer.JWKS())
	if err == nil {
		err = json.Unmarshal(data, &jwks)
	}
	if err != nil {
		return nil, fmt.Errorf("WithRealAuth: encoding the user token key: %w", err)
	}
	ra := &realAuthKeys{issuer: issuer, static: map[string]string{}}

	// Read the static tokens the test configured, so AsService can use
	// them, and add one for the default subject unless it has one.
	list, _ := lookup(s.config, "backend.auth.externalAccess").([]any)
	for _, e := range list {
		if tok, sub := staticEntry(e); tok != "" && sub != "" {
			ra.static[sub] = tok
		}
	}
	if _, ok := ra.static[defaultServiceSubject]; !ok {
		tok := "test-" + rand.Text()
		ra.static[defaultServiceSubject] = tok
		list = append(list, map[string]any{"type": "static", "options": map[string]any{"token": tok, "subject": defaultServiceSubject}})
	}
	if err := setPath(s.config, "backend.auth.externalAccess", list); err != nil {
		return nil, fmt.Errorf("WithRealAuth: %w", err)
	}
	if lookup(s.config, "backend.auth.userTokens") == nil {
		if err := setPath(s.config, "backend.auth.userTokens", map[string]any{"jwks": jwks}); err != nil {
			return nil, fmt.Errorf("WithRealAuth: %w", err)
		}
	} else if err := appendUserKeys(s.config, jwks); err != nil {
		return nil, fmt.Errorf("WithRealAuth: %w", err)
	}
	return ra, nil
}

// appendUserKeys adds the keys of jwks to the JWKS the test configured
// under backend.auth.userTokens.
func appendUserKeys(config map[string]any, jwks map[string]any) error {
	keys, _ := lookup(config, "backend.auth.userTokens.jwks.keys").([]any)
	keys = append(keys, jwks["keys"].([]any)...)
	return setPath(config, "backend.auth.userTokens.jwks.keys", keys)
}

// lookup returns the value at the dot-separated key of a nested map, or nil.
func lookup(m map[string]any, key string) any {
	var v any = m
	for _, p := range strings.Split(key, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

// staticEntry returns the token and subject of a backend.auth.externalAccess
// entry of type static.
func staticEntry(e any) (token, subject string) {
	m, _ := e.(map[string]any)
	if m["type"] != "static" {
		return "", ""
	}
	opts, _ := m["options"].(map[string]any)
	token, _ = opts["token"].(string)
	subject, _ = opts["subject"].(string)
	return token, subject
}

func (ra *realAuthKeys) userToken(_ context.Context, ref string) (string, error) {
	return ra.issuer.Issue(ref, nil, realUserTokenTTL)
}

// userCredentials returns the credentials of a fresh token of the user,
// verified by the plugin's Auth, as an on-behalf-of call needs them.
func (ra *realAuth) userCredentials(ctx context.Context, a core.Auth, ref string) (core.Credentials, error) {
	tok, err := ra.userToken(ctx, ref)
	if err != nil {
		return core.Credentials{}, err
	}
	return a.Authenticate(ctx, tok)
}

func (ra *realAuth) limitedUserToken(ctx context.Context, ref, target string) (string, error) {
	if target == "" {
		return "", errNoTarget("a limited user token")
	}
	a, err := backend.Resolve(ctx, ra.b, core.AuthRef, target)
	if err != nil {
		return "", err
	}
	creds, err := ra.userCredentials(ctx, a, ref)
	if err != nil {
		return "", err
	}
	tok, _, err := a.LimitedUserToken(ctx, creds)
	return tok, err
}

func (ra *realAuth) serviceToken(ctx context.Context, subject, onBehalfOf, target string) (string, error) {
	pluginID, isPlugin := strings.CutPrefix(subject, "plugin:")
	if !isPlugin {
		tok, ok := ra.static[subject]
		switch {
		case !ok:
			return "", fmt.Errorf("with WithRealAuth, the service subject %q needs a static token: configure one under backend.auth.externalAccess with WithConfig (type: static, options: {token, subject: %q}), or use a plugin subject such as \"plugin:catalog\"", subject, subject)
		case onBehalfOf != "":
			return "", fmt.Errorf("the external subject %q cannot call on behalf of a user; only plugins can (use a subject such as \"plugin:catalog\")", subject)
		}
		return tok, nil
	}
	if target == "" {
		return "", errNoTarget("a plugin token")
	}
	a, err := backend.Resolve(ctx, ra.b, core.AuthRef, pluginID)
	if err != nil {
		return "", err
	}
	creds := a.OwnServiceCredentials()
	if onBehalfOf != "" {
		if creds, err = ra.userCredentials(ctx, a, onBehalfOf); err != nil {
			return "", err
		}
	}
	return a.PluginRequestToken(ctx, creds, target)
}

// invalidate breaks the signature of a JWT, keeping its header and claims,
// so that the real verification finds a well-formed token of the right
// kind and rejects its signature. A static token gets a suffix, which
// makes it unknown.
func (ra *realAuthKeys) invalidate(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return token + "-invalid"
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		return token + "-invalid"
	}
	sig[0] ^= 0xff
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(parts, ".")
}

var _ tokenMinter = (*realAuth)(nil)
