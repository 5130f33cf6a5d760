package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Decode decodes the value at key ("" for the whole config) into out, which
// must be a non-nil pointer, with gopkg.in/yaml.v3 rules and known-fields
// strictness: a key that the target struct has no field for is an error.
// Struct fields match their yaml tag, else their lower-cased name. Strings
// stay strings (also in fields of type any), except that a string of a
// base-10 number or "true"/"false" decodes into a number or boolean field,
// as with [Config.Int] and [Config.Bool]. Errors name the full key of the
// offending value. out is left unchanged when Decode fails.
func (c *Config) Decode(key string, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config key %q: Decode needs a non-nil pointer, got %T", c.full(key), out)
	}
	v, err := c.value(key)
	if err != nil {
		return err
	}
	// The value goes through YAML text so that the decoder's known-fields
	// check applies; yaml.Node.Decode has no such option. Lines of that
	// text are mapped back to keys for errors. A first pass keeps every
	// string a string; the strings it reports as wrong for a number or
	// boolean field are made plain scalars for a second pass.
	root := toNode(v)
	for pass := 0; ; pass++ {
		doc, err := yaml.Marshal(root)
		if err != nil {
			return fmt.Errorf("config key %q: %w", c.full(key), err)
		}
		target := reflect.New(rv.Elem().Type())
		target.Elem().Set(rv.Elem())
		dec := yaml.NewDecoder(bytes.NewReader(doc))
		dec.KnownFields(true)
		err = dec.Decode(target.Interface())
		if err == nil {
			rv.Elem().Set(target.Elem())
			return nil
		}
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return fmt.Errorf("config key %q: %w", c.full(key), err)
		}
		var parsed yaml.Node
		if err := yaml.Unmarshal(doc, &parsed); err != nil || len(parsed.Content) == 0 {
			return fmt.Errorf("config key %q: %w", c.full(key), te)
		}
		idx := index(parsed.Content[0], c.full(key))
		if pass == 0 && relax(te, idx) {
			root = parsed.Content[0]
			continue
		}
		errs := make([]error, 0, len(te.Errors))
		for _, msg := range te.Errors {
			errs = append(errs, decodeError(msg, idx, c.full(key)))
		}
		return errors.Join(errs...)
	}
}

// toNode builds a YAML node for a normalized value, with explicit tags.
func toNode(v any) *yaml.Node {
	switch x := v.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
		if strings.ContainsFunc(x, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) {
			// yaml.v3 writes such strings as block scalars that do not
			// always read back the same ("\n" came back as ""); the
			// double-quoted style escapes them exactly.
			n.Style = yaml.DoubleQuotedStyle
		}
		return n
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(x, 10)}
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		switch {
		case math.IsNaN(x):
			s = ".nan"
		case math.IsInf(x, 1):
			s = ".inf"
		case math.IsInf(x, -1):
			s = "-.inf"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s}
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range x {
			n.Content = append(n.Content, toNode(e))
		}
		return n
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, toNode(x[k]))
		}
		return n
	}
	panic(fmt.Sprintf("config: value of type %T is not normalized", v))
}

// located is a node of the decoded YAML text and its full key.
type located struct {
	node *yaml.Node
	key  string
	// isKey marks the key node of a mapping entry.
	isKey bool
}

// index lists, for each line of the text, the nodes that start on it,
// parents first.
func index(root *yaml.Node, rootKey string) map[int][]located {
	idx := map[int][]located{}
	var walk func(n *yaml.Node, key string)
	walk = func(n *yaml.Node, key string) {
		idx[n.Line] = append(idx[n.Line], located{node: n, key: key})
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := join(key, n.Content[i].Value)
				idx[n.Content[i].Line] = append(idx[n.Content[i].Line], located{node: n.Content[i], key: k, isKey: true})
				walk(n.Content[i+1], k)
			}
		case yaml.SequenceNode:
			for i, e := range n.Content {
				walk(e, fmt.Sprintf("%s[%d]", key, i))
			}
		}
	}
	walk(root, rootKey)
	return idx
}

var numberOrBoolTypeRE = regexp.MustCompile(`^(u?int(8|16|32|64)?|float(32|64)|bool)$`)

// relax makes plain scalars of the strings that te reports as wrong for a
// number or boolean field, when they read as one. It reports whether it
// changed anything.
func relax(te *yaml.TypeError, idx map[int][]located) bool {
	changed := false
	for _, msg := range te.Errors {
		line, rest := splitLine(msg)
		m := unmarshalRE.FindStringSubmatch(rest)
		if m == nil || m[1] != "str" || !numberOrBoolTypeRE.MatchString(m[3]) {
			continue
		}
		for _, l := range idx[line] {
			n := l.node
			if l.isKey || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || !numberOrBool(n.Value) {
				continue
			}
			n.Tag, n.Style = "", 0
			changed = true
		}
	}
	return changed
}

func numberOrBool(s string) bool {
	if s == "true" || s == "false" {
		return true
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && !strings.ContainsAny(s, "xXpP_") && !strings.EqualFold(strings.TrimLeft(s, "+-"), "inf") &&
		!strings.EqualFold(strings.TrimLeft(s, "+-"), "infinity") && !strings.EqualFold(s, "nan")
}

func splitLine(msg string) (int, string) {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			return n, m[2]
		}
	}
	return 0, msg
}

var (
	lineRE       = regexp.MustCompile(`^line (\d+): (.*)$`)
	notFoundRE   = regexp.MustCompile(`^field (.+) not found in type (.+)$`)
	unmarshalRE  = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
	yamlTagNames = map[string]string{
		"str": "string", "int": "number", "float": "number", "bool": "boolean",
		"map": "object", "seq": "list", "null": "null",
	}
)

// decodeError rewrites one message of a yaml.TypeError in terms of config
// keys.
func decodeError(msg string, idx map[int][]located, root string) error {
	line, msg := splitLine(msg)
	// find returns the key of the first node on the line that matches.
	find := func(match func(l located) bool) string {
		for _, l := range idx[line] {
			if match(l) {
				return l.key
			}
		}
		if ls := idx[line]; len(ls) > 0 {
			return ls[0].key
		}
		return root
	}
	if m := notFoundRE.FindStringSubmatch(msg); m != nil {
		key := find(func(l located) bool { return l.isKey && l.node.Value == m[1] })
		return fmt.Errorf("config key %q: unknown key; %s has no field for %q", key, m[2], m[1])
	}
	if m := unmarshalRE.FindStringSubmatch(msg); m != nil {
		key := find(func(l located) bool { return !l.isKey && l.node.ShortTag() == "!!"+m[1] })
		got := yamlTagNames[m[1]]
		if got == "" {
			got = m[1]
		}
		switch m[1] {
		case "str":
			got += " " + strconv.Quote(m[2])
		case "int", "float", "bool":
			got += " " + m[2]
		}
		return fmt.Errorf("config key %q: expected %s, got %s", key, m[3], got)
	}
	return fmt.Errorf("config key %q: %s", find(func(located) bool { return true }), msg)
}
