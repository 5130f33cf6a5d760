package events_test

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/events"
)

// A backend built by package defaults has the events service
// (defaults.Factories includes Factory); a plugin asks for it by a
// core.Events field.
func ExampleFactory() {
	plugin := backend.NewPlugin("search", backend.Init(func(ctx context.Context, d struct {
		Events core.Events
	}) error {
		return d.Events.Subscribe(ctx, core.Subscription{ID: "index", Topics: []string{"todo.created"},
			Handler: func(ctx context.Context, e core.Event) error { return nil }})
	}))
	b := backend.New(backend.WithDefaults(defaults.Factories()...))
	fmt.Println(b.Add(plugin))
	// Output: <nil>
}

// QueueSize overrides backend.events.queueSize.
func ExampleQueueSize() {
	f := events.Factory(events.QueueSize(16))
	fmt.Println(f.Ref().ID())
	// Output: core.events
}

// New makes a bus without a backend; each plugin has its view.
func ExampleNew() {
	ctx := context.Background()
	bus, err := events.New(ctx, events.Options{})
	if err != nil {
		panic(err)
	}
	got := make(chan string)
	err = bus.ForPlugin("search", nil).Subscribe(ctx, core.Subscription{ID: "index", Topics: []string{"todo.created"},
		Handler: func(ctx context.Context, e core.Event) error {
			var title string
			if err := e.Decode(&title); err != nil {
				return err
			}
			got <- title
			return nil
		}})
	if err != nil {
		panic(err)
	}
	e, _ := core.NewEvent("todo.created", "buy milk")
	fmt.Println(bus.ForPlugin("todo", nil).Publish(ctx, e))
	fmt.Println(<-got)
	fmt.Println(bus.Close(ctx))
	// Output:
	// <nil>
	// buy milk
	// <nil>
}

// A subscriber ID is taken once per plugin.
func ExampleService_Subscribe() {
	ctx := context.Background()
	bus, _ := events.New(ctx, events.Options{})
	defer bus.Close(ctx)
	s := bus.ForPlugin("search", nil)
	sub := core.Subscription{ID: "index", Topics: []string{"todo.created"}, Handler: func(context.Context, core.Event) error { return nil }}
	fmt.Println(s.Subscribe(ctx, sub))
	fmt.Println(s.Subscribe(ctx, sub))
	// Output:
	// <nil>
	// ConflictError: events: plugin 'search': the subscriber ID "index" is taken in this backend; give each Subscribe call of the plugin its own ID
}

// Publish refuses an event without a topic.
func ExampleService_Publish() {
	ctx := context.Background()
	bus, _ := events.New(ctx, events.Options{})
	defer bus.Close(ctx)
	fmt.Println(bus.ForPlugin("todo", nil).Publish(ctx, core.Event{Payload: []byte(`{}`)}))
	// Output: InputError: events: plugin 'todo': Publish: empty topic; name the topic, such as "todo.completed"
}

// Shutdown stops a plugin's subscribers; its service then refuses calls.
func ExampleService_Shutdown() {
	ctx := context.Background()
	bus, _ := events.New(ctx, events.Options{})
	s := bus.ForPlugin("todo", nil)
	fmt.Println(s.Shutdown(ctx))
	e, _ := core.NewEvent("todo.created", 1)
	fmt.Println(s.Publish(ctx, e))
	fmt.Println(bus.Close(ctx))
	// Output:
	// <nil>
	// ServiceUnavailableError: events: plugin 'todo': Publish after the plugin shut down; publish and subscribe while the backend runs
	// <nil>
}

func ExampleOptionsFromConfig() {
	cfg, err := config.FromMap(map[string]any{"backend": map[string]any{"events": map[string]any{
		"store": "redis", "redis": map[string]any{"connection": "redis://localhost:6379/0", "claimIdle": "1m"},
	}}})
	if err != nil {
		panic(err)
	}
	o, err := events.OptionsFromConfig(cfg)
	fmt.Println(o.Redis.URL, o.Redis.ClaimIdle, err)
	// Output: redis://localhost:6379/0 1m0s <nil>
}
