package testdatabases

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// BenchmarkCloneSteps measures the steps that bound Clone mode, one at a
// time, on the schema of BenchmarkIsolatedDatabase (ten tables with an
// index each): making a clone (PostgreSQL: CREATE DATABASE ... TEMPLATE
// and a connection; MySQL/MariaDB: CREATE DATABASE, a connection and the
// template's tables replayed) and dropping it.
func BenchmarkCloneSteps(b *testing.B) {
	var stmts []string
	for i := range 10 {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE t%d (id INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL, n INTEGER)", i),
			fmt.Sprintf("CREATE INDEX t%d_name ON t%d (name)", i, i))
	}
	schema := SQL(map[Dialect][]string{"": stmts})
	for _, c := range []struct {
		name string
		id   ID
	}{{"postgres", Postgres15}, {"mysql", MariaDB10}} {
		b.Run(c.name, func(b *testing.B) {
			if os.Getenv(c.id.EnvVar()) == "" {
				b.Skipf("set %s to benchmark %s", c.id.EnvVar(), c.id)
			}
			en, err := theManager.engine(c.id, nil)
			if err != nil {
				b.Fatal(err)
			}
			e := en.(*serverEngine)
			hash, err := migrationHash(schema)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			tp, err := e.template(ctx, hash, schema)
			if err != nil {
				b.Fatal(err)
			}
			name := func() string {
				return fmt.Sprintf("greenroom_test_%s_%s_%d", theManager.runMarker(), hash[:8], theManager.seq.Add(1))
			}
			create := func(b *testing.B) *slot {
				s, err := e.ops.createClone(ctx, tp, name())
				if err != nil {
					b.Fatal(err)
				}
				_ = s.phys.Close()
				s.phys = nil
				return s
			}
			b.Run("create", func(b *testing.B) {
				var made []*slot
				for b.Loop() {
					made = append(made, create(b))
				}
				b.StopTimer()
				for _, s := range made {
					e.ops.dropClone(ctx, s)
				}
			})
			b.Run("drop", func(b *testing.B) {
				made := make([]*slot, b.N)
				for i := range made {
					made[i] = create(b)
				}
				b.ResetTimer()
				for _, s := range made {
					e.ops.dropClone(ctx, s)
				}
			})
		})
	}
}
