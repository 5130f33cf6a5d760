package todo

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/httpjson"
)

// ValidatorsExtensionPoint is the extension point through which modules of
// the todo plugin add title validators. A module declares a field of type
// [Validators] in its dependencies and adds its validators in its init:
//
//	var Module = backend.NewModule("todo", "shout", backend.Init(
//		func(ctx context.Context, d struct{ Validators todo.Validators }) error {
//			return d.Validators.Add("no-shouting", func(ctx context.Context, c todo.Candidate) error {
//				if c.Title == strings.ToUpper(c.Title) {
//					return todo.Reject("titles must not be all capitals")
//				}
//				return nil
//			})
//		}))
//
// The plugin runs every validator, in the order of their names, on the
// title of each todo created (POST /todos) and each title changed (PATCH
// /todos/{id} with a title), after trimming it and before storing it. The
// first rejection answers 400 with an InputError naming the validator.
var ValidatorsExtensionPoint = core.NewExtensionPoint[Validators]("todo.validators")

// Validators is the type of [ValidatorsExtensionPoint]: what modules of the
// todo plugin add title validators to. Implementations are safe for
// concurrent use, since independent modules init concurrently.
type Validators interface {
	// Add adds the validator v under name, which appears in the error of
	// every title v rejects. A name is lower-case words joined by single
	// hyphens, such as "no-bad-words", and unique within the plugin. Add
	// fails once the plugin has started: add validators in a module's init.
	Add(name string, v Validator) error
}

// A Validator checks the title of a todo before the plugin stores it. It
// returns nil to accept it, an error made by [Reject] to refuse it (the
// caller gets 400), or any other error when it cannot decide (the caller
// gets 500 and the error is logged).
type Validator func(ctx context.Context, c Candidate) error

// Candidate is a todo title to validate.
type Candidate struct {
	// Owner is the user entity ref of the user creating or renaming the
	// todo, such as "user:default/alice".
	Owner string
	// ID is the id of the todo being renamed, or 0 for a new todo. It is
	// the id of the request's path: validators run before the plugin looks
	// the todo up, so it may name a todo that does not exist or belongs to
	// another user, which the plugin then answers with 404.
	ID int64
	// Title is the title, trimmed of surrounding white space and never
	// empty.
	Title string
}

// Rejection is the error of a validator refusing a title, made by
// [Reject].
type Rejection struct {
	// Reason says what is wrong with the title, for the user to read.
	Reason string
}

func (r *Rejection) Error() string { return "title rejected: " + r.Reason }

// Reject returns a [*Rejection] whose reason is formatted as with
// fmt.Sprintf: the error a [Validator] returns to refuse a title.
func Reject(format string, args ...any) error {
	return &Rejection{Reason: fmt.Sprintf(format, args...)}
}

// validatorNamePattern is the form of a validator name.
var validatorNamePattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// namedValidator is a validator with its name.
type namedValidator struct {
	name string
	fn   Validator
}

// validators is the plugin's implementation of [Validators], made once per
// backend.
type validators struct {
	mu     sync.Mutex
	list   []namedValidator
	closed bool
}

func newValidators() Validators { return &validators{} }

func (vs *validators) Add(name string, v Validator) error {
	if !validatorNamePattern.MatchString(name) {
		return fmt.Errorf("plugin %s: validator name %q is invalid; use lower-case words joined by hyphens, such as \"no-bad-words\"", PluginID, name)
	}
	if v == nil {
		return fmt.Errorf("plugin %s: validator %q is nil; pass the function that checks titles", PluginID, name)
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if vs.closed {
		return fmt.Errorf("plugin %s: validator %q was added after the plugin started; add validators in a module's init", PluginID, name)
	}
	if slices.ContainsFunc(vs.list, func(n namedValidator) bool { return n.name == name }) {
		return fmt.Errorf("plugin %s: validator %q was added twice; give each validator its own name", PluginID, name)
	}
	vs.list = append(vs.list, namedValidator{name: name, fn: v})
	return nil
}

// seal stops further additions and returns the validators sorted by name,
// so that they run in the same order whatever order the modules inited in.
func (vs *validators) seal() []namedValidator {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	vs.closed = true
	list := slices.Clone(vs.list)
	slices.SortFunc(list, func(a, b namedValidator) int { return strings.Compare(a.name, b.name) })
	return list
}

// sealValidators returns the validators the modules added to v, the
// plugin's implementation of ValidatorsExtensionPoint.
func sealValidators(v Validators) ([]namedValidator, error) {
	vs, ok := v.(*validators)
	if !ok {
		return nil, fmt.Errorf("plugin %s: the implementation of %s is %T, not the plugin's own; only modules consume this extension point", PluginID, ValidatorsExtensionPoint, v)
	}
	return vs.seal(), nil
}

// validate runs the validators on c, in order, and returns the first
// rejection as a 400 naming the validator.
func validate(ctx context.Context, list []namedValidator, c Candidate) error {
	for _, v := range list {
		err := v.fn(ctx, c)
		if err == nil {
			continue
		}
		if r, ok := errors.AsType[*Rejection](err); ok {
			return &errs.Error{
				Name:    errs.Input,
				Message: fmt.Sprintf("Invalid request body: title rejected by validator %q: %s", v.name, r.Reason),
				Details: []httpjson.FieldError{{Field: "title", Message: r.Reason}},
				Cause:   err,
			}
		}
		return fmt.Errorf("validator %q of plugin %s failed on the title of a todo of %s: %w", v.name, PluginID, c.Owner, err)
	}
	return nil
}
