package mockservices

import (
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
)

// Config returns a root config holding data, with the production semantics
// of package defaults/config (it is config.FromMap): the same getters, the
// same conversions and the same error messages. Keys of data are single
// path segments; nest maps for deeper keys:
//
//	mockservices.Config(map[string]any{
//		"backend": map[string]any{"baseUrl": "https://example.com"},
//	})
//
// Config panics if data holds a value that configuration cannot hold (a
// func, a struct, ...), naming its key: that is a bug in the test.
func Config(data map[string]any) core.RootConfig {
	c, err := config.FromMap(data)
	if err != nil {
		panic("mockservices: Config: " + err.Error())
	}
	return c
}
