package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/defaults/config"
)

// runCmd runs the command line and returns its status and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// verifier returns an Auth service that trusts the JWKS printed by keygen.
func verifier(t *testing.T, jwks string, extra string) core.Auth {
	t.Helper()
	var set map[string]any
	if err := json.Unmarshal([]byte(jwks), &set); err != nil {
		t.Fatalf("keygen printed no JSON: %v\n%s", err, jwks)
	}
	b, _ := json.Marshal(set)
	cfg, err := config.FromYAML("backend:\n  auth:\n    userTokens:\n      jwks: " + string(b) + "\n" + extra)
	if err != nil {
		t.Fatal(err)
	}
	k, err := auth.NewKeyring(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.NewAuth(k, "catalog", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestKeygenAndToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, format := range []string{"jwk", "pem"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			key := filepath.Join(t.TempDir(), "dev-user-key")
			code, jwks, stderr := runCmd(t, "keygen", "--out", key, "--format", format)
			if code != 0 {
				t.Fatalf("keygen exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "Wrote the private key to "+key) || !strings.Contains(stderr, "backend.auth.userTokens.jwks") {
				t.Errorf("keygen stderr = %q", stderr)
			}
			if strings.Contains(jwks, `"d"`) {
				t.Fatal("keygen printed the private key")
			}
			if runtime.GOOS != "windows" {
				if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("key file mode = %v, %v; want 0600", fi.Mode(), err)
				}
			}
			data, _ := os.ReadFile(key)
			if format == "pem" && !strings.HasPrefix(string(data), "-----BEGIN PRIVATE KEY-----") {
				t.Errorf("pem key = %.40q", data)
			}

			code, tok, stderr := runCmd(t, "token", "--key", key, "--user", "user:default/alice", "--ent", "user:default/alice, group:default/team-a", "--ttl", "10m")
			if code != 0 {
				t.Fatalf("token exit %d: %s", code, stderr)
			}
			tok = strings.TrimSuffix(tok, "\n")
			creds, err := verifier(t, jwks, "").Authenticate(ctx, tok)
			if err != nil {
				t.Fatalf("the backend refused the token: %v", err)
			}
			if creds.Principal.UserEntityRef != "user:default/alice" {
				t.Errorf("credentials = %v", creds)
			}
			if d := time.Until(creds.ExpiresAt); d <= 9*time.Minute || d > 10*time.Minute+time.Second {
				t.Errorf("token expires in %s, want 10m", d)
			}
			info, err := auth.NewUserInfo().Get(ctx, creds)
			if err != nil || strings.Join(info.OwnershipEntityRefs, ",") != "user:default/alice,group:default/team-a" {
				t.Errorf("user info = %+v, %v", info, err)
			}

			// jwks prints the same public key set again.
			code, again, _ := runCmd(t, "jwks", "--key", key)
			if code != 0 || again != jwks {
				t.Errorf("jwks = %d %q, want %q", code, again, jwks)
			}
		})
	}
}

func TestTokenIssuer(t *testing.T) {
	t.Parallel()
	key := filepath.Join(t.TempDir(), "k.json")
	code, jwks, _ := runCmd(t, "keygen", "--out", key)
	if code != 0 {
		t.Fatal("keygen failed")
	}
	a := verifier(t, jwks, "      issuer: https://idp.example.com\n")
	code, tok, stderr := runCmd(t, "token", "--key", key, "--user", "user:default/alice", "--iss", "https://idp.example.com")
	if code != 0 {
		t.Fatalf("token -iss exit %d: %s", code, stderr)
	}
	if _, err := a.Authenticate(context.Background(), strings.TrimSpace(tok)); err != nil {
		t.Errorf("token with -iss refused: %v", err)
	}
	code, tok, stderr = runCmd(t, "token", "--key", key, "--user", "user:default/alice")
	if code != 0 {
		t.Fatalf("token exit %d: %s", code, stderr)
	}
	if _, err := a.Authenticate(context.Background(), strings.TrimSpace(tok)); err == nil {
		t.Error("token without -iss accepted by a backend that checks the issuer")
	}
	jws, err := jose.ParseSignedCompact(strings.TrimSpace(tok), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType] != auth.TokenTypeUser {
		t.Errorf("token header = %v, %v", jws, err)
	}
}

func TestKeygenOverwrite(t *testing.T) {
	t.Parallel()
	key := filepath.Join(t.TempDir(), "k.json")
	if err := os.WriteFile(key, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "keygen", "--out", key)
	if code != 1 || !strings.Contains(stderr, key+" already exists; use --force to overwrite it") {
		t.Errorf("keygen over a file = %d %q", code, stderr)
	}
	if data, _ := os.ReadFile(key); string(data) != "precious" {
		t.Error("keygen overwrote the file without -force")
	}
	code, _, stderr = runCmd(t, "keygen", "--out", key, "--force")
	if code != 0 {
		t.Fatalf("keygen -force = %d %s", code, stderr)
	}
	if _, err := auth.ParseUserTokenIssuer(mustRead(t, key)); err != nil {
		t.Errorf("overwritten key: %v", err)
	}
	if fi, _ := os.Stat(key); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("overwritten key mode = %v, want 0600", fi.Mode())
	}
}

func TestCommandLineErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "k.json")
	if code, _, _ := runCmd(t, "keygen", "--out", key); code != 0 {
		t.Fatal("keygen failed")
	}
	garbage := filepath.Join(dir, "garbage")
	_ = os.WriteFile(garbage, []byte("hello"), 0o600)
	// The public key set keygen prints: a user may pass it for the key.
	jwks := filepath.Join(dir, "jwks.json")
	code, out, _ := runCmd(t, "jwks", "--key", key)
	if code != 0 {
		t.Fatal("jwks failed")
	}
	if err := os.WriteFile(jwks, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		args       []string
		code       int
		wantStderr []string
	}{
		{"no command", nil, 2, []string{"Usage:", "greenroom [command]", "keygen", "token", "jwks", "new", "cover"}},
		{"unknown command", []string{"mint"}, 2, []string{`greenroom: unknown command "mint" for "greenroom"`, "Run 'greenroom --help' for usage."}},
		{"help of unknown command", []string{"help", "mint"}, 2, []string{`greenroom help: unknown command "mint"; run 'greenroom help' for the list of commands`}},
		{"unknown flag", []string{"token", "--bogus", "x"}, 2, []string{"greenroom token: unknown flag: --bogus", "Run 'greenroom token --help' for usage."}},
		{"single-dash long flag", []string{"token", "-key", key}, 2, []string{"greenroom token: unknown shorthand flag: 'k' in -key"}},
		{"extra arguments", []string{"jwks", "--key", key, "extra"}, 2, []string{"greenroom jwks: unexpected arguments: extra", "Run 'greenroom jwks --help' for usage."}},
		{"keygen without --out", []string{"keygen"}, 2, []string{"greenroom keygen: --out is required", "Run 'greenroom keygen --help' for usage."}},
		{"keygen bad format", []string{"keygen", "--out", filepath.Join(dir, "x"), "--format", "der"}, 2, []string{`greenroom keygen: --format "der" is not supported, use jwk or pem`}},
		{"keygen into a missing directory", []string{"keygen", "--out", filepath.Join(dir, "no", "such", "dir")}, 1, []string{"greenroom keygen: writing the private key:"}},
		{"token without a key", []string{"token", "--user", "user:default/alice"}, 2, []string{"greenroom token: --user needs the signing key: give --key <file>"}},
		{"token without a principal", []string{"token", "--key", key}, 2, []string{"greenroom token: name the principal: --user user:default/alice"}},
		{"token user and service", []string{"token", "--key", key, "--user", "user:default/alice", "--service", "ci"}, 2, []string{"--user and --service exclude each other"}},
		{"token service without config", []string{"token", "--service", "ci"}, 2, []string{"--service reads backend.auth.externalAccess: give the backend's config with --config <file>"}},
		{"token bad ttl", []string{"token", "--key", key, "--user", "user:default/alice", "--ttl", "soon"}, 2, []string{`invalid argument "soon" for "--ttl" flag`}},
		{"token negative ttl", []string{"token", "--key", key, "--user", "user:default/alice", "--ttl", "-1h"}, 2, []string{"greenroom token: --ttl must be positive, got -1h0m0s"}},
		{"token bad sub", []string{"token", "--key", key, "--user", "alice"}, 1, []string{`greenroom token: auth: issuing user token: invalid user entity reference "alice"`}},
		{"token bad ent", []string{"token", "--key", key, "--user", "user:default/alice", "--ent", "team-a"}, 1, []string{"ownership ref"}},
		{"token missing key file", []string{"token", "--key", filepath.Join(dir, "nope"), "--user", "user:default/alice"}, 1, []string{"greenroom token: reading the key:", "create one with 'greenroom keygen --out " + filepath.Join(dir, "nope") + "'"}},
		{"token public key set as the key", []string{"token", "--key", jwks, "--user", "user:default/alice"}, 1, []string{"greenroom token: " + jwks + " is not a private key written by 'greenroom keygen'", "create one with 'greenroom keygen --out <file>'"}},
		{"token garbage key file", []string{"token", "--key", garbage, "--user", "user:default/alice"}, 1, []string{"greenroom token: " + garbage + " is not a private key written by 'greenroom keygen'", "auth: the key is neither a JWK nor PEM"}},
		{"token missing config", []string{"token", "--config", filepath.Join(dir, "nope.yaml"), "--user", "user:default/alice"}, 1, []string{"greenroom token: reading the config " + filepath.Join(dir, "nope.yaml")}},
		{"jwks without --key", []string{"jwks"}, 2, []string{"greenroom jwks: --key is required"}},
		{"jwks garbage key file", []string{"jwks", "--key", garbage}, 1, []string{"neither a JWK nor PEM"}},
		{"new without a kind", []string{"new"}, 2, []string{"greenroom new: name what to create"}},
		{"new plugin without --id", []string{"new", "plugin"}, 2, []string{"greenroom new plugin: --id is required"}},
		{"new module without --plugin", []string{"new", "module", "--id", "audit"}, 2, []string{"greenroom new module: --plugin is required"}},
		{"new module without --id", []string{"new", "module", "--plugin", "demo"}, 2, []string{"greenroom new module: --id is required"}},
		{"cover without a profile", []string{"cover"}, 2, []string{"greenroom cover: give one coverage profile"}},
		{"cover negative min", []string{"cover", "--min", "-1", "x.out"}, 2, []string{"thresholds are percentages from 0 up"}},
		{"cover missing profile", []string{"cover", filepath.Join(dir, "nope.out")}, 1, []string{"greenroom cover: reading the coverage profile:"}},
		{"cover missing config", []string{"cover", "--config", filepath.Join(dir, "nope.yaml"), "x.out"}, 1, []string{"greenroom cover: reading the coverage config:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit = %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"Usage:\n  greenroom [flags]\n  greenroom [command]", "keygen      Create a private key", "token       Print a user or service token", "jwks        Print the public key set", "new         Create a plugin or a module", "cover       Check a coverage profile", "completion"}},
		{[]string{"--help"}, []string{"greenroom [command]"}},
		{[]string{"-h"}, []string{"greenroom [command]"}},
		{[]string{"help", "keygen"}, []string{"greenroom keygen --out <file>", "backend.auth.userTokens.jwks", "--force", "--format"}},
		{[]string{"help", "token"}, []string{"greenroom token (--user <ref> | --service <subject>)", "--ttl duration", "(default 1h0m0s)", "--ent refs", "--iss issuer", "--config file", "--service subject", devSigningKeyConfig}},
		{[]string{"help", "jwks"}, []string{"greenroom jwks --key <file>"}},
		{[]string{"help", "new", "plugin"}, []string{"greenroom new plugin --id <id> [--dir <dir>]", "--id id"}},
		{[]string{"help", "new", "module"}, []string{"greenroom new module --plugin <id> --id <module>", "--plugin id"}},
		{[]string{"help", "cover"}, []string{"--min percent", "--package-min percent", "--html file", "--config file", defaultCoverConfig}},
		{[]string{"token", "--help"}, []string{"greenroom token (--user"}},
		{[]string{"completion", "--help"}, []string{"bash", "zsh", "fish", "powershell"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, tc.args...)
			if code != 0 || stderr != "" {
				t.Errorf("exit = %d, stderr = %q", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("help does not contain %q:\n%s", w, stdout)
				}
			}
		})
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{
		"bash":       "# bash completion V2 for greenroom",
		"zsh":        "#compdef greenroom",
		"fish":       "# fish completion for greenroom",
		"powershell": "# powershell completion for greenroom",
	} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, "completion", shell)
			if code != 0 || !strings.Contains(stdout, want) {
				t.Errorf("completion %s = %d, stderr %q, stdout starts %.80q", shell, code, stderr, stdout)
			}
		})
	}
	// The completion of the keygen --format values.
	code, stdout, _ := runCmd(t, "__complete", "keygen", "--format", "")
	if code != 0 || !strings.Contains(stdout, "jwk\npem\n") {
		t.Errorf("completion of --format = %d %q", code, stdout)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func Example() {
	run([]string{"help"}, os.Stdout, os.Stderr)
	// Output:
	// Greenroom is the command-line tool of Greenroom backends: it creates plugins and modules,
	// mints development tokens from the backend's own config, and gates CI on test coverage.
	//
	// Usage:
	//   greenroom [flags]
	//   greenroom [command]
	//
	// Available Commands:
	//   completion  Generate the autocompletion script for the specified shell
	//   cover       Check a coverage profile against thresholds: the CI coverage gate
	//   help        Help about any command
	//   jwks        Print the public key set of a keygen key
	//   keygen      Create a private key for signing development user tokens
	//   new         Create a plugin or a module in the current Go module
	//   token       Print a user or service token that a backend accepts
	//
	// Flags:
	//   -h, --help   help for greenroom
	//
	// Use "greenroom [command] --help" for more information about a command.
}
