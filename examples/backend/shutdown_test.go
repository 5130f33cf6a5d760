package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// buildBackend builds this command into a temporary directory and returns
// the binary's path, or returns the binary named by
// GREENROOM_EXAMPLE_BACKEND_BINARY (such as one built from an earlier
// commit, to compare).
func buildBackend(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("GREENROOM_EXAMPLE_BACKEND_BINARY"); bin != "" {
		return bin
	}
	bin := t.TempDir() + "/backend"
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is the example backend running as a process.
type process struct {
	cmd    *exec.Cmd
	addr   string // host:port
	stderr *syncBuffer
	exited chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProcess runs bin on a free port with in-memory SQLite (the built-in
// config) and waits until it is ready.
func startProcess(t *testing.T, bin string) *process {
	t.Helper()
	p := &process{stderr: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(os.Environ(), "GREENROOM_CONFIG_backend_listen_port=0", "GREENROOM_CONFIG_backend_listen_host=127.0.0.1")
	pr, pw := io.Pipe()
	p.cmd.Stderr = io.MultiWriter(pw, p.stderr)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		pw.Close()
		p.exited <- err
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
		}
	})
	listening := regexp.MustCompile(`Listening on \S*:(\d+)`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, pr) //nolint:errcheck // the log is kept in p.stderr
			p.addr = "127.0.0.1:" + m[1]
			waitReady(t, "http://"+p.addr)
			return p
		}
	}
	t.Fatalf("backend exited before listening: %v\n%s", <-p.exited, p.stderr)
	return nil
}

// waitRefused waits until the server no longer accepts connections; the
// deadline only bounds a hang.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
	}
	t.Fatal("the server still accepts connections")
}

// slowTodoBody is a 3 kB todo: the title, then padding that JSON ignores.
var slowTodoBody = `{"title":"slow upload"` + strings.Repeat(" ", 3000) + `}`

// TestSIGTERMDuringSlowPOST: SIGTERM while a POST is uploading its body
// lets the POST finish with 201 and the process exit 0. The rest of the
// body is sent only once the server has stopped accepting connections:
// with the database pools closed before the server drained, the insert
// then failed with "sql: database is closed" (500).
func TestSIGTERMDuringSlowPOST(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the example backend")
	}
	p := startProcess(t, buildBackend(t))
	token := devToken(t, "user:default/alice")

	body, w := io.Pipe()
	req, err := http.NewRequest("POST", "http://"+p.addr+"/api/todo/todos", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(slowTodoBody))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	// With "Expect: 100-continue" the client sends the body only once the
	// handler reads it: the first write below returns when the request
	// is in the handler.
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	if _, err := io.WriteString(w, slowTodoBody[:1000]); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, p.addr)
	if _, err := io.WriteString(w, slowTodoBody[1000:]); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r := <-done
	if r.err != nil || r.status != http.StatusCreated {
		t.Errorf("POST in flight at SIGTERM = %d %q (%v), want 201\nlog:\n%s", r.status, r.body, r.err, p.stderr)
	}
	if err := <-p.exited; err != nil {
		t.Errorf("backend exited with %v, want exit code 0\nlog:\n%s", err, p.stderr)
	}
}

// TestShutdownUnderLoad measures what SIGTERM does to requests under load:
// 50 clients POST todos whose bodies upload slowly, each on a new
// connection, and the backend gets SIGTERM mid-run. It reports how many
// requests succeeded, were refused once the server had closed (as they
// should be), or failed while in flight, and fails if any did. It is a
// measurement, not a regular test: run it with
//
//	GREENROOM_SHUTDOWN_LOAD=1 go test -run '^TestShutdownUnderLoad$' -v ./examples/backend/
//
// GREENROOM_EXAMPLE_BACKEND_BINARY names a backend binary to measure
// instead of this one (see buildBackend).
func TestShutdownUnderLoad(t *testing.T) {
	if os.Getenv("GREENROOM_SHUTDOWN_LOAD") == "" {
		t.Skip("a measurement; set GREENROOM_SHUTDOWN_LOAD=1 to run it")
	}
	p := startProcess(t, buildBackend(t))
	token := devToken(t, "user:default/alice")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	var mu sync.Mutex
	counts := map[string]int{}
	count := func(k string) { mu.Lock(); counts[k]++; mu.Unlock() }
	var seq atomic.Int64
	post := func() (stop bool) {
		// Titles are unique per user (examples/todo answers a repeated
		// one 409), so every request has its own.
		body := fmt.Sprintf(`{"title":"slow upload %d"`, seq.Add(1)) + strings.Repeat(" ", 3000) + `}`
		pr, pw := io.Pipe()
		go func() {
			// 3 kB in 10 parts over about 200 ms: a slow upload.
			for i := 0; i < 10; i++ {
				part := body[i*len(body)/10 : (i+1)*len(body)/10]
				if _, err := io.WriteString(pw, part); err != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/todo/todos", pr)
		req.ContentLength = int64(len(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		pr.Close()
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			count("refused (server closed)")
			return true
		case err != nil:
			count("in-flight failure: " + err.Error())
			return false
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusCreated:
			count("201")
		case http.StatusServiceUnavailable:
			count("503 (shutting down)")
		default:
			count(fmt.Sprintf("in-flight failure: %d", resp.StatusCode))
		}
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for ctx.Err() == nil && !post() {
			}
		})
	}
	time.Sleep(time.Second) // let the load build up: a measurement, not a test
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	exitErr := <-p.exited
	failures := 0
	for k, n := range counts {
		t.Logf("%6d %s", n, k)
		if strings.HasPrefix(k, "in-flight failure") {
			failures += n
		}
	}
	t.Logf("exit: %v; in-flight failures: %d", exitErr, failures)
	if failures > 0 || exitErr != nil {
		t.Errorf("%d requests failed in flight, exit %v\nlog tail:\n%s", failures, exitErr, tail(p.stderr.String(), 20))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
