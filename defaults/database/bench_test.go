package database_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/greenroom-dev/greenroom/defaults/database"
)

// BenchmarkFirstUse measures what a plugin's first DB call costs on each
// engine: creating its database (on servers) and opening and checking the
// pool.
func BenchmarkFirstUse(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			settings := e.setup(b)
			cfg := newConfig(b, map[string]any{"backend": map[string]any{"database": settings}})
			m, err := database.NewManager(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { m.Close() })
			for i := 0; b.Loop(); i++ {
				d, err := m.ForPlugin(fmt.Sprintf("p%d", i))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.DB(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
