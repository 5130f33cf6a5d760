package nobadwords

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/examples/todo"
)

// ModuleID is the id of the module.
const ModuleID = "nobadwords"

// ValidatorName is the name of the module's validator, which the errors of
// refused titles show.
const ValidatorName = "no-bad-words"

// ConfigKey is the config key of the list of refused words.
const ConfigKey = "todo.nobadwords.words"

// DefaultWords are the refused words when the config sets none.
var DefaultWords = []string{"darn", "heck"}

// Module is the module. It consumes todo.ValidatorsExtensionPoint, so the
// todo plugin must be in the same backend (a test of the module alone
// stands in for it with testbackend.WithExtensionPoint).
var Module = backend.NewModule(todo.PluginID, ModuleID, backend.Init(initModule))

type deps struct {
	Config     core.RootConfig
	Validators todo.Validators
}

func initModule(ctx context.Context, d deps) error {
	words, err := readWords(d.Config)
	if err != nil {
		return err
	}
	return d.Validators.Add(ValidatorName, func(ctx context.Context, c todo.Candidate) error {
		for _, w := range strings.FieldsFunc(c.Title, notWordRune) {
			if _, bad := words[strings.ToLower(w)]; bad {
				return todo.Reject("the word %q is not allowed in titles", strings.ToLower(w))
			}
		}
		return nil
	})
}

// readWords reads the refused words, lower-cased, from ConfigKey.
func readWords(cfg core.Config) (map[string]struct{}, error) {
	list := DefaultWords
	if cfg.Has(ConfigKey) {
		var err error
		if list, err = cfg.Strings(ConfigKey); err != nil {
			return nil, fmt.Errorf("module %s of plugin %s: %w; set %s to a list of words such as [darn, heck]", ModuleID, todo.PluginID, err, ConfigKey)
		}
	}
	words := make(map[string]struct{}, len(list))
	for _, w := range list {
		lw := strings.ToLower(strings.TrimSpace(w))
		if lw == "" || strings.IndexFunc(lw, notWordRune) >= 0 {
			return nil, fmt.Errorf("module %s of plugin %s: config key %q: %q is not a single word; list words of letters and digits only", ModuleID, todo.PluginID, ConfigKey, w)
		}
		words[lw] = struct{}{}
	}
	return words, nil
}

// notWordRune reports whether r separates words.
func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
