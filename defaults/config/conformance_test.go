package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/config/configtest"
)

func TestConformance(t *testing.T) {
	tests := []struct {
		name      string
		newConfig func(t *testing.T, data map[string]any) core.Config
	}{
		{"FromMap", func(t *testing.T, data map[string]any) core.Config {
			c, err := config.FromMap(data)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"FromYAML", func(t *testing.T, data map[string]any) core.Config {
			b, err := yaml.Marshal(data)
			if err != nil {
				t.Fatal(err)
			}
			c, err := config.FromYAML(string(b))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"Load", func(t *testing.T, data map[string]any) core.Config {
			b, err := yaml.Marshal(data)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "app-config.yaml")
			if err := os.WriteFile(file, b, 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := config.Load([]string{file}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			configtest.Run(t, tt.newConfig)
		})
	}
}
