package auth_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
)

// instanceAuth builds the Auth services of plugins search and catalog of
// one backend instance whose plugins' databases are SQLite files in dir.
func instanceAuth(dir string) (search, catalog core.Auth, closeDB func()) {
	cfg, err := config.FromYAML("backend: {database: {client: sqlite, connection: " + dir + "}}")
	if err != nil {
		log.Fatal(err)
	}
	k, err := auth.NewKeyring(cfg)
	if err != nil {
		log.Fatal(err)
	}
	dbs, err := database.NewManager(cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	newAuth := func(pluginID string) core.Auth {
		db, err := dbs.ForPlugin(pluginID)
		if err != nil {
			log.Fatal(err)
		}
		a, err := auth.NewAuth(k, pluginID, localDiscovery{}, nil, auth.WithKeyDatabase(db))
		if err != nil {
			log.Fatal(err)
		}
		return a
	}
	return newAuth("search"), newAuth("catalog"), func() { dbs.Close() }
}

// Two instances (replicas) of one backend share the plugins' databases, so
// a token that plugin search issues on one verifies on the other.
func ExampleWithKeyDatabase() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "keys")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	searchA, _, closeA := instanceAuth(dir)
	defer closeA()
	_, catalogB, closeB := instanceAuth(dir)
	defer closeB()

	tok, err := searchA.PluginRequestToken(ctx, searchA.OwnServiceCredentials(), "catalog")
	if err != nil {
		log.Fatal(err)
	}
	creds, err := catalogB.Authenticate(ctx, tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("instance B sees", creds.Principal.Subject)
	// Output: instance B sees plugin:search
}

// RotateKeys switches a plugin to a new key at once; tokens of the
// previous key keep verifying until they expire.
func ExampleKeyRotator() {
	ctx := context.Background()
	k, err := auth.NewKeyring(nil)
	if err != nil {
		log.Fatal(err)
	}
	search, err := auth.NewAuth(k, "search", localDiscovery{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	catalog, err := auth.NewAuth(k, "catalog", localDiscovery{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	before, err := search.PluginRequestToken(ctx, search.OwnServiceCredentials(), "catalog")
	if err != nil {
		log.Fatal(err)
	}
	if err := search.(auth.KeyRotator).RotateKeys(ctx); err != nil {
		log.Fatal(err)
	}
	after, err := search.PluginRequestToken(ctx, search.OwnServiceCredentials(), "catalog")
	if err != nil {
		log.Fatal(err)
	}
	for _, tok := range []string{before, after} {
		_, err := catalog.Authenticate(ctx, tok)
		fmt.Println("verified:", err == nil)
	}
	jwks, err := search.PublicServiceKeys(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published keys:", len(jwks.Keys))
	// Output:
	// verified: true
	// verified: true
	// published keys: 2
}

// A plugin can rotate its keys more often than
// backend.auth.keyStore.rotationPeriod says; the Go API also accepts
// periods under a minute, for tests.
func ExampleWithKeyRotationPeriod() {
	k, err := auth.NewKeyring(nil)
	if err != nil {
		log.Fatal(err)
	}
	_, err = auth.NewAuth(k, "catalog", localDiscovery{}, nil, auth.WithKeyRotationPeriod(10*time.Minute))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleKeyring_KeyStore() {
	cfg, err := config.FromYAML("backend: {auth: {keyStore: {type: memory}}}")
	if err != nil {
		log.Fatal(err)
	}
	k, err := auth.NewKeyring(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.KeyStore())
	// Output: memory
}
