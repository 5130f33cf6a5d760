package core_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Clock is a service of your own: an interface, so tests can fake it.
type Clock interface{ Now() string }

// ClockRef is how plugins ask for the Clock: by a field of type Clock.
var ClockRef = core.NewServiceRef[Clock]("example.clock", core.WithScope(core.RootScope))

func ExampleNewServiceRef() {
	fmt.Println(ClockRef, ClockRef.Scope())
	// Output: serviceRef{example.clock} root
}

// Processor is what modules of the "catalog" plugin add to it.
type Processor interface{ Process(entity string) string }

func ExampleNewExtensionPoint() {
	processors := core.NewExtensionPoint[Processor]("catalog.processors")
	fmt.Println(processors)
	// Output: extensionPoint{catalog.processors}
}

func ExampleMultiton() {
	type Check interface{ Run() error }
	checks := core.NewServiceRef[Check]("example.checks", core.Multiton())
	// A dependent declares a field of type []Check and receives every
	// installed Check, or an empty slice.
	fmt.Println(checks, checks.Multiton())
	// Output: serviceRef{example.checks} true
}

func ExampleParseEntityRef() {
	ref, err := core.ParseEntityRef("user:default/alice")
	if err != nil {
		panic(err)
	}
	fmt.Println(ref.Kind, ref.Namespace, ref.Name)
	_, err = core.ParseEntityRef("alice")
	fmt.Println(err)
	// Output:
	// user default alice
	// invalid entity reference "alice", expected <kind>:<namespace>/<name> such as "user:default/alice"
}

func ExampleNewCredentials() {
	creds := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}, time.Time{}, "")
	fmt.Println(creds, creds.IsUser())
	fmt.Println(core.Credentials{}.IsNone())
	// Output:
	// credentials{user user:default/alice} true
	// true
}

func ExampleWithScope() {
	type Clock interface{ Now() time.Time }
	// One Clock for the whole backend rather than one per plugin.
	ref := core.NewServiceRef[Clock]("example.rootClock", core.WithScope(core.RootScope))
	fmt.Println(ref.Scope())
	// Output: root
}

func ExampleParseUserEntityRef() {
	_, err := core.ParseUserEntityRef("group:default/admins")
	fmt.Println(err)
	// Output: invalid user entity reference "group:default/admins": kind is "group", expected "user"
}

// A ref longer than MaxEntityRefLength is refused, so that credentials
// never carry a ref a VARCHAR(255) column cannot hold.
func ExampleParseUserEntityRef_tooLong() {
	ref := "user:default/" + strings.Repeat("a", core.MaxEntityRefLength)
	_, err := core.ParseUserEntityRef(ref)
	fmt.Println(err)
	// Output: invalid user entity reference "user:default/aaaaaaaaaaaaaaaaaaaaaaaaaaa"...: it is 268 characters long, more than the maximum of 255
}

// Greeter is a service whose ref carries a default factory.
type Greeter interface{ Greet() string }

type greeter string

func (g greeter) Greet() string { return string(g) }

// A ref's default factory is used by every backend that has no other
// factory of the service, so a service of your own works without being
// added. The function receives the ref being declared, so that the factory
// it builds can name it.
func ExampleWithDefaultFactory() {
	ref := core.NewServiceRef[Greeter]("example.greeter", core.WithDefaultFactory(func(ref core.ServiceRef[Greeter]) core.ServiceFactory {
		return backend.NewPluginServiceFactory(ref, func(_ context.Context, d struct{ Plugin core.PluginMetadata }) (Greeter, error) {
			return greeter("hello from " + d.Plugin.ID()), nil
		})
	}))
	g, err := backend.Resolve(context.Background(), backend.New(), ref, "todo")
	if err != nil {
		panic(err)
	}
	fmt.Println(g.Greet())
	// Output: hello from todo
}

// A task's frequency: a fixed interval, the times of a cron expression
// (optionally with seconds, a descriptor, or CRON_TZ=), or only on demand.
func ExampleEvery() {
	for _, f := range []core.Frequency{
		core.Every(time.Hour),
		core.Cron("0 3 * * *"),
		core.Cron("CRON_TZ=Europe/Paris @daily"),
		core.Manual(),
	} {
		fmt.Println(f)
	}
	// Output:
	// every 1h0m0s
	// cron 0 3 * * *
	// cron CRON_TZ=Europe/Paris @daily
	// manual
}
