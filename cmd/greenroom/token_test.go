package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/defaults"
	"github.com/greenroom-dev/greenroom/examples/todo"
)

// exampleConfig is the example backend's config, which names its
// development key relative to itself.
const exampleConfig = "../../examples/backend/app-config.yaml"

// startBackend starts a production backend with the todo plugin, read from
// the config files as examples/backend reads them, on an ephemeral port,
// and returns its base URL. It stops on cleanup.
func startBackend(t *testing.T, configs ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	env := []string{"GREENROOM_CONFIG_backend_listen_port=0", "GREENROOM_CONFIG_backend_listen_host=127.0.0.1"}
	b := defaults.New(defaults.ConfigFiles(configs...), defaults.Env(env), defaults.LogOutput(pw))
	if err := b.Add(todo.Plugin); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := b.Start(ctx)
		if err == nil {
			<-ctx.Done()
		}
		err = b.Stop(context.Background())
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	result := sync.OnceValue(func() error { return <-done })
	t.Cleanup(func() {
		cancel()
		if err := result(); err != nil {
			t.Errorf("backend stopped with error: %v", err)
		}
	})
	listening := regexp.MustCompile(`Listening on \S*:(\d+)`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, pr) //nolint:errcheck // drain the rest of the log
			base := "http://127.0.0.1:" + m[1]
			waitReady(t, base)
			return base
		}
	}
	t.Fatalf("backend exited before listening: %v", result())
	return ""
}

// waitReady polls readiness until the backend has started. Its deadline
// only bounds a hang; a working backend is ready after its first answer.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/.greenroom/health/v1/readiness")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("backend at %s not ready", base)
}

// get sends GET path with the token and returns the status.
func get(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// mint runs the token command and returns the token.
func mint(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCmd(t, append([]string{"token"}, args...)...)
	if code != 0 {
		t.Fatalf("token %v: exit %d: %s", args, code, stderr)
	}
	return strings.TrimSpace(stdout)
}

// TestTokenFromTheBackendsConfig mints tokens from the example backend's
// config and sends them to a backend that reads the same file.
func TestTokenFromTheBackendsConfig(t *testing.T) {
	t.Parallel()
	base := startBackend(t, exampleConfig)

	// The key comes from greenroom.token.devSigningKey, relative to the
	// config file.
	alice := mint(t, "--config", exampleConfig, "--user", "user:default/alice", "--ttl", "5m")
	if code := get(t, base+"/api/todo/todos", alice); code != http.StatusOK {
		t.Errorf("GET /api/todo/todos with the minted user token = %d, want 200", code)
	}
	// --key names the same key explicitly.
	bob := mint(t, "--config", exampleConfig, "--key", "../../examples/backend/dev-user-key.json", "--user", "user:default/bob")
	if code := get(t, base+"/api/todo/todos", bob); code != http.StatusOK {
		t.Errorf("GET with --key token = %d, want 200", code)
	}
	// The static service token is accepted as a service principal: the
	// todo routes want a user and answer 403, not 401.
	svc := mint(t, "--config", exampleConfig, "--service", "dev-scripts")
	if svc != "dev-static-token-0123456789" {
		t.Errorf("service token = %q", svc)
	}
	if code := get(t, base+"/api/todo/todos", svc); code != http.StatusForbidden {
		t.Errorf("GET with the service token = %d, want 403 (authenticated service, user route)", code)
	}
	if code := get(t, base+"/api/todo/todos", "not-a-token"); code != http.StatusUnauthorized {
		t.Errorf("GET with garbage = %d, want 401", code)
	}
}

// writeConfig writes a config file into dir and returns its path.
func writeConfig(t *testing.T, dir, name, yaml string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTokenChecksTheConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trusted := filepath.Join(dir, "keys", "trusted.json")
	other := filepath.Join(dir, "other.json")
	if err := os.Mkdir(filepath.Dir(trusted), 0o700); err != nil {
		t.Fatal(err)
	}
	code, jwks, stderr := runCmd(t, "keygen", "--out", trusted)
	if code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runCmd(t, "keygen", "--out", other); code != 0 {
		t.Fatal(stderr)
	}
	jwksLine := strings.Join(strings.Fields(jwks), " ")
	// The backend config trusts one key; a second file, as a local
	// override, names the key to sign with, relative to itself.
	cfg := writeConfig(t, dir, "app-config.yaml", "backend:\n  auth:\n    maxTokenLifetime: 2h\n    userTokens:\n      issuer: https://dev.example.com\n      jwks: "+jwksLine+"\n")
	local := writeConfig(t, filepath.Join(dir, "keys"), "local.yaml", "greenroom:\n  token:\n    devSigningKey: trusted.json\n")

	tok := mint(t, "--config", cfg, "--config", local, "--user", "user:default/alice")
	a := verifier(t, jwks, "      issuer: https://dev.example.com\n")
	if _, err := a.Authenticate(context.Background(), tok); err != nil {
		t.Errorf("token from the configured key and issuer refused: %v", err)
	}

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"key not in config", []string{"--config", cfg, "--key", other, "--user", "user:default/alice"},
			[]string{"a backend with the config " + cfg + " would refuse this token", "signed with the key " + other, "greenroom jwks --key " + other, "backend.auth.userTokens.jwks"}},
		{"lifetime above maxTokenLifetime", []string{"--config", cfg, "--config", local, "--user", "user:default/alice", "--ttl", "3h"},
			[]string{"would refuse this token", "maxTokenLifetime"}},
		{"wrong issuer", []string{"--config", cfg, "--config", local, "--user", "user:default/alice", "--iss", "https://elsewhere"},
			[]string{"would refuse this token"}},
		{"no key configured", []string{"--config", cfg, "--user", "user:default/alice"},
			[]string{"--user needs the signing key: give --key <file>, or set greenroom.token.devSigningKey in " + cfg}},
		{"no externalAccess", []string{"--config", cfg, "--service", "ci-bot"},
			[]string{"the config (" + cfg + ") has no backend.auth.externalAccess", "subject: ci-bot"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, append([]string{"token"}, tc.args...)...)
			if code == 0 || stdout != "" {
				t.Errorf("exit = %d, stdout = %q; want a failure", code, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestTokenService(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "c.yaml", `backend:
  auth:
    externalAccess:
      - type: static
        options: {token: first-token-123, subject: ci-bot}
      - type: static
        options: {token: second-token-456, subject: deployer}
`)
	if got := mint(t, "--config", cfg, "--service", "ci-bot"); got != "first-token-123" {
		t.Errorf("ci-bot token = %q", got)
	}
	code, _, stderr := runCmd(t, "token", "--config", cfg, "--service", "nobody")
	if code != 1 || !strings.Contains(stderr, `no static token for subject "nobody" in backend.auth.externalAccess of `+cfg+" (configured subjects: ci-bot, deployer)") {
		t.Errorf("unknown subject = %d %q", code, stderr)
	}
	bad := writeConfig(t, dir, "bad.yaml", "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: {token: short, subject: x}\n")
	code, _, stderr = runCmd(t, "token", "--config", bad, "--service", "x")
	if code != 1 || !strings.Contains(stderr, "invalid config backend.auth.externalAccess[0].options.token: the token must be at least 8 characters") {
		t.Errorf("invalid externalAccess = %d %q", code, stderr)
	}
}
