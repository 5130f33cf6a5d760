package config

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// Decode decodes the value at key ("" for the whole config) into out, which
// must be a non-nil pointer, with github.com/go-viper/mapstructure/v2 and
// strict rules:
//
//   - Struct fields match their yaml tag, else their lower-cased name, and
//     nothing else (no case-insensitive match). A key that the target
//     struct has no field for is an error. ",inline" in a tag decodes an
//     embedded struct's fields as the outer struct's; yaml.v3's inline
//     map (collecting the keys no other field takes) is not supported, and
//     a target with one is an error. Custom UnmarshalYAML methods are not
//     called.
//   - Strings stay strings (also in fields of type any), except that a
//     string of a base-10 number or "true"/"false" decodes into a number or
//     boolean field, as with [Config.Int] and [Config.Bool]. Numbers and
//     booleans decode into string fields as written.
//   - An array field takes a list of exactly its length.
//   - Number fields take numbers that fit them exactly: a whole number for
//     an integer field, within its range.
//   - time.Duration fields take Go duration strings ("1m30s").
//   - A field whose type implements encoding.TextUnmarshaler (through a
//     pointer), such as time.Time, netip.Addr or slog.Level, takes a
//     string, number or boolean, whose text it unmarshals.
//   - In fields of type any, values keep their form: strings, whole numbers
//     as int, other numbers as float64, booleans, []any and map[string]any.
//
// Fields the config does not set keep their values. Errors name the full key
// of the offending value (with list indexes, as in
// "backend.auth.externalAccess[1].options.subject") and the expected type.
// out is left unchanged when Decode fails.
func (c *Config) Decode(key string, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config key %q: Decode needs a non-nil pointer, got %T", c.full(key), out)
	}
	v, err := c.value(key)
	if err != nil {
		return err
	}
	if f := inlineNonStruct(rv.Elem().Type(), map[reflect.Type]bool{}); f != "" {
		return fmt.Errorf("config key %q: Decode into %T: field %s is tagged \",inline\" but is not a struct; only embedded structs can be inlined (to collect arbitrary keys, give the map a key of its own)", c.full(key), out, f)
	}
	target := reflect.New(rv.Elem().Type())
	target.Elem().Set(rv.Elem())
	var h hook
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:      mapstructure.DecodeHookFuncValue(h.check),
		Result:          target.Interface(),
		TagName:         "yaml",
		SquashTagOption: "inline",
		MapFieldName:    strings.ToLower,
		MatchName:       func(mapKey, fieldName string) bool { return mapKey == fieldName },
	})
	if err != nil {
		return fmt.Errorf("config key %q: %w", c.full(key), err)
	}
	err = dec.Decode(v)
	if err != nil || len(h.unknown) > 0 {
		return decodeErrors(err, h.unknown, c.full(key), v)
	}
	rv.Elem().Set(target.Elem())
	return nil
}

// mismatchError is a value that does not fit its target type.
type mismatchError struct {
	expected string
	got      any
}

func (e *mismatchError) Error() string {
	return "expected " + e.expected + ", got " + describe(e.got)
}

// unknownKeys are the keys of an object of the config that its target
// struct has no field for.
type unknownKeys struct {
	object reflect.Value // the map[string]any of the config
	typ    reflect.Type
	keys   []string
}

// hook is the decode hook of one Decode. It records the unknown keys of
// every object rather than failing on them, so that the errors of the
// known keys are reported too.
type hook struct {
	unknown []unknownKeys
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// check checks that a value of the config fits the field it decodes into,
// and converts it where the rules of Decode allow. mapstructure calls it for
// every value, containers first.
func (h *hook) check(from, to reflect.Value) (any, error) {
	data := from.Interface()
	t := to.Type()
	mismatch := func() (any, error) { return nil, &mismatchError{expected: t.String(), got: data} }
	if from.Type() == t {
		// A value this hook made, such as the result of UnmarshalText, or
		// one of its elements: mapstructure sets it as it is.
		return data, nil
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		if text, ok := scalarText(data); ok {
			v := reflect.New(t)
			if err := v.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text)); err != nil {
				return nil, fmt.Errorf("expected %s, got %s: %w", t, describe(data), err)
			}
			return v.Elem().Interface(), nil
		}
	}
	if t == durationType {
		s, ok := data.(string)
		if !ok {
			return mismatch()
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, &mismatchError{expected: "a duration such as \"1m30s\"", got: data}
		}
		return d, nil
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := wholeNumber(data)
		if !ok || to.OverflowInt(n) {
			return mismatch()
		}
		return n, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, ok := wholeNumber(data)
		if !ok || n < 0 || to.OverflowUint(uint64(n)) {
			return mismatch()
		}
		return uint64(n), nil
	case reflect.Float32, reflect.Float64:
		f, ok := number(data)
		if !ok || (t.Kind() == reflect.Float32 && !math.IsInf(f, 0) && to.OverflowFloat(f)) {
			return mismatch()
		}
		return f, nil
	case reflect.Bool:
		switch x := data.(type) {
		case bool:
			return x, nil
		case string:
			if x == "true" || x == "false" {
				return x == "true", nil
			}
		}
		return mismatch()
	case reflect.String:
		switch x := data.(type) {
		case string:
			return x, nil
		case bool:
			return strconv.FormatBool(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
		return mismatch()
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return plain(data), nil
		}
		return mismatch()
	case reflect.Struct:
		m, ok := data.(map[string]any)
		if !ok {
			return mismatch()
		}
		keys := map[string]bool{}
		fieldKeys(t, keys)
		var unknown []string
		for k := range m {
			if !keys[k] {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			slices.Sort(unknown)
			h.unknown = append(h.unknown, unknownKeys{object: from, typ: t, keys: unknown})
		}
		return data, nil // mapstructure ignores the unknown keys
	case reflect.Map:
		if _, ok := data.(map[string]any); !ok || t.Key().Kind() != reflect.String {
			return mismatch()
		}
		return data, nil
	case reflect.Slice, reflect.Array:
		l, ok := data.([]any)
		if !ok {
			return mismatch()
		}
		if t.Kind() == reflect.Array && len(l) != t.Len() {
			// mapstructure would fill a longer array with zeros.
			return nil, fmt.Errorf("expected %s, a list of %d, got a list of %d", t, t.Len(), len(l))
		}
		return data, nil
	case reflect.Pointer:
		return data, nil // mapstructure calls the hook again for the element
	}
	return mismatch()
}

// scalarText returns the text of a string, number or boolean of the
// config, as written in YAML, for a field whose type implements
// encoding.TextUnmarshaler (time.Time, netip.Addr, slog.Level, ...).
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return "", false
}

// wholeNumber returns a whole number, as [Config.Int] accepts it.
func wholeNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// number returns a number, or a string of a decimal number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		if !decimal(x) {
			return 0, false
		}
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// decimal reports whether s is a decimal number: no hexadecimal, no
// underscores, no infinity or NaN.
func decimal(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	t := strings.TrimLeft(s, "+-")
	return err == nil && !strings.ContainsAny(s, "xXpP_") && !strings.EqualFold(t, "inf") &&
		!strings.EqualFold(t, "infinity") && !strings.EqualFold(t, "nan")
}

// plain returns a deep copy of a config value for a field of type any, with
// whole numbers as int, as YAML decoders give them.
func plain(v any) any {
	switch x := v.(type) {
	case int64:
		if x >= math.MinInt && x <= math.MaxInt {
			return int(x)
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	}
	return v
}

// inlineNonStruct returns the name (Type.Field) of a field reachable from t
// that is tagged ",inline" but is not a struct or a pointer to one, or "".
// yaml.v3 collects the remaining keys of an object into an inline map;
// mapstructure cannot, and would report a malformed key, so Decode refuses
// such a target up front with an error that says why.
func inlineNonStruct(t reflect.Type, seen map[reflect.Type]bool) string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return ""
	}
	seen[t] = true
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		if _, inline, st := yamlTag(f); inline && st == nil {
			return t.String() + "." + f.Name
		}
		if name := inlineNonStruct(f.Type, seen); name != "" {
			return name
		}
	}
	return ""
}

// fieldKeys adds to keys the config keys of the fields of struct type t, as
// Decode matches them: the yaml tag's name, else the lower-cased field name;
// the fields of an ",inline" struct count as t's.
func fieldKeys(t reflect.Type, keys map[string]bool) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		key, _, st := yamlTag(f)
		switch {
		case key == "-":
		case st != nil:
			fieldKeys(st, keys)
		default:
			keys[key] = true
		}
	}
}

// yamlTag reads an exported struct field's yaml tag as Decode does: key is
// the tag's name, else the lower-cased field name ("-" for a field Decode
// skips); inline reports a ",inline" option, and inlined is the struct type
// whose fields then count as the parent's (nil unless the field is a
// struct or a pointer to one).
func yamlTag(f reflect.StructField) (key string, inline bool, inlined reflect.Type) {
	key, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if key == "" {
		key = strings.ToLower(f.Name)
	}
	if !slices.Contains(strings.Split(opts, ","), "inline") {
		return key, false, nil
	}
	ft := f.Type
	if ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	if ft.Kind() != reflect.Struct {
		return key, true, nil
	}
	return key, true, ft
}

// decodeErrors turns the errors of mapstructure and the unknown keys into
// errors naming config keys, sorted by key. root is the full key of data,
// the decoded value.
func decodeErrors(err error, unknown []unknownKeys, root string, data any) error {
	var out []error
	for _, u := range unknown {
		key, ok := pathOf(root, data, u.object)
		if !ok {
			key = root
		}
		for _, k := range u.keys {
			out = append(out, fmt.Errorf("config key %q: unknown key; %s has no field for %q", join(key, k), u.typ, k))
		}
	}
	var walk func(err error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *mapstructure.DecodeError:
			out = append(out, fmt.Errorf("config key %q: %w", keyOf(root, e.Name(), data), e.Unwrap()))
		case interface{ Unwrap() []error }:
			for _, e := range e.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			// The "decoding failed due to the following error(s)" around
			// several errors.
			walk(e.Unwrap())
		default:
			out = append(out, fmt.Errorf("config key %q: %w", root, err))
		}
	}
	walk(err)
	slices.SortStableFunc(out, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(out...)
}

// pathOf returns the full key of the object obj inside data, whose full key
// is key. Every object of a config is a map of its own.
func pathOf(key string, data any, obj reflect.Value) (string, bool) {
	switch x := data.(type) {
	case map[string]any:
		if reflect.ValueOf(x).UnsafePointer() == obj.UnsafePointer() {
			return key, true
		}
		for k, v := range x {
			if p, ok := pathOf(join(key, k), v, obj); ok {
				return p, true
			}
		}
	case []any:
		for i, v := range x {
			if p, ok := pathOf(fmt.Sprintf("%s[%d]", key, i), v, obj); ok {
				return p, true
			}
		}
	}
	return "", false
}

// keyOf returns the full config key of the value mapstructure names name:
// its struct fields are joined with ".", and list indexes and map keys are
// in brackets ("[1].options", "[externalAccess]"). Which bracket is which
// follows from data, the decoded value: a map key becomes ".key", as config
// keys are written. A name that does not follow data is appended as is.
func keyOf(root, name string, data any) string {
	key := root
	rest := name
	for rest != "" {
		var seg string
		index := false
		switch {
		case rest[0] == '.':
			rest = rest[1:]
			continue
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return join(root, name)
			}
			seg, rest, index = rest[1:end], rest[end+1:], true
		default:
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			seg, rest = rest[:end], rest[end:]
		}
		switch x := data.(type) {
		case []any:
			i, err := strconv.Atoi(seg)
			if !index || err != nil || i < 0 || i >= len(x) {
				return join(root, name)
			}
			key, data = fmt.Sprintf("%s[%d]", key, i), x[i]
		case map[string]any:
			v, ok := x[seg]
			if !ok {
				return join(root, name)
			}
			key, data = join(key, seg), v
		default:
			return join(root, name)
		}
	}
	return key
}
