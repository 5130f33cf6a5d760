package migrate_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
	"github.com/greenroom-dev/greenroom/migrate"
)

// templater is a core.Database that implements UpFromTemplate over a
// real SQLite database, recording the keys it is asked for.
type templater struct {
	core.Database
	keys []string
}

func (d *templater) UpFromTemplate(ctx context.Context, key string, up func(context.Context, *sql.DB) error) error {
	d.keys = append(d.keys, key)
	db, err := d.DB(ctx)
	if err != nil {
		return err
	}
	return up(ctx, db)
}

func sqliteDB(t *testing.T) core.Database {
	t.Helper()
	cfg, err := config.FromYAML("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := database.NewManager(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	db, err := m.ForPlugin("todo")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestUpUsesTemplater(t *testing.T) {
	fsys := fstest.MapFS{"m/00001_a.sql": {Data: []byte("-- +goose Up\nCREATE TABLE a (x INTEGER);\n")}}
	d := &templater{Database: sqliteDB(t)}
	if err := migrate.Up(context.Background(), d, fsys, migrate.Dir("m")); err != nil {
		t.Fatal(err)
	}
	hash, err := migrate.Migrator(fsys, "m").Hash()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.keys) != 1 || d.keys[0] != "sqlite:"+hash {
		t.Fatalf("UpFromTemplate keys = %q, want [sqlite:%s]", d.keys, hash)
	}
	db, err := d.DB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO a VALUES (1)"); err != nil {
		t.Errorf("the up function given to UpFromTemplate did not migrate: %v", err)
	}
}

func TestUpWithoutMigrationsSkipsTemplater(t *testing.T) {
	d := &templater{Database: sqliteDB(t)}
	err := migrate.Up(context.Background(), d, fstest.MapFS{"m/readme.txt": {}}, migrate.Dir("m"))
	if err == nil || !strings.Contains(err.Error(), "no migrations for dialect sqlite") {
		t.Fatalf("error = %v, want the usual no-migrations error", err)
	}
	if len(d.keys) != 0 {
		t.Errorf("UpFromTemplate was called with %q", d.keys)
	}
}
