package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/config/configtest"
)

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "config-example")
	defer os.RemoveAll(dir)
	base := filepath.Join(dir, "app-config.yaml")
	local := filepath.Join(dir, "app-config.local.yaml")
	os.WriteFile(base, []byte(`
backend:
  baseUrl: https://greenroom.example.com
  listen:
    port: 7007
  database:
    client: postgres
    connection: postgres://greenroom:${DB_PASSWORD}@db:5432/greenroom
`), 0o600)
	os.WriteFile(local, []byte(`
backend:
  listen:
    host: 127.0.0.1
`), 0o600)

	env := []string{
		"DB_PASSWORD=s3cret",
		"GREENROOM_CONFIG_backend_listen_port=8080",
	}
	cfg, err := config.Load([]string{base, local}, env)
	if err != nil {
		fmt.Println(err)
		return
	}
	port, _ := cfg.Int("backend.listen.port")
	host, _ := cfg.String("backend.listen.host")
	conn, _ := cfg.String("backend.database.connection")
	fmt.Println(host, port)
	fmt.Println(conn)
	// Output:
	// 127.0.0.1 8080
	// postgres://greenroom:s3cret@db:5432/greenroom
}

func ExampleFromYAML() {
	cfg, err := config.FromYAML(`
backend:
  listen:
    port: abc
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = cfg.Int("backend.listen.port")
	fmt.Println(err)
	_, err = cfg.String("backend.baseUrl")
	fmt.Println(err, errors.Is(err, core.ErrConfigKeyMissing))
	// Output:
	// config key "backend.listen.port": expected a number, got string "abc"
	// config key "backend.baseUrl" is missing true
}

func ExampleFromMap() {
	cfg, err := config.FromMap(map[string]any{
		"discovery": map[string]any{
			"endpoints": []map[string]any{
				{"target": "http://catalog:7007/api/{{pluginId}}", "plugins": []string{"catalog"}},
			},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	endpoints, _ := cfg.SubList("discovery.endpoints")
	for _, e := range endpoints {
		target, _ := e.String("target")
		plugins, _ := e.Strings("plugins")
		fmt.Println(target, plugins)
	}
	// Output:
	// http://catalog:7007/api/{{pluginId}} [catalog]
}

func ExampleConfig_Decode() {
	cfg, _ := config.FromYAML(`
backend:
  auth:
    externalAccess:
      - type: static
        options:
          token: ci-token-123
          subject: ci
        accessRestrictions:
          - plugin: catalog
`)
	type externalAccess struct {
		Type    string `yaml:"type"`
		Options struct {
			Token   string `yaml:"token"`
			Subject string `yaml:"subject"`
		} `yaml:"options"`
		AccessRestrictions []struct {
			Plugin string `yaml:"plugin"`
		} `yaml:"accessRestrictions"`
	}
	var access []externalAccess
	if err := cfg.Decode("backend.auth.externalAccess", &access); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(access[0].Options.Subject, access[0].AccessRestrictions[0].Plugin)

	// A key the struct does not know is an error naming the full key.
	var listen struct {
		Port int `yaml:"port"`
	}
	bad, _ := config.FromYAML("backend:\n  listen:\n    prot: 7007\n")
	fmt.Println(bad.Decode("backend.listen", &listen))
	// Output:
	// ci catalog
	// config key "backend.listen.prot": unknown key; struct { Port int "yaml:\"port\"" } has no field for "prot"
}

func ExampleConfig_Sub() {
	cfg, _ := config.FromYAML("backend:\n  listen:\n    port: 7007\n")
	listen, _ := cfg.Sub("backend.listen")
	_, err := listen.String("port")
	fmt.Println(err)
	// Output:
	// config key "backend.listen.port": expected a string, got number 7007
}

func ExampleConfig_SubList() {
	cfg, _ := config.FromYAML(`
discovery:
  endpoints:
    - target: http://a/{{pluginId}}
      plugins: [catalog]
    - target: 42
`)
	endpoints, _ := cfg.SubList("discovery.endpoints")
	_, err := endpoints[1].String("target")
	fmt.Println(len(endpoints), err)
	// Output:
	// 2 config key "discovery.endpoints[1].target": expected a string, got number 42
}

func ExampleConfig_Duration() {
	cfg, _ := config.FromYAML("a: 1h30m\nb: 30\n")
	a, _ := cfg.Duration("a")
	b, _ := cfg.Duration("b")
	fmt.Println(a, b)
	// Output:
	// 1h30m0s 30s
}

func ExampleFactory() {
	// A production backend installs the factory with the files named on
	// its command line; the environment is read when the service is built.
	f := config.Factory(config.Files("app-config.yaml", "app-config.production.yaml"))
	fmt.Println(f.Ref().ID())
	// Output:
	// core.rootConfig
}

// The conformance suite in package configtest runs against any
// core.Config; a fake config's tests call it the same way.
func Example_conformance() {
	_ = func(t *testing.T) {
		configtest.Run(t, func(t *testing.T, data map[string]any) core.Config {
			c, err := config.FromMap(data)
			if err != nil {
				t.Fatal(err)
			}
			return c
		})
	}
}

func ExampleStringOrList() {
	cfg, _ := config.FromYAML(`
backend:
  cors:
    origin: https://app.example.com
    methods: [GET, POST]
`)
	origins, _ := config.StringOrList(cfg, "backend.cors.origin")
	methods, _ := config.StringOrList(cfg, "backend.cors.methods")
	headers, _ := config.StringOrList(cfg, "backend.cors.allowedHeaders")
	fmt.Println(origins, methods, headers == nil)
	// Output: [https://app.example.com] [GET POST] true
}
