package configtest_test

import (
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/config/configtest"
)

// A fake of core.Config runs the suite from its own tests, so that it keeps
// the semantics of the production config.
func ExampleRun() {
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

// TestRun makes the suite's own coverage visible and checks that it
// passes against the production config.
func TestRun(t *testing.T) {
	configtest.Run(t, func(t *testing.T, data map[string]any) core.Config {
		c, err := config.FromMap(data)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}
