package logger_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"regexp"

	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/logger"
)

// withoutTime drops the time attribute, for deterministic output.
func withoutTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

func ExampleNew() {
	root := logger.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: withoutTime}))
	root.Info("backend started", "port", 7007)
	// Output:
	// level=INFO msg="backend started" port=7007
}

func ExampleNewFromConfig() {
	cfg, _ := config.FromYAML(`
backend:
  logging:
    level: warn
    format: json
`)
	var buf bytes.Buffer
	root, err := logger.NewFromConfig(cfg, logger.Writer(&buf))
	if err != nil {
		fmt.Println(err)
		return
	}
	root.Info("not shown: below warn")
	root.Warn("disk almost full", "free", "1%")
	fmt.Print(regexp.MustCompile(`"time":"[^"]*",`).ReplaceAllString(buf.String(), ""))
	// Output:
	// {"level":"WARN","msg":"disk almost full","free":"1%"}
}

func ExampleNewFromConfig_invalid() {
	cfg, _ := config.FromYAML("backend:\n  logging:\n    level: verbose\n")
	_, err := logger.NewFromConfig(cfg)
	fmt.Println(err)
	// Output:
	// config key "backend.logging.level": unknown log level "verbose"; use debug, info, warn or error
}

func ExampleForPlugin() {
	root := logger.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: withoutTime}))
	logger.ForPlugin(root, "todo").Info("todo created", "id", 42)
	// Output:
	// level=INFO msg="todo created" plugin=todo id=42
}

func ExampleWriter() {
	cfg, _ := config.FromYAML("")
	var buf bytes.Buffer
	root, _ := logger.NewFromConfig(cfg, logger.Writer(&buf))
	root.Info("captured")
	fmt.Println(bytes.Contains(buf.Bytes(), []byte("msg=captured")))
	// Output:
	// true
}

func ExampleRootFactory() {
	// The production backend installs both factories: the root logger
	// reads backend.logging.*, the plugin logger adds plugin=<pluginId>.
	root := logger.RootFactory(logger.Writer(os.Stderr))
	plugin := logger.Factory()
	fmt.Println(root.Ref().ID(), plugin.Ref().ID())
	// Output:
	// core.rootLogger core.logger
}

func ExampleFactory() {
	fmt.Println(logger.Factory().Ref().ID())
	// Output:
	// core.logger
}
