package migrate

import (
	"embed"
	"testing"
	"testing/fstest"
)

//go:embed testdata/migrations
var hashTestFS embed.FS

func TestHashOfEmbedFSIsCachedAndStable(t *testing.T) {
	m := Migrator(hashTestFS, "testdata/migrations")
	first, err := m.Hash()
	if err != nil {
		t.Fatal(err)
	}
	computed, err := m.hash()
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if first != computed || again != first {
		t.Fatalf("hashes differ: first %s, computed %s, again %s", first, computed, again)
	}
	other, err := Migrator(hashTestFS, "testdata/migrations", Table("other_versions")).Hash()
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Fatal("another version table gave the same (cached) hash")
	}
}

func TestHashOfOtherFileSystemsFollowsChanges(t *testing.T) {
	fsys := fstest.MapFS{"m/00001_a.sql": {Data: []byte("-- +goose Up\nSELECT 1;\n")}}
	before, err := Migrator(fsys, "m").Hash()
	if err != nil {
		t.Fatal(err)
	}
	fsys["m/00001_a.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\nSELECT 2;\n")}
	after, err := Migrator(fsys, "m").Hash()
	if err != nil {
		t.Fatal(err)
	}
	if before == after {
		t.Fatal("the hash of a changed file system did not change: only an embed.FS may be cached")
	}
}
