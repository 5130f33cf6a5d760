// Command backend is the example Greenroom backend: it serves the todo
// plugin at /api/todo, with the module nobadwords, which refuses todo titles
// containing words of todo.nobadwords.words through todo's extension point,
// and the digest plugin at /api/digest, which summarises the caller's todos
// by calling todo over HTTP with a plugin token issued on the caller's
// behalf.
//
//	go run ./examples/backend                 # port 7007, SQLite in memory
//	go run ./examples/backend --port 8080
//	go run ./examples/backend --config my-config.yaml
//
// Its built-in configuration (app-config.yaml, embedded) accepts user tokens
// signed with the development key dev-user-key.json; mint one from the same
// config with
//
//	go run ./cmd/greenroom token --config examples/backend/app-config.yaml --user user:default/alice
//
// With such a token in $TOKEN:
//
//	curl -s -H "Authorization: Bearer $TOKEN" localhost:7007/api/digest/summary
//	# {"user":"user:default/alice","open":0,"completed":0}
//
// The backend stops gracefully on SIGINT or SIGTERM: readiness goes down,
// the server stops accepting connections and finishes the requests in
// flight (within backend.lifecycle.serverShutdownTimeout, 30s by default),
// then the plugins and the database pools shut down, and the process exits
// 0. A second signal during the shutdown kills it.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/greenroom-dev/greenroom/defaults"
	"github.com/greenroom-dev/greenroom/examples/digest"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/examples/todo/modules/nobadwords"
)

//go:embed app-config.yaml
var builtinConfig string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // the first signal stops gracefully; a second one kills
	}()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// run starts the backend and blocks until ctx is done, then stops it. It is
// main without the process: tests call it with their own context and
// environment.
func run(ctx context.Context, args, env []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var configs stringList
	port := fs.Int("port", 0, "port to listen on (overrides backend.listen.port, default 7007; 0 keeps the config's)")
	fs.Var(&configs, "config", "YAML config file, loaded after the built-in config (repeatable)")
	shutdownTimeout := fs.Duration("shutdown-timeout", time.Minute, "how long the whole graceful shutdown may take (the server's drain is bounded by backend.lifecycle.serverShutdownTimeout within it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; see -help", fs.Args())
	}
	if *port < 0 || *port > 65535 {
		return fmt.Errorf("--port %d is out of range 1-65535", *port)
	}
	if *port != 0 {
		// The flag wins over config files and the environment.
		env = append(env, "GREENROOM_CONFIG_backend_listen_port="+strconv.Itoa(*port))
	}

	b := defaults.New(
		defaults.ConfigYAML("built-in app-config.yaml", builtinConfig),
		defaults.ConfigFiles(configs...),
		defaults.Env(env),
		defaults.LogOutput(stderr),
	)
	if err := b.Add(todo.Plugin, nobadwords.Module, digest.Plugin); err != nil {
		return err
	}
	if err := b.Start(ctx); err != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
		defer cancel()
		return errors.Join(err, b.Stop(stopCtx))
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	return b.Stop(stopCtx)
}
