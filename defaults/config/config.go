package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/core"
)

// Config is configuration data: the whole configuration, or the object at
// some key of it. It implements [core.RootConfig]. A Config is immutable and
// safe for concurrent use.
//
// Values are held in a normalized form: nil, string, bool, int64, float64,
// []any and map[string]any.
type Config struct {
	// key is the full key of this config, "" at the root.
	key  string
	data map[string]any
}

var _ core.RootConfig = (*Config)(nil)

// missingKeyError reports a key that is not set. It wraps
// core.ErrConfigKeyMissing without repeating its text.
type missingKeyError struct {
	key  string
	null bool
}

func (e *missingKeyError) Error() string {
	if e.null {
		return fmt.Sprintf("config key %q is missing (it is set to null)", e.key)
	}
	return fmt.Sprintf("config key %q is missing", e.key)
}

func (e *missingKeyError) Unwrap() error { return core.ErrConfigKeyMissing }

// join appends key to the full key prefix.
func join(prefix, key string) string {
	switch {
	case prefix == "":
		return key
	case key == "":
		return prefix
	default:
		return prefix + "." + key
	}
}

func (c *Config) full(key string) string { return join(c.key, key) }

// lookup returns the value at key. found is false when the key is not set.
// err reports a malformed key or a path that runs through a value that is
// not an object. A path that runs through null is not set.
func (c *Config) lookup(key string) (v any, found bool, err error) {
	if key == "" {
		return c.data, true, nil
	}
	parts := strings.Split(key, ".")
	if slices.Contains(parts, "") {
		return nil, false, fmt.Errorf("invalid config key %q: keys are dot-separated names, such as \"backend.listen.port\"", c.full(key))
	}
	var cur any = c.data
	for i, p := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			if cur == nil {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("config key %q: expected %q to be an object, got %s",
				c.full(key), c.full(strings.Join(parts[:i], ".")), describe(cur))
		}
		if cur, ok = m[p]; !ok {
			return nil, false, nil
		}
	}
	return cur, true, nil
}

// value returns the non-null value at key, a missing-key error, or the
// error of lookup.
func (c *Config) value(key string) (any, error) {
	v, found, err := c.lookup(key)
	if err != nil {
		return nil, err
	}
	if !found || v == nil {
		return nil, &missingKeyError{key: c.full(key), null: found}
	}
	return v, nil
}

// optional turns a missing-key error into ok=false.
func optional[T any](v T, err error) (T, bool, error) {
	if err != nil {
		var zero T
		if _, missing := err.(*missingKeyError); missing {
			return zero, false, nil
		}
		return zero, false, err
	}
	return v, true, nil
}

// describe names the type of a value and, for scalars, the value, for
// error messages such as: expected a number, got string "abc".
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		const max = 64
		if len(x) > max {
			x = x[:max-3] + "..."
		}
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case int64:
		return fmt.Sprintf("number %d", x)
	case float64:
		return "number " + strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		return "list"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func typeError(key, expected string, got any) error {
	return fmt.Errorf("config key %q: expected %s, got %s", key, expected, describe(got))
}

// Has reports whether key is set, to anything including null. Has("")
// is true.
func (c *Config) Has(key string) bool {
	_, found, err := c.lookup(key)
	return found && err == nil
}

// Keys returns the keys directly under this config, sorted, including keys
// set to null.
func (c *Config) Keys() []string {
	keys := make([]string, 0, len(c.data))
	for k := range c.data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// String returns the string at key. Numbers and booleans are not
// converted.
func (c *Config) String(key string) (string, error) {
	v, err := c.value(key)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", typeError(c.full(key), "a string", v)
	}
	return s, nil
}

// OptionalString is [Config.String], reporting ok=false when key is missing.
func (c *Config) OptionalString(key string) (string, bool, error) {
	return optional(c.String(key))
}

// Int returns the whole number at key. A string of a base-10 integer, such
// as one substituted from the environment, is converted.
func (c *Config) Int(key string) (int, error) {
	v, err := c.value(key)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int64:
		if x < math.MinInt || x > math.MaxInt {
			return 0, typeError(c.full(key), "a number that fits in an int", v)
		}
		return int(x), nil
	case float64:
		if x != math.Trunc(x) || x < math.MinInt || x > math.MaxInt {
			return 0, typeError(c.full(key), "a whole number", v)
		}
		return int(x), nil
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			return 0, typeError(c.full(key), "a number", v)
		}
		return n, nil
	default:
		return 0, typeError(c.full(key), "a number", v)
	}
}

// OptionalInt is [Config.Int], reporting ok=false when key is missing.
func (c *Config) OptionalInt(key string) (int, bool, error) {
	return optional(c.Int(key))
}

// Bool returns the boolean at key. The strings "true" and "false" are
// converted.
func (c *Config) Bool(key string) (bool, error) {
	v, err := c.value(key)
	if err != nil {
		return false, err
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch x {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, typeError(c.full(key), "a boolean", v)
}

// OptionalBool is [Config.Bool], reporting ok=false when key is missing.
func (c *Config) OptionalBool(key string) (bool, bool, error) {
	return optional(c.Bool(key))
}

// Duration returns the duration at key: a Go duration string such as
// "1h30m", or a whole number of seconds (as a number or a string).
func (c *Config) Duration(key string) (time.Duration, error) {
	v, err := c.value(key)
	if err != nil {
		return 0, err
	}
	const expected = `a duration such as "1h30m" or a whole number of seconds`
	seconds := func(n int64) (time.Duration, error) {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, typeError(c.full(key), expected, v)
		}
		return time.Duration(n) * time.Second, nil
	}
	switch x := v.(type) {
	case int64:
		return seconds(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= math.MaxInt64/float64(time.Second) {
			return seconds(int64(x))
		}
	case string:
		if d, err := time.ParseDuration(x); err == nil {
			return d, nil
		}
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return seconds(n)
		}
	}
	return 0, typeError(c.full(key), expected, v)
}

// OptionalDuration is [Config.Duration], reporting ok=false when key is
// missing.
func (c *Config) OptionalDuration(key string) (time.Duration, bool, error) {
	return optional(c.Duration(key))
}

// Strings returns the list of strings at key. Every element must be a
// string.
func (c *Config) Strings(key string) ([]string, error) {
	v, err := c.value(key)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, typeError(c.full(key), "a list of strings", v)
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, typeError(fmt.Sprintf("%s[%d]", c.full(key), i), "a string", e)
		}
		out[i] = s
	}
	return out, nil
}

// Sub returns the object at key as a Config whose errors name keys in
// full. Sub("") returns c.
func (c *Config) Sub(key string) (core.Config, error) {
	return c.sub(key)
}

func (c *Config) sub(key string) (*Config, error) {
	if key == "" {
		return c, nil
	}
	v, err := c.value(key)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, typeError(c.full(key), "an object", v)
	}
	return &Config{key: c.full(key), data: m}, nil
}

// OptionalSub is [Config.Sub], reporting ok=false when key is missing.
func (c *Config) OptionalSub(key string) (core.Config, bool, error) {
	return optional(c.Sub(key))
}

// SubList returns the list of objects at key. A missing key is an empty
// list. The elements' errors name keys such as "discovery.endpoints[1].target".
func (c *Config) SubList(key string) ([]core.Config, error) {
	v, err := c.value(key)
	if err != nil {
		if _, missing := err.(*missingKeyError); missing {
			return []core.Config{}, nil
		}
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, typeError(c.full(key), "a list of objects", v)
	}
	out := make([]core.Config, len(list))
	for i, e := range list {
		elemKey := fmt.Sprintf("%s[%d]", c.full(key), i)
		m, ok := e.(map[string]any)
		if !ok {
			return nil, typeError(elemKey, "an object", e)
		}
		out[i] = &Config{key: elemKey, data: m}
	}
	return out, nil
}

// StringOrList reads key of c as a list of strings, accepting a single
// string as a list of one, the way Backstage's config reads keys such as
// backend.cors.origin. It returns nil when key is not set.
func StringOrList(c core.Config, key string) ([]string, error) {
	if !c.Has(key) {
		return nil, nil
	}
	if s, err := c.String(key); err == nil {
		return []string{s}, nil
	}
	list, err := c.Strings(key)
	if err != nil {
		return nil, fmt.Errorf("expected a string or a list of strings: %w", err)
	}
	return list, nil
}
