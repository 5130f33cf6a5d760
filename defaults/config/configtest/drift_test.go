package configtest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
)

// fakeT records what the checks report.
type fakeT struct{ errs []string }

type fatal struct{}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	panic(fatal{})
}

// failures runs every case against newConfig and returns the names of the
// cases that reported a problem.
func failures(t *testing.T, newConfig func(map[string]any) core.Config) []string {
	t.Helper()
	var failed []string
	for _, c := range cases() {
		f := &fakeT{}
		func() {
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(fatal); !ok {
						panic(r)
					}
				}
			}()
			c.run(f, newConfig)
		}()
		if len(f.errs) > 0 {
			failed = append(failed, c.name)
		}
	}
	return failed
}

func production(data map[string]any) core.Config {
	c, err := config.FromMap(data)
	if err != nil {
		panic(err)
	}
	return c
}

// Drifted implementations: the real config with one behaviour changed.
type (
	unsortedKeys    struct{ core.Config }
	intNoStrings    struct{ core.Config }
	missingUnwraped struct{ core.Config }
	subLosesPrefix  struct{ core.Config }
	durationNanos   struct{ core.Config }
	boolYes         struct{ core.Config }
	nilSubList      struct{ core.Config }
	otherWording    struct{ core.Config }
)

func (c unsortedKeys) Keys() []string {
	k := c.Config.Keys()
	slices.Reverse(k)
	return k
}

func (c intNoStrings) Int(key string) (int, error) {
	if _, err := c.Config.String(key); err == nil {
		return 0, fmt.Errorf("config key %q: expected a number", key)
	}
	return c.Config.Int(key)
}

func (c missingUnwraped) String(key string) (string, error) {
	s, err := c.Config.String(key)
	if err != nil {
		return s, errors.New(err.Error())
	}
	return s, nil
}

func (c subLosesPrefix) Sub(key string) (core.Config, error) {
	var m map[string]any
	if err := c.Config.Decode(key, &m); err != nil {
		return nil, err
	}
	return config.FromMap(m)
}

func (c durationNanos) Duration(key string) (time.Duration, error) {
	if n, err := c.Config.Int(key); err == nil {
		return time.Duration(n), nil
	}
	return c.Config.Duration(key)
}

func (c boolYes) Bool(key string) (bool, error) {
	if s, err := c.Config.String(key); err == nil && s == "yes" {
		return true, nil
	}
	return c.Config.Bool(key)
}

func (c nilSubList) SubList(key string) ([]core.Config, error) {
	l, err := c.Config.SubList(key)
	if len(l) == 0 {
		return nil, err
	}
	return l, err
}

func (c otherWording) String(key string) (string, error) {
	s, err := c.Config.String(key)
	if err != nil && !errors.Is(err, core.ErrConfigKeyMissing) {
		return s, fmt.Errorf("invalid type for %s", key)
	}
	return s, err
}

func TestSuiteCatchesDrift(t *testing.T) {
	if got := failures(t, production); len(got) != 0 {
		t.Fatalf("the production config fails cases %q", got)
	}
	tests := []struct {
		name string
		wrap func(core.Config) core.Config
		want string // a case that must fail
	}{
		{"unsorted keys", func(c core.Config) core.Config { return unsortedKeys{c} }, "Keys"},
		{"Int without string conversion", func(c core.Config) core.Config { return intNoStrings{c} }, "Int"},
		{"missing keys not wrapped", func(c core.Config) core.Config { return missingUnwraped{c} }, "String"},
		{"sub configs lose their prefix", func(c core.Config) core.Config { return subLosesPrefix{c} }, "Sub"},
		{"integer durations in nanoseconds", func(c core.Config) core.Config { return durationNanos{c} }, "Duration"},
		{"Bool accepts yes", func(c core.Config) core.Config { return boolYes{c} }, "Bool"},
		{"missing SubList is nil", func(c core.Config) core.Config { return nilSubList{c} }, "SubList"},
		{"other error wording", func(c core.Config) core.Config { return otherWording{c} }, "String"},
		{"data not copied", nil, "DataIsCopied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newConfig := func(data map[string]any) core.Config { return tt.wrap(production(data)) }
			if tt.wrap == nil {
				newConfig = func(data map[string]any) core.Config { return &live{data: data} }
			}
			got := failures(t, newConfig)
			if !slices.Contains(got, tt.want) {
				t.Errorf("failing cases %q, want %q among them", got, tt.want)
			}
		})
	}
}

// live is a config that reads the caller's map on every call instead of a
// copy.
type live struct{ data map[string]any }

func (l *live) c() core.Config                       { return production(l.data) }
func (l *live) Has(key string) bool                  { return l.c().Has(key) }
func (l *live) Keys() []string                       { return l.c().Keys() }
func (l *live) String(key string) (string, error)    { return l.c().String(key) }
func (l *live) Int(key string) (int, error)          { return l.c().Int(key) }
func (l *live) Bool(key string) (bool, error)        { return l.c().Bool(key) }
func (l *live) Strings(key string) ([]string, error) { return l.c().Strings(key) }
func (l *live) Duration(key string) (time.Duration, error) {
	return l.c().Duration(key)
}
func (l *live) OptionalString(key string) (string, bool, error) { return l.c().OptionalString(key) }
func (l *live) OptionalInt(key string) (int, bool, error)       { return l.c().OptionalInt(key) }
func (l *live) OptionalBool(key string) (bool, bool, error)     { return l.c().OptionalBool(key) }
func (l *live) OptionalDuration(key string) (time.Duration, bool, error) {
	return l.c().OptionalDuration(key)
}
func (l *live) Sub(key string) (core.Config, error)               { return l.c().Sub(key) }
func (l *live) OptionalSub(key string) (core.Config, bool, error) { return l.c().OptionalSub(key) }
func (l *live) SubList(key string) ([]core.Config, error)         { return l.c().SubList(key) }
func (l *live) Decode(key string, out any) error                  { return l.c().Decode(key, out) }
