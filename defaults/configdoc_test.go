package defaults_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
	"github.com/greenroom-dev/greenroom/defaults/discovery"
	"github.com/greenroom-dev/greenroom/defaults/httprouter"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/defaults/urlreader"
)

// configDoc is the configuration reference, relative to this package.
const configDoc = "../docs/configuration.md"

// exampleMarker precedes the production example's YAML block in configDoc.
const exampleMarker = "<!-- config-example: production -->"

// docExample returns the YAML of the production example in configDoc and
// the whole document.
func docExample(t *testing.T) (yaml, doc string) {
	t.Helper()
	b, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatalf("reading the configuration reference: %v", err)
	}
	doc = string(b)
	_, rest, ok := strings.Cut(doc, exampleMarker)
	if !ok {
		t.Fatalf("%s: no %q marker before the production example", configDoc, exampleMarker)
	}
	rest = strings.TrimLeft(rest, "\n")
	body, ok := strings.CutPrefix(rest, "```yaml\n")
	if !ok {
		t.Fatalf("%s: the line after %q must open a ```yaml block", configDoc, exampleMarker)
	}
	yaml, _, ok = strings.Cut(body, "\n```\n")
	if !ok {
		t.Fatalf("%s: the production example's ```yaml block is not closed", configDoc)
	}
	return yaml, doc
}

// TestConfigurationDocExample loads the production example of
// docs/configuration.md with the config loader and passes it to the
// readers of the default services, without starting anything: no
// listener, no database connection. Readers that are not exported (the
// root router's timeouts, the plugin router's settings, the backend's
// shutdown settings) are checked through the same getters with the same
// rules. Every key of the example must also be listed in the reference.
func TestConfigurationDocExample(t *testing.T) {
	t.Parallel()
	example, doc := docExample(t)
	for _, p := range exampleProblems(t, example, doc) {
		t.Errorf("%s, production example: %s", configDoc, p)
	}
}

// TestConfigurationDocExampleCatchesMistakes checks that exampleProblems
// reports a broken example: a wrong value, a misspelt key, an unset
// variable.
func TestConfigurationDocExampleCatchesMistakes(t *testing.T) {
	t.Parallel()
	example, doc := docExample(t)
	for _, c := range []struct{ old, new, want string }{
		{"maxAge: 10m", "maxAge: ten minutes", `config key "backend.cors.maxAge"`},
		{"serverShutdownDelay: 15s", "serverShutdownDelai: 15s", "backend.lifecycle.serverShutdownDelai"},
		{"serverShutdownTimeout: 30s", "serverShutdownTimeout: 0s", "backend.lifecycle.serverShutdownTimeout"},
		{"${CI_BOT_TOKEN}", "${CI_TOKEN}", `environment variable "CI_TOKEN" is not set`},
		{"client: postgres", "client: oracle", "unsupported database client type 'oracle'"},
	} {
		broken := strings.Replace(example, c.old, c.new, 1)
		if broken == example {
			t.Errorf("the example no longer contains %q; update this test", c.old)
			continue
		}
		problems := exampleProblems(t, broken, doc)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, c.want) }) {
			t.Errorf("with %q: problems %q; want one containing %q", c.new, problems, c.want)
		}
	}
}

// exampleProblems loads example as a config file and returns what is wrong
// with it: load and reader errors, and keys that doc does not list.
func exampleProblems(t *testing.T, example, doc string) []string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "app-config.production.yaml")
	if err := os.WriteFile(file, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	// The example reads user keys from /etc/greenroom; point that list at
	// a real key file with an override, as a deployment could.
	issuer, err := auth.NewUserTokenIssuer()
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(issuer.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "user-keys.jwks.json")
	if err := os.WriteFile(keyFile, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	keysOverride, err := json.Marshal([]map[string]string{{"file": keyFile}})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"POSTGRES_PASSWORD=pg-secret",
		"CATALOG_DB_PASSWORD=catalog-secret",
		"CI_BOT_TOKEN=ci-token-0123456789",
		config.EnvPrefix + "backend_auth_userTokens_publicKeys=" + string(keysOverride),
	}
	cfg, err := config.Load([]string{file}, env)
	if err != nil {
		return []string{"load: " + err.Error()}
	}

	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	// The exported readers of the default services.
	if _, err := logger.NewFromConfig(cfg, logger.Writer(io.Discard)); err != nil {
		report("logger: %v", err)
	}
	if cors, err := httprouter.CORSOptionsFromConfig(cfg); err != nil || cors == nil {
		report("CORS: %+v, %v; want options", cors, err)
	}
	if keyring, err := auth.NewKeyring(cfg); err != nil {
		report("auth: %v", err)
	} else if keyring.DangerouslyDisableDefaultAuthPolicy() {
		report("auth: the production example disables the default auth policy")
	}
	if opts, err := urlreader.ReadConfig(cfg); err != nil {
		report("%v", err)
	} else if _, err := urlreader.New(opts); err != nil {
		report("%v", err)
	}
	if _, err := discovery.New(cfg, nil); err != nil {
		report("discovery: %v", err)
	}
	if _, err := database.NewManager(cfg, nil); err != nil {
		report("database: %v", err)
	}

	// The readers that are not exported, through the same getters and
	// rules (defaults/httprouter root.go and router.go, backend
	// lifecycle.go).
	for _, key := range []string{
		"backend.server.readHeaderTimeout", "backend.server.readTimeout",
		"backend.server.writeTimeout", "backend.server.idleTimeout",
		"backend.lifecycle.serverShutdownDelay",
	} {
		if d, ok, err := cfg.OptionalDuration(key); err != nil || (ok && d < 0) {
			report("%s: %s, %v; want a duration of 0 or more", key, d, err)
		}
	}
	for _, key := range []string{"backend.lifecycle.startupRequestPauseTimeout", "backend.lifecycle.serverShutdownTimeout"} {
		if d, ok, err := cfg.OptionalDuration(key); err != nil || (ok && d <= 0) {
			report("%s: %s, %v; want a positive duration", key, d, err)
		}
	}
	if n, ok, err := cfg.OptionalInt("backend.http.maxRequestBodyBytes"); err != nil || (ok && n <= 0) {
		report("backend.http.maxRequestBodyBytes: %d, %v; want a positive number", n, err)
	}
	delay, _, _ := cfg.OptionalDuration("backend.lifecycle.serverShutdownDelay")
	timeout, _, _ := cfg.OptionalDuration("backend.lifecycle.serverShutdownTimeout")
	if delay+timeout >= time.Minute {
		report("serverShutdownDelay + serverShutdownTimeout = %s; the example says it fits the example backend's --shutdown-timeout of 1m", delay+timeout)
	}

	// Every key of the example is in the reference: most readers ignore
	// unknown keys, so a misspelt key would silently keep its default.
	var whole map[string]any
	if err := cfg.Decode("", &whole); err != nil {
		t.Fatal(err)
	}
	for _, k := range leafKeys(whole, "") {
		if !strings.Contains(doc, "`"+k+"`") {
			report("%s is set but not listed in the reference as `%s`", k, k)
		}
	}
	return problems
}

// leafKeys returns the paths of the values of v that are not objects or
// lists of objects, as the reference writes them: list elements as "[]",
// the plugin ids under backend.database.plugin as "<pluginId>".
func leafKeys(v any, path string) []string {
	switch x := v.(type) {
	case map[string]any:
		var out []string
		for k, e := range x {
			if path == "backend.database.plugin" {
				k = "<pluginId>"
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			out = append(out, leafKeys(e, p)...)
		}
		slices.Sort(out)
		return slices.Compact(out)
	case []any:
		if len(x) > 0 {
			if _, ok := x[0].(map[string]any); ok {
				var out []string
				for _, e := range x {
					out = append(out, leafKeys(e, path+"[]")...)
				}
				slices.Sort(out)
				return slices.Compact(out)
			}
		}
	}
	return []string{path}
}
