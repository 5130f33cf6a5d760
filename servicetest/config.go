package servicetest

import (
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config/configtest"
)

// TestConfig checks an implementation of [core.Config] built from data
// (nested maps, as decoded from YAML). It is the suite of package
// defaults/config/configtest, which owns the config semantics; it is here
// too so that every core service has its suite in one place.
func TestConfig(t *testing.T, newConfig func(t *testing.T, data map[string]any) core.Config) {
	t.Helper()
	configtest.Run(t, newConfig)
}
