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
	ctx := context.Background()
	for _, format := range []string{"jwk", "pem"} {
		t.Run(format, func(t *testing.T) {
			key := filepath.Join(t.TempDir(), "dev-user-key")
			code, jwks, stderr := runCmd(t, "keygen", "-out", key, "-format", format)
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

			code, tok, stderr := runCmd(t, "token", "-key", key, "-sub", "user:default/alice", "-ent", "user:default/alice, group:default/team-a", "-ttl", "10m")
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
			code, again, _ := runCmd(t, "jwks", "-key", key)
			if code != 0 || again != jwks {
				t.Errorf("jwks = %d %q, want %q", code, again, jwks)
			}
		})
	}
}

func TestTokenIssuer(t *testing.T) {
	key := filepath.Join(t.TempDir(), "k.json")
	code, jwks, _ := runCmd(t, "keygen", "-out", key)
	if code != 0 {
		t.Fatal("keygen failed")
	}
	a := verifier(t, jwks, "      issuer: https://idp.example.com\n")
	code, tok, stderr := runCmd(t, "token", "-key", key, "-sub", "user:default/alice", "-iss", "https://idp.example.com")
	if code != 0 {
		t.Fatalf("token -iss exit %d: %s", code, stderr)
	}
	if _, err := a.Authenticate(context.Background(), strings.TrimSpace(tok)); err != nil {
		t.Errorf("token with -iss refused: %v", err)
	}
	code, tok, stderr = runCmd(t, "token", "-key", key, "-sub", "user:default/alice")
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
	key := filepath.Join(t.TempDir(), "k.json")
	if err := os.WriteFile(key, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "keygen", "-out", key)
	if code != 1 || !strings.Contains(stderr, key+" already exists; use -force to overwrite it") {
		t.Errorf("keygen over a file = %d %q", code, stderr)
	}
	if data, _ := os.ReadFile(key); string(data) != "precious" {
		t.Error("keygen overwrote the file without -force")
	}
	code, _, stderr = runCmd(t, "keygen", "-out", key, "-force")
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
	dir := t.TempDir()
	key := filepath.Join(dir, "k.json")
	if code, _, _ := runCmd(t, "keygen", "-out", key); code != 0 {
		t.Fatal("keygen failed")
	}
	garbage := filepath.Join(dir, "garbage")
	_ = os.WriteFile(garbage, []byte("hello"), 0o600)

	tests := []struct {
		name       string
		args       []string
		code       int
		wantStderr []string
	}{
		{"no command", nil, 2, []string{"usage: greenroom <command>", "keygen", "token", "jwks"}},
		{"unknown command", []string{"mint"}, 2, []string{`greenroom: unknown command "mint"`, "usage: greenroom <command>"}},
		{"help of unknown command", []string{"help", "mint"}, 2, []string{`greenroom help: unknown command "mint"`}},
		{"unknown flag", []string{"token", "-user", "x"}, 2, []string{"flag provided but not defined: -user", "usage: greenroom token"}},
		{"extra arguments", []string{"jwks", "-key", key, "extra"}, 2, []string{"greenroom jwks: unexpected arguments: extra", "usage: greenroom jwks"}},
		{"keygen without -out", []string{"keygen"}, 2, []string{"greenroom keygen: -out is required", "Run 'greenroom help keygen' for usage."}},
		{"keygen bad format", []string{"keygen", "-out", filepath.Join(dir, "x"), "-format", "der"}, 2, []string{`greenroom keygen: -format "der" is not supported, use jwk or pem`}},
		{"keygen into a missing directory", []string{"keygen", "-out", filepath.Join(dir, "no", "such", "dir")}, 1, []string{"greenroom keygen: writing the private key:"}},
		{"token without -key", []string{"token", "-sub", "user:default/alice"}, 2, []string{"greenroom token: -key is required"}},
		{"token without -sub", []string{"token", "-key", key}, 2, []string{"greenroom token: -sub is required"}},
		{"token bad ttl", []string{"token", "-key", key, "-sub", "user:default/alice", "-ttl", "soon"}, 2, []string{`invalid value "soon" for flag -ttl`}},
		{"token negative ttl", []string{"token", "-key", key, "-sub", "user:default/alice", "-ttl", "-1h"}, 2, []string{"greenroom token: -ttl must be positive, got -1h0m0s"}},
		{"token bad sub", []string{"token", "-key", key, "-sub", "alice"}, 1, []string{`greenroom token: auth: issuing user token: invalid user entity reference "alice"`}},
		{"token bad ent", []string{"token", "-key", key, "-sub", "user:default/alice", "-ent", "team-a"}, 1, []string{"ownership ref"}},
		{"token missing key file", []string{"token", "-key", filepath.Join(dir, "nope"), "-sub", "user:default/alice"}, 1, []string{"greenroom token: reading the key:"}},
		{"token garbage key file", []string{"token", "-key", garbage, "-sub", "user:default/alice"}, 1, []string{"greenroom token: " + garbage + ": auth: the key is neither a JWK nor PEM"}},
		{"jwks without -key", []string{"jwks"}, 2, []string{"greenroom jwks: -key is required"}},
		{"jwks garbage key file", []string{"jwks", "-key", garbage}, 1, []string{"neither a JWK nor PEM"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
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
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"usage: greenroom <command> [flags]", "keygen   create a private key", "token    print a user token", "jwks     print the public key set"}},
		{[]string{"--help"}, []string{"usage: greenroom <command> [flags]"}},
		{[]string{"-h"}, []string{"usage: greenroom <command> [flags]"}},
		{[]string{"help", "keygen"}, []string{"usage: greenroom keygen -out <file>", "backend.auth.userTokens.jwks", "-force", "-format"}},
		{[]string{"help", "token"}, []string{"usage: greenroom token -key <file> -sub <user entity ref>", "-ttl duration", "(default 1h0m0s)", "-ent refs", "-iss issuer"}},
		{[]string{"help", "jwks"}, []string{"usage: greenroom jwks -key <file>"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
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
	// A command's -help prints its usage to stderr and succeeds.
	code, _, stderr := runCmd(t, "token", "-help")
	if code != 0 || !strings.Contains(stderr, "usage: greenroom token") {
		t.Errorf("token -help = %d %q", code, stderr)
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
	// Greenroom is the command-line tool of Greenroom backends.
	//
	// usage: greenroom <command> [flags]
	//
	// Commands:
	//   keygen   create a private key for signing development user tokens
	//   token    print a user token signed with a keygen key
	//   jwks     print the public key set of a keygen key
	//
	// Run 'greenroom help <command>' for the flags of a command.
}
