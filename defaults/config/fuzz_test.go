package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzLoad loads a YAML document with one GREENROOM_CONFIG_* override and
// one variable for ${} substitution. Loading never panics; on success the
// overridden key is set, and the configuration decoded into a map
// (Decode) and read back (FromMap) is unchanged. Run it with
//
//	go test -fuzz FuzzLoad ./defaults/config
func FuzzLoad(f *testing.F) {
	seeds := []struct{ doc, path, value, varValue string }{
		{"backend:\n  listen:\n    port: 7007\n  baseUrl: ${BASE}\n", "backend_listen_port", "8080", "http://localhost"},
		{"a: $${BASE}\nb: [x, '${BASE}', 1, 2.5, true, null]\n", "a", `{"x": [1, 2]}`, "v"},
		{"backend: {auth: {externalAccess: [{type: static, options: {token: ${BASE}, subject: ci}}]}}", "backend_auth_dangerouslyDisableDefaultAuthPolicy", "true", "abcdefgh"},
		{"d: 2024-01-01\nt: 2024-01-01T10:00:00Z\n1: one\ntrue: yes\n", "x_y_z", "null", ""},
		{"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "a", "[1]", ""},
		{"base: &base {x: 1}\nderived:\n  <<: *base\n  y: 2\n", "derived_x", "'quoted'", ""},
		{"---\na: 1\n---\nb: 2\n", "a", "x", ""},
		{"- not an object\n", "a", "{", ""},
		{"a.b: 1\n", "a__b", "1", ""},
		{"n: 1e400\nm: -0.0\nk: 0x10\nl: 18446744073709551616\n", "n", ".inf", ""},
		{"s: \"\\u0000\"\n", "s", "abc #1", "${BASE}"},
	}
	for _, s := range seeds {
		f.Add(s.doc, s.path, s.value, s.varValue)
	}
	f.Fuzz(func(t *testing.T, doc, path, value, varValue string) {
		if len(doc) > 1<<16 || strings.Contains(path, "=") {
			return // an environment variable's name has no "="
		}
		env := []string{"BASE=" + varValue, EnvPrefix + path + "=" + value}
		c, err := load([]source{{name: "fuzz.yaml", data: []byte(doc)}}, env)
		if err != nil {
			if c != nil {
				t.Fatalf("load returned a config with its error %v", err)
			}
			return
		}
		// Has(the overridden key) holds, null included.
		if key := strings.ReplaceAll(path, "_", "."); !c.Has(key) {
			t.Fatalf("override %s=%q loaded, but Has(%q) is false", EnvPrefix+path, value, key)
		}
		// Decode of the whole configuration into a map and FromMap give
		// the same configuration back.
		var m map[string]any
		if err := c.Decode("", &m); err != nil {
			t.Fatalf("Decode of the loaded config: %v", err)
		}
		back, err := FromMap(m)
		if err != nil {
			t.Fatalf("FromMap of the decoded config: %v", err)
		}
		if diff := cmp.Diff(numbersAsFloats(c.data), numbersAsFloats(back.data), cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("Decode and FromMap changed the config (-loaded +decoded):\n%s", diff)
		}
	})
}

// numbersAsFloats returns a copy of v with every int64 as a float64. The
// getters treat 0 and 0.0 alike, but YAML writes float64 -0 as "-0", which
// reads back as the integer 0.
func numbersAsFloats(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = numbersAsFloats(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = numbersAsFloats(e)
		}
		return l
	}
	return v
}

// TestLoadRejectsAliasBombs checks that a "billion laughs" document, in a
// file or in an override, fails fast with an error instead of expanding
// into gigabytes. gopkg.in/yaml.v3 bounds alias expansion; this test
// keeps it that way.
func TestLoadRejectsAliasBombs(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	bomb := b.String() // 10^10 strings when expanded
	_, err := load([]source{{name: "bomb.yaml", data: []byte(bomb)}}, nil)
	if err == nil || !strings.Contains(err.Error(), `config file "bomb.yaml"`) || !strings.Contains(err.Error(), "excessive aliasing") {
		t.Errorf("file: error = %v, want excessive aliasing", err)
	}
	flow := "{" + strings.ReplaceAll(strings.TrimSuffix(bomb, "\n"), "\n", ", ") + "}"
	_, err = load(nil, []string{EnvPrefix + "x=" + flow})
	if err == nil || !strings.Contains(err.Error(), "environment variable "+EnvPrefix+"x") || !strings.Contains(err.Error(), "excessive aliasing") {
		t.Errorf("override: error = %v, want excessive aliasing", err)
	}
}

// TestKeysWithControlCharacters is a regression test for a FuzzLoad
// finding: a key with a line break, from a file or from an environment
// variable's name, was accepted, and YAML wrote it back as an empty key.
func TestKeysWithControlCharacters(t *testing.T) {
	t.Parallel()
	_, err := load([]source{{name: "keys.yaml", data: []byte("\"a\\nb\": 1\n")}}, nil)
	if err == nil || !strings.Contains(err.Error(), `config key "a\nb" under "" contains a control character or line break`) {
		t.Errorf("file: error = %v", err)
	}
	_, err = load(nil, []string{EnvPrefix + "backend_\n=1"})
	if err == nil || !strings.Contains(err.Error(), "environment variable "+EnvPrefix+"backend_\n:") {
		t.Errorf("override: error = %v", err)
	}
}

// TestDecodeKeepsLineBreaks is a regression test for a FuzzLoad finding:
// Decode went through YAML text in which "\n" was written as a block
// scalar that read back as "".
func TestDecodeKeepsLineBreaks(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"\n", "\n\n", "a\n\n", " \n x", "\r", "tab\there", "\x00", "-----BEGIN\nAAAA\n-----END\n"} {
		c, err := FromMap(map[string]any{"s": v, "l": []any{v}})
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			S string
			L []string
		}
		if err := c.Decode("", &out); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if out.S != v || len(out.L) != 1 || out.L[0] != v {
			t.Errorf("Decode of %q = %q, %q", v, out.S, out.L)
		}
	}
}

// TestInvalidUTF8FromTheEnvironment is a regression test for a FuzzLoad
// finding: a value that is not UTF-8, from an override or a ${}
// substitution, loaded and then failed every Decode.
func TestInvalidUTF8FromTheEnvironment(t *testing.T) {
	t.Parallel()
	_, err := load(nil, []string{EnvPrefix + "a=\xca"})
	if err == nil || !strings.Contains(err.Error(), "environment variable "+EnvPrefix+"a: the value is not valid UTF-8 text") {
		t.Errorf("override: error = %v", err)
	}
	_, err = load(nil, []string{EnvPrefix + "\xb0=1"})
	if err == nil || !strings.Contains(err.Error(), "is not a config path") {
		t.Errorf("override name: error = %v", err)
	}
	_, err = load([]source{{name: "f.yaml", data: []byte("a: ${X}\n")}}, []string{"X=\xca"})
	if err == nil || !strings.Contains(err.Error(), `config file "f.yaml": config key "a": environment variable "X" is not valid UTF-8 text`) {
		t.Errorf("substitution: error = %v", err)
	}
}
