package mockservices_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// notesPlugin publishes "note.saved" on POST /api/notes/notes and counts
// the "note.saved" events in a subscriber.
func notesPlugin(count *int) *backend.Plugin {
	return backend.NewPlugin("notes", backend.Init(func(ctx context.Context, d struct {
		Events core.Events
		Router core.HTTPRouter
	}) error {
		d.Router.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
			e, _ := core.NewEvent("note.saved", map[string]string{"title": "milk"})
			if err := d.Events.Publish(r.Context(), e); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusCreated)
		})
		return d.Events.Subscribe(ctx, core.Subscription{ID: "count", Topics: []string{"note.saved"},
			Handler: func(context.Context, core.Event) error { *count++; return nil }})
	}))
}

func ExampleEventsFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()
	ev := mockservices.Events()
	var count int
	tb := testbackend.Start(t, notesPlugin(&count), mockservices.EventsFactory(ev))
	tb.Post("/api/notes/notes", nil).AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusCreated)
	// Delivered within Publish: the handler has run.
	fmt.Println(count, len(ev.PublishedOn("note.saved")))
	// Output: 1 1
}

func ExampleEvents() {
	ctx := context.Background()
	ev := mockservices.Events()
	_ = ev.ForPlugin("search").Subscribe(ctx, core.Subscription{ID: "index", Topics: []string{"todo.created"},
		Handler: func(_ context.Context, e core.Event) error {
			fmt.Println("search received", string(e.Payload))
			return nil
		}})
	e, _ := core.NewEvent("todo.created", "milk")
	fmt.Println(ev.ForPlugin("todo").Publish(ctx, e))
	// Output:
	// search received "milk"
	// <nil>
}

// The test's Publish returns the handlers' errors.
func ExampleEventsService_Publish() {
	ctx := context.Background()
	ev := mockservices.Events()
	_ = ev.ForPlugin("search").Subscribe(ctx, core.Subscription{ID: "index", Topics: []string{"todo.created"},
		Handler: func(context.Context, core.Event) error { return errors.New("index is down") }})
	e, _ := core.NewEvent("todo.created", "milk")
	fmt.Println(ev.Publish(ctx, e))
	// Output: mockservices: events: subscriber "search.index" on topic "todo.created": index is down
}

func ExampleEventsService_Published() {
	ctx := context.Background()
	ev := mockservices.Events()
	for _, topic := range []string{"a", "b", "a"} {
		e, _ := core.NewEvent(topic, nil)
		_ = ev.ForPlugin("todo").Publish(ctx, e)
	}
	fmt.Println(len(ev.Published()), len(ev.PublishedOn("a")), len(ev.PublishedOn("c")))
	// Output: 3 2 0
}

// ForPlugin gives the service a plugin sees, for a unit test without a
// backend.
func ExampleEventsService_ForPlugin() {
	ev := mockservices.Events()
	var events core.Events = ev.ForPlugin("todo") // hand it to the code under test
	err := events.Subscribe(context.Background(), core.Subscription{ID: "x"})
	fmt.Println(err)
	// Output: InputError: events: plugin 'todo': subscription "x" has no topics; list at least one in Subscription.Topics
}
