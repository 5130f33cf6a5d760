package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts the names of the environment variables that override
// config keys, as in GREENROOM_CONFIG_backend_listen_port=8080.
const EnvPrefix = "GREENROOM_CONFIG_"

// Load reads the YAML files in order, merges them (a later file overrides
// an earlier one; objects merge deeply, lists are replaced), substitutes
// ${NAME} in string values from env and applies the GREENROOM_CONFIG_*
// overrides found in env. env holds "NAME=value" entries, as returned by
// os.Environ. With no files the configuration holds only the overrides.
//
// Errors name the file and the key.
func Load(files []string, env []string) (*Config, error) {
	sources := make([]source, len(files))
	for i, f := range files {
		sources[i] = source{path: f}
	}
	return load(sources, env)
}

// source is a YAML document to load: a file, or inline data with a name.
type source struct {
	path string
	name string
	data []byte
}

func load(sources []source, env []string) (*Config, error) {
	vars := envMap(env)
	var data map[string]any
	for _, src := range sources {
		name, b := src.name, src.data
		if src.path != "" {
			name = src.path
			var err error
			if b, err = os.ReadFile(src.path); err != nil {
				return nil, fmt.Errorf("config file %q: %w", name, err)
			}
		}
		m, err := parseYAML(b)
		if err != nil {
			return nil, fmt.Errorf("config file %q: %w", name, err)
		}
		if err := substituteAll(m, "", vars); err != nil {
			return nil, fmt.Errorf("config file %q: %w", name, err)
		}
		data = mergeObjects(data, m)
	}
	data, err := applyEnvOverrides(data, env)
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = map[string]any{}
	}
	return &Config{data: data}, nil
}

// FromYAML returns the configuration written in the YAML document doc, as
// is: without substitution or environment overrides. It is meant for tests.
func FromYAML(doc string) (*Config, error) {
	m, err := parseYAML([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &Config{data: m}, nil
}

// FromMap returns the configuration holding a deep copy of m, as is:
// without substitution or environment overrides. It is meant for tests.
// Values may be strings, booleans, numbers of any Go numeric type, nil,
// slices and arrays, and maps with string keys, nested freely; anything else
// is an error naming the key.
func FromMap(m map[string]any) (*Config, error) {
	v, err := normalize(m, "")
	if err != nil {
		return nil, fmt.Errorf("config.FromMap: %w", err)
	}
	return &Config{data: v.(map[string]any)}, nil
}

// parseYAML parses a single YAML document whose top level is an object (or
// empty) into the normalized form.
func parseYAML(b []byte) (map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return map[string]any{}, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("line %d: a config file holds one YAML document, found a second one", extra.Line)
	}
	// Keep timestamps as the text that was written: decoding them into
	// time.Time and back would change "2024-01-01" to a full timestamp.
	retagTimestamps(&doc, map[*yaml.Node]bool{})
	var v any
	if err := doc.Decode(&v); err != nil {
		return nil, err
	}
	n, err := normalize(v, "")
	if err != nil {
		return nil, err
	}
	switch m := n.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return m, nil
	default:
		return nil, fmt.Errorf("the top level must be an object (a YAML mapping), got %s", describe(n))
	}
}

func retagTimestamps(n *yaml.Node, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!timestamp" {
		n.Tag = "!!str"
	}
	retagTimestamps(n.Alias, seen)
	for _, c := range n.Content {
		retagTimestamps(c, seen)
	}
}

// normalize deep-copies v into the normalized form, checking keys. path is
// the full key of v, for errors.
func normalize(v any, path string) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case []byte:
		return string(x), nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if err := checkKey(k, path); err != nil {
				return nil, err
			}
			n, err := normalize(e, join(path, k))
			if err != nil {
				return nil, err
			}
			m[k] = n
		}
		return m, nil
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			l[i] = n
		}
		return l, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return normalize(rv.Elem().Interface(), path)
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return int64(u), nil
		}
		return float64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		l := make([]any, rv.Len())
		for i := range l {
			n, err := normalize(rv.Index(i).Interface(), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			l[i] = n
		}
		return l, nil
	case reflect.Map:
		if rv.IsNil() {
			return nil, nil
		}
		m := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k, err := mapKey(iter.Key(), path)
			if err != nil {
				return nil, err
			}
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("config key %q is given twice", join(path, k))
			}
			n, err := normalize(iter.Value().Interface(), join(path, k))
			if err != nil {
				return nil, err
			}
			m[k] = n
		}
		return m, nil
	}
	where := path
	if where == "" {
		where = "<top level>"
	}
	return nil, fmt.Errorf("config key %q: unsupported value of type %T; use strings, numbers, booleans, lists and maps", where, v)
}

// mapKey turns a map key into a config key. YAML allows keys such as 1 or
// true; they become "1" and "true".
func mapKey(k reflect.Value, path string) (string, error) {
	for k.Kind() == reflect.Interface && !k.IsNil() {
		k = k.Elem()
	}
	var s string
	switch k.Kind() {
	case reflect.String:
		s = k.String()
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		s = fmt.Sprint(k.Interface())
	default:
		return "", fmt.Errorf("config key under %q: keys must be strings, got %s", path, k.Type())
	}
	return s, checkKey(s, path)
}

func checkKey(k, path string) error {
	if k == "" {
		return fmt.Errorf("config key under %q is empty; keys must be non-empty names", path)
	}
	if strings.Contains(k, ".") {
		return fmt.Errorf("config key %q under %q contains \".\", which separates keys; rename it", k, path)
	}
	if !utf8.ValidString(k) {
		return fmt.Errorf("config key %q under %q is not valid UTF-8 text; rename it", k, path)
	}
	// Line breaks and other control characters in a key are mistakes
	// (often in an environment variable's name), and YAML cannot always
	// write such a key back: "\n" comes back as "".
	if strings.ContainsFunc(k, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) {
		return fmt.Errorf("config key %q under %q contains a control character or line break; rename it", k, path)
	}
	return nil
}

// mergeObjects returns src merged over dst: objects merge key by key,
// anything else in src replaces what dst has. Neither argument is modified.
func mergeObjects(dst, src map[string]any) map[string]any {
	if dst == nil {
		return src
	}
	out := make(map[string]any, len(dst)+len(src))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		out[k] = mergeValues(out[k], v)
	}
	return out
}

func mergeValues(dst, src any) any {
	d, ok1 := dst.(map[string]any)
	s, ok2 := src.(map[string]any)
	if ok1 && ok2 {
		return mergeObjects(d, s)
	}
	return src
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// substituteAll replaces ${NAME} references in the strings of v, in place.
func substituteAll(v any, path string, vars map[string]string) error {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok {
				out, err := substitute(s, vars)
				if err != nil {
					return fmt.Errorf("config key %q: %w", join(path, k), err)
				}
				x[k] = out
				continue
			}
			if err := substituteAll(e, join(path, k), vars); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			p := fmt.Sprintf("%s[%d]", path, i)
			if s, ok := e.(string); ok {
				out, err := substitute(s, vars)
				if err != nil {
					return fmt.Errorf("config key %q: %w", p, err)
				}
				x[i] = out
				continue
			}
			if err := substituteAll(e, p, vars); err != nil {
				return err
			}
		}
	}
	return nil
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// substitute replaces ${NAME} with the variable's value and $${NAME} with
// the literal ${NAME}. os.Expand does not fit: it also expands $NAME and
// has no escape, and config values such as passwords contain "$".
func substitute(s string, vars map[string]string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		end += i
		if i > 0 && s[i-1] == '$' {
			// $${NAME}: drop one "$" and keep the rest as text.
			b.WriteString(s[:i-1])
			b.WriteString(s[i : end+1])
			s = s[end+1:]
			continue
		}
		b.WriteString(s[:i])
		name := s[i+2 : end]
		if !varName.MatchString(name) {
			return "", fmt.Errorf("invalid environment variable reference %q: a name is letters, digits and underscores; write $%s for the literal text", s[i:end+1], s[i:end+1])
		}
		val, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("environment variable %q is not set; set it, or write $${%s} for the literal text", name, name)
		}
		if !utf8.ValidString(val) {
			return "", fmt.Errorf("environment variable %q is not valid UTF-8 text", name)
		}
		b.WriteString(val)
		s = s[end+1:]
	}
}

// applyEnvOverrides merges the GREENROOM_CONFIG_* variables of env over
// data, in the order of their names.
func applyEnvOverrides(data map[string]any, env []string) (map[string]any, error) {
	type override struct{ name, value string }
	var overrides []override
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, EnvPrefix) {
			overrides = append(overrides, override{name, value})
		}
	}
	slices.SortStableFunc(overrides, func(a, b override) int { return strings.Compare(a.name, b.name) })
	for _, o := range overrides {
		path := strings.TrimPrefix(o.name, EnvPrefix)
		parts := strings.Split(path, "_")
		for _, p := range parts {
			if checkKey(p, "") != nil {
				return nil, fmt.Errorf("environment variable %s: %q is not a config path; write the key's parts separated by single underscores, as in %sbackend_listen_port", o.name, path, EnvPrefix)
			}
		}
		if !utf8.ValidString(o.value) {
			return nil, fmt.Errorf("environment variable %s: the value is not valid UTF-8 text", o.name)
		}
		v, err := parseEnvValue(o.value)
		if err != nil {
			return nil, fmt.Errorf("environment variable %s: %w", o.name, err)
		}
		v, err = normalize(v, strings.Join(parts, "."))
		if err != nil {
			return nil, fmt.Errorf("environment variable %s: %w", o.name, err)
		}
		for i := len(parts) - 1; i >= 0; i-- {
			v = map[string]any{parts[i]: v}
		}
		data = mergeObjects(data, v.(map[string]any))
	}
	return data, nil
}

// parseEnvValue parses an override's value: JSON (or YAML flow) when it
// starts with "{" or "[", else a YAML scalar, else the text itself.
func parseEnvValue(s string) (any, error) {
	if s == "" {
		return "", nil
	}
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		var v any
		if err := yaml.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("the value starts with %q, so it is read as JSON, but it is not valid JSON (to pass a string, quote it: '\"...\"'): %w", t[:1], err)
		}
		return v, nil
	}
	// A YAML scalar, only when the whole text is one: "abc #1" is a string,
	// not "abc" followed by a comment.
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.ScalarNode {
		return s, nil
	}
	n := doc.Content[0]
	switch t := strings.TrimSpace(s); {
	case n.Style == yaml.DoubleQuotedStyle && strings.HasPrefix(t, `"`) && strings.HasSuffix(t, `"`),
		n.Style == yaml.SingleQuotedStyle && strings.HasPrefix(t, "'") && strings.HasSuffix(t, "'"):
		return n.Value, nil
	case n.Style != 0 || n.Value != s:
		return s, nil
	}
	switch n.ShortTag() {
	case "!!int", "!!float", "!!bool", "!!null":
		var v any
		if err := n.Decode(&v); err != nil {
			return s, nil
		}
		return v, nil
	}
	return s, nil
}
