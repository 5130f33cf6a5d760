// Package configtest is the conformance suite for implementations of
// [core.Config], in the manner of testing/slogtest: the production config
// (package defaults/config) and every fake run the same checks, so a fake
// cannot drift from the real thing.
//
// The suite pins the documented semantics: which values each getter
// accepts and converts, how missing and null keys behave, and the exact
// text of the two error forms users see most:
//
//	config key "backend.baseUrl" is missing
//	config key "backend.listen.port": expected a number, got string "abc"
package configtest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
)

// Run runs the conformance suite as subtests of t. newConfig returns a
// config holding data, which is built from map[string]any, []any, string,
// int, float64, bool and nil; it must copy what it keeps, since the suite
// modifies data afterwards to check that.
func Run(t *testing.T, newConfig func(t *testing.T, data map[string]any) core.Config) {
	t.Helper()
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, func(data map[string]any) core.Config { return newConfig(t, data) })
		})
	}
}

// reporter is the part of *testing.T the checks use, so that the suite's
// own tests can run them against broken implementations.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// testCase is one subtest of the suite.
type testCase struct {
	name string
	run  func(t reporter, newConfig func(map[string]any) core.Config)
}

func sampleData() map[string]any {
	return map[string]any{
		"backend": map[string]any{
			"baseUrl": "http://localhost:7007",
			"listen":  map[string]any{"port": 7007, "host": ""},
			"auth":    map[string]any{"dangerouslyDisableDefaultAuthPolicy": true},
		},
		"str":      "abc",
		"num":      42,
		"numStr":   "8080",
		"negStr":   "-3",
		"float":    1.5,
		"whole":    3.0,
		"yes":      true,
		"trueStr":  "true",
		"falseStr": "false",
		"yesStr":   "yes",
		"null":     nil,
		"empty":    "",
		"dur":      "1h30m",
		"durMs":    "250ms",
		"durInt":   30,
		"durStr":   "45",
		"list":     []any{"a", "b"},
		"mixed":    []any{"a", 2},
		"objects":  []any{map[string]any{"target": "x"}, "oops"},
		"endpoints": []any{
			map[string]any{"target": "http://a/{{pluginId}}", "plugins": []any{"catalog"}},
			map[string]any{"target": 1},
		},
		"nested": map[string]any{"a": map[string]any{"b": "c"}},
	}
}

func cases() []testCase {
	return []testCase{
		{"Has", func(t reporter, newConfig func(map[string]any) core.Config) {
			c := newConfig(sampleData())
			for key, want := range map[string]bool{
				"":                           true,
				"backend":                    true,
				"backend.listen.port":        true,
				"backend.listen.host":        true,
				"null":                       true,
				"null.below":                 false,
				"missing":                    false,
				"backend.missing":            false,
				"str.below":                  false,
				"backend.listen.port.deeper": false,
				"Backend.listen.port":        false, // keys are case-sensitive
				"backend..listen":            false,
				"backend.listen.port.":       false,
				"nested.a.b":                 true,
				"backend.auth.dangerouslyDisableDefaultAuthPolicy": true,
			} {
				if got := c.Has(key); got != want {
					t.Errorf("Has(%q) = %t, want %t", key, got, want)
				}
			}
		}},

		{"Keys", func(t reporter, newConfig func(map[string]any) core.Config) {
			c := newConfig(sampleData())
			keys := c.Keys()
			if !slices.IsSorted(keys) {
				t.Errorf("Keys() = %q, want sorted", keys)
			}
			for _, k := range []string{"backend", "null", "str"} {
				if !slices.Contains(keys, k) {
					t.Errorf("Keys() = %q, want it to contain %q", keys, k)
				}
			}
			sub := mustSub(t, c, "backend.listen")
			if got, want := sub.Keys(), []string{"host", "port"}; !slices.Equal(got, want) {
				t.Errorf("Sub(backend.listen).Keys() = %q, want %q", got, want)
			}
		}},

		{"String", func(t reporter, newConfig func(map[string]any) core.Config) {
			c := newConfig(sampleData())
			check(t, "String(str)", get(c.String("str")), "abc", "")
			check(t, "String(empty)", get(c.String("empty")), "", "")
			check(t, "String(backend.baseUrl)", get(c.String("backend.baseUrl")), "http://localhost:7007", "")
			check(t, "String(num)", get(c.String("num")), "", `config key "num": expected a string, got number 42`)
			check(t, "String(yes)", get(c.String("yes")), "", `config key "yes": expected a string, got boolean true`)
			check(t, "String(list)", get(c.String("list")), "", `config key "list": expected a string, got list`)
			check(t, "String(backend)", get(c.String("backend")), "", `config key "backend": expected a string, got object`)
			checkMissing(t, "String(backend.missing)", errOf(c.String("backend.missing")), "backend.missing")
			checkMissing(t, "String(null)", errOf(c.String("null")), "null")
			checkMissing(t, "String(null.below)", errOf(c.String("null.below")), "null.below")
			check(t, "String(str.below)", get(c.String("str.below")), "",
				`config key "str.below": expected "str" to be an object, got string "abc"`)

			v, ok, err := c.OptionalString("str")
			checkOptional(t, "OptionalString(str)", v, ok, err, "abc", true, "")
			v, ok, err = c.OptionalString("missing")
			checkOptional(t, "OptionalString(missing)", v, ok, err, "", false, "")
			v, ok, err = c.OptionalString("null")
			checkOptional(t, "OptionalString(null)", v, ok, err, "", false, "")
			v, ok, err = c.OptionalString("num")
			checkOptional(t, "OptionalString(num)", v, ok, err, "", false, `config key "num": expected a string, got number 42`)
		}},

		{"Int", func(t reporter, newConfig func(map[string]any) core.Config) {
			c := newConfig(sampleData())
			check(t, "Int(num)", get(c.Int("num")), 42, "")
			check(t, "Int(backend.listen.port)", get(c.Int("backend.listen.port")), 7007, "")
			check(t, "Int(numStr)", get(c.Int("numStr")), 8080, "")
			check(t, "Int(negStr)", get(c.Int("negStr")), -3, "")
			check(t, "Int(whole)", get(c.Int("whole")), 3, "")
			check(t, "Int(float)", get(c.Int("float")), 0, `config key "float": expected a whole number, got number 1.5`)
			check(t, "Int(str)", get(c.Int("str")), 0, `config key "str": expected a number, got string "abc"`)
			check(t, "Int(yes)", get(c.Int("yes")), 0, `config key "yes": expected a number, got boolean true`)
			check(t, "Int(empty)", get(c.Int("empty")), 0, `config key "empty": expected a number, got string ""`)
			checkMissing(t, "Int(missing)", errOf(c.Int("missing")), "missing")

			v, ok, err := c.OptionalInt("num")
			checkOptional(t, "OptionalInt(num)", v, ok, err, 42, true, "")
			v, ok, err = c.OptionalInt("missing")
			checkOptional(t, "OptionalInt(missing)", v, ok, err, 0, false, "")
			v, ok, err = c.OptionalInt("str")
			checkOptional(t, "OptionalInt(str)", v, ok, err, 0, false, `config key "str": expected a number, got string "abc"`)
		}},

		{"Bool", func(t reporter, newConfig func(map[string]any) core.Config) {
			c := newConfig(sampleData())
			check(t, "Bool(yes)", get(c.Bool("yes")), true, "")
			check(t, "Bool(trueStr)", get(c.Bool("trueStr")), true, "")
			check(t, "Bool(falseStr)", get(c.Bool("falseStr")), false, "")
			check(t, "Bool(yesStr)", get(c.Bool("yesStr")), false, `config key "yesStr": expected a boolean, got string "yes"`)
			check(t, "Bool(num)", get(c.Bool("num")), false, `config key "num": expected a boolean, got number 42`)
			checkMissing(t, "Bool(missing)", errOf(c.Bool("missing")), "missing")

			v, ok, err := c.OptionalBool("backend.auth.dangerouslyDisableDefaultAuthPolicy")
			checkOptional(t, "OptionalBool(set)", v, ok, err, true, true, "")
			v, ok, err = c.OptionalBool("backend.auth.missing")
			checkOptional(t, "OptionalBool(missing)", v, ok, err, false, false, "")
			v, ok, err = c.OptionalBool("str")
			checkOptional(t, "OptionalBool(str)", v, ok, err, false, false, `config key "str": expected a boolean, got string "abc"`)
		}},

		{"Duration", func(t reporter, newConfig func(map[string]any) core.Config) {
			c := newConfig(sampleData())
			const expected = `expected a duration such as "1h30m" or a whole number of seconds`
			check(t, "Duration(dur)", get(c.Duration("dur")), 90*time.Minute, "")
			check(t, "Duration(durMs)", get(c.Duration("durMs")), 250*time.Millisecond, "")
			check(t, "Duration(durInt)", get(c.Duration("durInt")), 30*time.Second, "")
			check(t, "Duration(durStr)", get(c.Duration("durStr")), 45*time.Second, "")
			check(t, "Duration(whole)", get(c.Duration("whole")), 3*time.Second, "")
			check(t, "Duration(str)", get(c.Duration("str")), 0, `config key "str": `+expected+`, got string "abc"`)
			check(t, "Duration(float)", get(c.Duration("float")), 0, `config key "float": `+expected+`, got number 1.5`)
			check(t, "Duration(yes)", get(c.Duration("yes")), 0, `config key "yes": `+expected+`, got boolean true`)
			checkMissing(t, "Duration(missing)", errOf(c.Duration("missing")), "missing")

			v, ok, err := c.OptionalDuration("dur")
			checkOptional(t, "OptionalDuration(dur)", v, ok, err, 90*time.Minute, true, "")
			v, ok, err = c.OptionalDuration("missing")
			checkOptional(t, "OptionalDuration(missing)", v, ok, err, 0, false, "")
			v, ok, err = c.OptionalDuration("str")
			checkOptional(t, "OptionalDuration(str)", v, ok, err, 0, false, `config key "str": `+expected+`, got string "abc"`)
		}},

		{"Strings", func(t reporter, newConfig func(map[string]any) core.Config) {
			c := newConfig(sampleData())
			got, err := c.Strings("list")
			if err != nil || !slices.Equal(got, []string{"a", "b"}) {
				t.Errorf("Strings(list) = %q, %v; want [a b], nil", got, err)
			}
			_, err = c.Strings("mixed")
			checkErr(t, "Strings(mixed)", err, `config key "mixed[1]": expected a string, got number 2`)
			_, err = c.Strings("str")
			checkErr(t, "Strings(str)", err, `config key "str": expected a list of strings, got string "abc"`)
			_, err = c.Strings("missing")
			checkMissing(t, "Strings(missing)", err, "missing")
		}},

		{"Sub", func(t reporter, newConfig func(map[string]any) core.Config) {
			c := newConfig(sampleData())
			listen := mustSub(t, c, "backend.listen")
			check(t, "Sub(backend.listen).Int(port)", get(listen.Int("port")), 7007, "")
			checkMissing(t, "Sub(backend.listen).String(missing)", errOf(listen.String("missing")), "backend.listen.missing")
			check(t, "Sub(backend.listen).String(port)", get(listen.String("port")), "",
				`config key "backend.listen.port": expected a string, got number 7007`)
			backend := mustSub(t, c, "backend")
			nested := mustSub(t, backend, "listen")
			check(t, "Sub(backend).Sub(listen).String(port)", get(nested.String("port")), "",
				`config key "backend.listen.port": expected a string, got number 7007`)
			if !backend.Has("listen.port") || backend.Has("backend") {
				t.Errorf("Sub(backend): Has(listen.port) = %t, Has(backend) = %t; want true, false", backend.Has("listen.port"), backend.Has("backend"))
			}

			_, err := c.Sub("str")
			checkErr(t, "Sub(str)", err, `config key "str": expected an object, got string "abc"`)
			_, err = c.Sub("backend.missing")
			checkMissing(t, "Sub(backend.missing)", err, "backend.missing")
			_, err = c.Sub("null")
			checkMissing(t, "Sub(null)", err, "null")

			_, ok, err := c.OptionalSub("backend.missing")
			if ok || err != nil {
				t.Errorf("OptionalSub(backend.missing) = ok %t, err %v; want false, nil", ok, err)
			}
			s, ok, err := c.OptionalSub("nested.a")
			if !ok || err != nil || s == nil {
				t.Fatalf("OptionalSub(nested.a) = %v, %t, %v; want a config, true, nil", s, ok, err)
			}
			check(t, "OptionalSub(nested.a).String(b)", get(s.String("b")), "c", "")
			_, ok, err = c.OptionalSub("list")
			if ok {
				t.Errorf("OptionalSub(list) ok = true, want false")
			}
			checkErr(t, "OptionalSub(list)", err, `config key "list": expected an object, got list`)
		}},

		{"SubList", func(t reporter, newConfig func(map[string]any) core.Config) {
			c := newConfig(sampleData())
			list, err := c.SubList("endpoints")
			if err != nil || len(list) != 2 {
				t.Fatalf("SubList(endpoints) = %d configs, %v; want 2, nil", len(list), err)
			}
			check(t, "SubList(endpoints)[0].String(target)", get(list[0].String("target")), "http://a/{{pluginId}}", "")
			plugins, err := list[0].Strings("plugins")
			if err != nil || !slices.Equal(plugins, []string{"catalog"}) {
				t.Errorf("SubList(endpoints)[0].Strings(plugins) = %q, %v; want [catalog]", plugins, err)
			}
			check(t, "SubList(endpoints)[1].String(target)", get(list[1].String("target")), "",
				`config key "endpoints[1].target": expected a string, got number 1`)
			checkMissing(t, "SubList(endpoints)[1].String(plugins)", errOf(list[1].String("plugins")), "endpoints[1].plugins")

			list, err = c.SubList("missing")
			if err != nil || list == nil || len(list) != 0 {
				t.Errorf("SubList(missing) = %v, %v; want an empty list, nil", list, err)
			}
			_, err = c.SubList("objects")
			checkErr(t, "SubList(objects)", err, `config key "objects[1]": expected an object, got string "oops"`)
			_, err = c.SubList("str")
			checkErr(t, "SubList(str)", err, `config key "str": expected a list of objects, got string "abc"`)

			backend := mustSub(t, c, "backend")
			list, err = backend.SubList("missing")
			if err != nil || len(list) != 0 {
				t.Errorf("Sub(backend).SubList(missing) = %v, %v; want an empty list", list, err)
			}
		}},

		{"Decode", func(t reporter, newConfig func(map[string]any) core.Config) {
			c := newConfig(sampleData())
			type listen struct {
				Port int    `yaml:"port"`
				Host string `yaml:"host"`
			}
			var l listen
			if err := c.Decode("backend.listen", &l); err != nil || l != (listen{Port: 7007}) {
				t.Errorf("Decode(backend.listen) = %+v, %v; want {Port:7007}", l, err)
			}
			var strict struct {
				Port int `yaml:"port"`
			}
			err := c.Decode("backend.listen", &strict)
			if err == nil || !strings.Contains(err.Error(), `config key "backend.listen.host"`) {
				t.Errorf("Decode(backend.listen) into a struct without host = %v; want an error naming config key \"backend.listen.host\"", err)
			}
			var wrong struct {
				Port bool   `yaml:"port"`
				Host string `yaml:"host"`
			}
			err = c.Decode("backend.listen", &wrong)
			if err == nil || !strings.Contains(err.Error(), `config key "backend.listen.port"`) {
				t.Errorf("Decode(backend.listen) into a bool port = %v; want an error naming config key \"backend.listen.port\"", err)
			}
			var n struct {
				Port int `yaml:"port"`
			}
			if err := mustSub(t, c, "backend").Decode("listen.missing", &n); !errors.Is(err, core.ErrConfigKeyMissing) || !strings.Contains(err.Error(), `config key "backend.listen.missing" is missing`) {
				t.Errorf("Sub(backend).Decode(listen.missing) = %v; want a missing-key error naming \"backend.listen.missing\"", err)
			}
			var all map[string]any
			if err := c.Decode("", &all); err != nil || all["str"] != "abc" {
				t.Errorf(`Decode("") = %v, %v; want the whole config`, all["str"], err)
			}
			var s []string
			if err := c.Decode("list", &s); err != nil || !slices.Equal(s, []string{"a", "b"}) {
				t.Errorf("Decode(list) = %q, %v; want [a b]", s, err)
			}
			var port struct {
				Port int `yaml:"port"`
			}
			if err := newConfig(map[string]any{"listen": map[string]any{"port": "8080"}}).Decode("listen", &port); err != nil || port.Port != 8080 {
				t.Errorf(`Decode of port "8080" into an int = %d, %v; want 8080 as with Int`, port.Port, err)
			}
		}},

		{"DataIsCopied", func(t reporter, newConfig func(map[string]any) core.Config) {
			d := sampleData()
			c := newConfig(d)
			d["str"] = "changed"
			d["backend"].(map[string]any)["listen"].(map[string]any)["port"] = 1
			d["list"].([]any)[0] = "changed"
			check(t, "String(str) after changing the input", get(c.String("str")), "abc", "")
			check(t, "Int(backend.listen.port) after changing the input", get(c.Int("backend.listen.port")), 7007, "")
			l, _ := c.Strings("list")
			if !slices.Equal(l, []string{"a", "b"}) {
				t.Errorf("Strings(list) after changing the input = %q, want [a b]", l)
			}
		}},
	}
}

type result[T any] struct {
	v   T
	err error
}

func get[T any](v T, err error) result[T] { return result[T]{v, err} }

func errOf[T any](_ T, err error) error { return err }

func check[T any](t reporter, what string, got result[T], want T, wantErr string) {
	t.Helper()
	if wantErr != "" {
		checkErr(t, what, got.err, wantErr)
		return
	}
	if got.err != nil {
		t.Errorf("%s: unexpected error: %v", what, got.err)
		return
	}
	if !reflect.DeepEqual(got.v, want) {
		t.Errorf("%s = %v, want %v", what, got.v, want)
	}
}

func checkOptional[T any](t reporter, what string, v T, ok bool, err error, want T, wantOK bool, wantErr string) {
	t.Helper()
	if wantErr != "" {
		checkErr(t, what, err, wantErr)
	} else if err != nil {
		t.Errorf("%s: unexpected error: %v", what, err)
	}
	if ok != wantOK || !reflect.DeepEqual(v, want) {
		t.Errorf("%s = %v, ok %t; want %v, ok %t", what, v, ok, want, wantOK)
	}
}

func checkErr(t reporter, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %q", what, want)
		return
	}
	if err.Error() != want {
		t.Errorf("%s: error %q, want %q", what, err.Error(), want)
	}
	if errors.Is(err, core.ErrConfigKeyMissing) {
		t.Errorf("%s: error %q wraps core.ErrConfigKeyMissing, but the key is set", what, err)
	}
}

func checkMissing(t reporter, what string, err error, key string) {
	t.Helper()
	if !errors.Is(err, core.ErrConfigKeyMissing) {
		t.Errorf("%s: error %v, want one wrapping core.ErrConfigKeyMissing", what, err)
		return
	}
	if want := `config key "` + key + `" is missing`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%s: error %q, want it to start with %q", what, err.Error(), want)
	}
}

func mustSub(t reporter, c core.Config, key string) core.Config {
	t.Helper()
	s, err := c.Sub(key)
	if err != nil {
		t.Fatalf("Sub(%q): %v", key, err)
	}
	return s
}
