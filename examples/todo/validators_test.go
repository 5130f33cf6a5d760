package todo_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// validatorModule returns a module of the todo plugin that adds the
// validators of add, by name.
func validatorModule(id string, add map[string]todo.Validator) *backend.Module {
	return backend.NewModule(todo.PluginID, id, backend.Init(func(ctx context.Context, d struct{ Validators todo.Validators }) error {
		for name, v := range add {
			if err := d.Validators.Add(name, v); err != nil {
				return err
			}
		}
		return nil
	}))
}

// refuse rejects titles containing word.
func refuse(word string) todo.Validator {
	return func(ctx context.Context, c todo.Candidate) error {
		if strings.Contains(c.Title, word) {
			return todo.Reject("%q is not allowed", word)
		}
		return nil
	}
}

func TestValidatorsRejectOnCreateAndRename(t *testing.T) {
	t.Parallel()
	tb := testbackend.Start(t, todo.Plugin, validatorModule("novowels", map[string]todo.Validator{"no-x": refuse("x")}))

	b := tb.Post("/api/todo/todos", map[string]any{"title": "  fix bug "}).AsUser(alice).Do(t).ExpectError(t, errs.Input)
	if want := `Invalid request body: title rejected by validator "no-x": "x" is not allowed`; b.Error.Message != want {
		t.Errorf("message = %q, want %q", b.Error.Message, want)
	}
	created := tb.Post("/api/todo/todos", map[string]any{"title": "write docs"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
	var td todo.Todo
	created.DecodeJSON(t, &td)

	tb.Patch("/api/todo/todos/"+itoa(td.ID), map[string]any{"title": "fix docs"}).AsUser(alice).Do(t).ExpectError(t, errs.Input)
	// A change that leaves the title alone is not validated.
	tb.Patch("/api/todo/todos/"+itoa(td.ID), map[string]any{"done": true}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusOK)
	tb.Get("/api/todo/todos/"+itoa(td.ID)).AsUser(alice).Do(t).
		ExpectJSON(t, todo.Todo{ID: td.ID, Title: "write docs", Done: true}, ignoreTimes)
}

func TestValidatorsSeeTheCandidate(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []todo.Candidate
	record := func(ctx context.Context, c todo.Candidate) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, c)
		return nil
	}
	tb := testbackend.Start(t, todo.Plugin, validatorModule("recorder", map[string]todo.Validator{"record": record}))
	tb.Post("/api/todo/todos", map[string]any{"title": " milk "}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
	tb.Patch("/api/todo/todos/1", map[string]any{"title": "oat milk"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusOK)

	mu.Lock()
	defer mu.Unlock()
	want := []todo.Candidate{{Owner: alice, Title: "milk"}, {Owner: alice, ID: 1, Title: "oat milk"}}
	if len(seen) != len(want) || seen[0] != want[0] || seen[1] != want[1] {
		t.Errorf("validator saw %+v, want %+v", seen, want)
	}
}

func TestValidatorsRunInNameOrderAcrossModules(t *testing.T) {
	t.Parallel()
	// Both refuse "xy"; "a-first" must answer whatever order the modules
	// inited in (they init concurrently).
	tb := testbackend.Start(t, todo.Plugin,
		validatorModule("mzz", map[string]todo.Validator{"z-last": refuse("y")}),
		validatorModule("maa", map[string]todo.Validator{"a-first": refuse("x")}))
	b := tb.Post("/api/todo/todos", map[string]any{"title": "xy"}).AsUser(alice).Do(t).ExpectError(t, errs.Input)
	if !strings.Contains(b.Error.Message, `validator "a-first"`) {
		t.Errorf("message = %q, want the validator a-first", b.Error.Message)
	}
}

func TestValidatorFailureIs500(t *testing.T) {
	t.Parallel()
	broken := func(ctx context.Context, c todo.Candidate) error { return errors.New("the word list is unreachable") }
	tb := testbackend.Start(t, todo.Plugin, validatorModule("broken", map[string]todo.Validator{"broken": broken}))
	tb.Post("/api/todo/todos", map[string]any{"title": "milk"}).AsUser(alice).Do(t).ExpectError(t, errs.Internal)
	tb.Get("/api/todo/todos").AsUser(alice).Do(t).ExpectJSON(t, list{Items: []todo.Todo{}})
}

func TestWithoutValidatorsTitlesAreAccepted(t *testing.T) {
	t.Parallel()
	tb := testbackend.Start(t, todo.Plugin)
	tb.Post("/api/todo/todos", map[string]any{"title": "x"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
}

func TestValidatorsAddRefuses(t *testing.T) {
	t.Parallel()
	ok := refuse("x")
	for _, tc := range []struct {
		name string
		add  func(v todo.Validators) error
		want string
	}{
		{"invalid name", func(v todo.Validators) error { return v.Add("No Spaces", ok) }, `validator name "No Spaces" is invalid`},
		{"nil validator", func(v todo.Validators) error { return v.Add("nil", nil) }, `validator "nil" is nil`},
		{"twice", func(v todo.Validators) error {
			if err := v.Add("twice", ok); err != nil {
				return err
			}
			return v.Add("twice", ok)
		}, `validator "twice" was added twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := backend.NewModule(todo.PluginID, "adder", backend.Init(func(ctx context.Context, d struct{ Validators todo.Validators }) error {
				return tc.add(d.Validators)
			}))
			_, err := testbackend.TryStart(t, todo.Plugin, m)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "plugin todo") {
				t.Fatalf("start error = %v, want one naming plugin todo and containing %q", err, tc.want)
			}
		})
	}
}

func TestValidatorsAddAfterStartFails(t *testing.T) {
	t.Parallel()
	var kept todo.Validators
	m := backend.NewModule(todo.PluginID, "keeper", backend.Init(func(ctx context.Context, d struct{ Validators todo.Validators }) error {
		kept = d.Validators
		return nil
	}))
	tb := testbackend.Start(t, todo.Plugin, m)
	err := kept.Add("late", refuse("x"))
	if err == nil || !strings.Contains(err.Error(), "after the plugin started") {
		t.Fatalf("Add after start = %v, want an error saying the plugin started", err)
	}
	tb.Post("/api/todo/todos", map[string]any{"title": "x"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
}
