package nobadwords_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/examples/todo/modules/nobadwords"
	"github.com/greenroom-dev/greenroom/testbackend"
)

const alice = "user:default/alice"

func TestModulePresentRefusesBadWords(t *testing.T) {
	t.Parallel()
	tb := testbackend.Start(t, todo.Plugin, nobadwords.Module)
	b := tb.Post("/api/todo/todos", map[string]any{"title": "fix the DARN printer"}).AsUser(alice).Do(t).ExpectError(t, errs.Input)
	want := `Invalid request body: title rejected by validator "no-bad-words": the word "darn" is not allowed in titles`
	if b.Error.Message != want {
		t.Errorf("message = %q, want %q", b.Error.Message, want)
	}
	// Whole words only.
	tb.Post("/api/todo/todos", map[string]any{"title": "darning socks"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
	tb.Patch("/api/todo/todos/1", map[string]any{"title": "heck, socks"}).AsUser(alice).Do(t).ExpectError(t, errs.Input)
}

func TestModuleAbsentAcceptsBadWords(t *testing.T) {
	t.Parallel()
	tb := testbackend.Start(t, todo.Plugin)
	tb.Post("/api/todo/todos", map[string]any{"title": "fix the darn printer"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
}

func TestConfiguredWords(t *testing.T) {
	t.Parallel()
	tb := testbackend.New(testbackend.WithConfig(map[string]any{
		"todo": map[string]any{"nobadwords": map[string]any{"words": []any{"Blast"}}},
	})).Start(t, todo.Plugin, nobadwords.Module)
	tb.Post("/api/todo/todos", map[string]any{"title": "blast!"}).AsUser(alice).Do(t).ExpectError(t, errs.Input)
	// The configured list replaces the default one.
	tb.Post("/api/todo/todos", map[string]any{"title": "darn"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
}

func TestInvalidConfig(t *testing.T) {
	t.Parallel()
	for name, words := range map[string]any{
		"not a list":   "darn",
		"two words":    []any{"oh no"},
		"empty string": []any{""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := testbackend.New(testbackend.WithConfig(map[string]any{
				"todo": map[string]any{"nobadwords": map[string]any{"words": words}},
			})).TryStart(t, todo.Plugin, nobadwords.Module)
			if err == nil || !strings.Contains(err.Error(), "module nobadwords of plugin todo") || !strings.Contains(err.Error(), nobadwords.ConfigKey) {
				t.Fatalf("start error = %v, want one naming the module and %s", err, nobadwords.ConfigKey)
			}
		})
	}
}

// recorder is a todo.Validators standing in for the todo plugin.
type recorder struct {
	mu sync.Mutex
	vs map[string]todo.Validator
}

func (r *recorder) Add(name string, v todo.Validator) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vs[name] = v
	return nil
}

// The module alone, with the extension point provided by the test: its
// validator is registered under its name and refuses what it should.
func TestModuleAloneWithExtensionPoint(t *testing.T) {
	t.Parallel()
	rec := &recorder{vs: map[string]todo.Validator{}}
	testbackend.New(testbackend.WithExtensionPoint[todo.Validators](todo.ValidatorsExtensionPoint, rec)).Start(t, nobadwords.Module)

	rec.mu.Lock()
	v, ok := rec.vs[nobadwords.ValidatorName]
	n := len(rec.vs)
	rec.mu.Unlock()
	if !ok || n != 1 {
		t.Fatalf("validators added = %v, want only %q", rec.vs, nobadwords.ValidatorName)
	}
	ctx := context.Background()
	for title, wantRejected := range map[string]bool{
		"Heck":           true,
		"oh-darn-it":     true,
		"hecksaw":        false,
		"buy milk":       false,
		"darn\u00a0heck": true,
	} {
		err := v(ctx, todo.Candidate{Owner: alice, Title: title})
		_, rejected := err.(*todo.Rejection)
		if rejected != wantRejected || (err != nil && !rejected) {
			t.Errorf("validator(%q) = %v, want rejected=%v", title, err, wantRejected)
		}
	}
}
