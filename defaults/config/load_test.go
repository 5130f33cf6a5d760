package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
)

// writeFiles writes each document to its own file and returns the paths,
// in order.
func writeFiles(t *testing.T, docs ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for i, d := range docs {
		f := filepath.Join(dir, "config-"+string(rune('a'+i))+".yaml")
		require.NoError(t, os.WriteFile(f, []byte(d), 0o600))
		files = append(files, f)
	}
	return files
}

// dump decodes the whole config into a map, for comparisons.
func dump(t *testing.T, c core.Config) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, c.Decode("", &m))
	return m
}

func TestLoadMerge(t *testing.T) {
	tests := []struct {
		name string
		docs []string
		want map[string]any
	}{
		{
			name: "later file overrides scalars and merges objects deeply",
			docs: []string{
				"backend:\n  listen:\n    port: 7007\n    host: 0.0.0.0\n  baseUrl: http://a\n",
				"backend:\n  listen:\n    port: 8080\n",
			},
			want: map[string]any{"backend": map[string]any{
				"listen":  map[string]any{"port": 8080, "host": "0.0.0.0"},
				"baseUrl": "http://a",
			}},
		},
		{
			name: "lists are replaced, not appended",
			docs: []string{
				"discovery:\n  endpoints:\n    - target: a\n      plugins: [x]\n    - target: b\n      plugins: [y]\n",
				"discovery:\n  endpoints:\n    - target: c\n      plugins: [z]\n",
			},
			want: map[string]any{"discovery": map[string]any{"endpoints": []any{
				map[string]any{"target": "c", "plugins": []any{"z"}},
			}}},
		},
		{
			name: "null masks an earlier value",
			docs: []string{"a:\n  b: 1\n  c: 2\n", "a:\n  b: null\n"},
			want: map[string]any{"a": map[string]any{"b": nil, "c": 2}},
		},
		{
			name: "an object replaces a scalar and a scalar an object",
			docs: []string{"a: 1\nb:\n  c: 2\n", "a:\n  x: 1\nb: 3\n"},
			want: map[string]any{"a": map[string]any{"x": 1}, "b": 3},
		},
		{
			name: "empty files are empty objects",
			docs: []string{"", "# only a comment\n", "a: 1\n", ""},
			want: map[string]any{"a": 1},
		},
		{
			name: "anchors and merge keys",
			docs: []string{"base: &b\n  x: 1\n  y: 2\nderived:\n  <<: *b\n  y: 3\n"},
			want: map[string]any{"base": map[string]any{"x": 1, "y": 2}, "derived": map[string]any{"x": 1, "y": 3}},
		},
		{
			name: "timestamps stay as written",
			docs: []string{"date: 2024-01-01\n"},
			want: map[string]any{"date": "2024-01-01"},
		},
		{
			name: "non-string keys become strings",
			docs: []string{"codes:\n  404: not found\n  true: yes\n"},
			want: map[string]any{"codes": map[string]any{"404": "not found", "true": "yes"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(writeFiles(t, tt.docs...), nil)
			require.NoError(t, err)
			if diff := cmp.Diff(tt.want, dump(t, c)); diff != "" {
				t.Errorf("merged config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"top level list", "- a\n- b\n", "the top level must be an object (a YAML mapping), got list"},
		{"top level scalar", "hello\n", `the top level must be an object (a YAML mapping), got string "hello"`},
		{"syntax error", "a: [1, 2\n", "yaml: line 1: did not find expected ',' or ']'"},
		{"two documents", "a: 1\n---\nb: 2\n", "line 2: a config file holds one YAML document, found a second one"},
		{"duplicate key", "a: 1\na: 2\n", `mapping key "a" already defined at line 1`},
		{"key with a dot", "backend:\n  listen.port: 1\n", `config key "listen.port" under "backend" contains ".", which separates keys; rename it`},
		{"empty key", "backend:\n  \"\": 1\n", `config key under "backend" is empty; keys must be non-empty names`},
		{"missing variable", "backend:\n  baseUrl: ${BASE_URL}\n", `config key "backend.baseUrl": environment variable "BASE_URL" is not set; set it, or write $${BASE_URL} for the literal text`},
		{"missing variable in a list", "l:\n  - x\n  - a${NOPE}\n", `config key "l[1]": environment variable "NOPE" is not set`},
		{"invalid variable name", "a:\n  b: ${1X}\n", `config key "a.b": invalid environment variable reference "${1X}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := writeFiles(t, tt.doc)
			_, err := config.Load(files, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), `config file "`+files[0]+`": `)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}

	t.Run("missing file", func(t *testing.T) {
		_, err := config.Load([]string{filepath.Join(t.TempDir(), "nope.yaml")}, nil)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.Contains(t, err.Error(), "nope.yaml")
	})
}

func TestLoadSubstitution(t *testing.T) {
	env := []string{"HOST=db.internal", "PORT=5432", "EMPTY=", "PASS=p$ss}word", "NOT_A_PAIR"}
	tests := []struct {
		value string
		want  string
	}{
		{"${HOST}", "db.internal"},
		{"postgres://${HOST}:${PORT}/x", "postgres://db.internal:5432/x"},
		{"${EMPTY}", ""},
		{"[${EMPTY}]", "[]"},
		{"$${HOST}", "${HOST}"},
		{"a$${HOST}b${PORT}", "a${HOST}b5432"},
		{"${PASS}", "p$ss}word"},
		{"price: $5", "price: $5"},
		{"$HOST", "$HOST"},
		{"${unterminated", "${unterminated"},
		{"$$", "$$"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			files := writeFiles(t, "k: '"+tt.value+"'\nlist: ['"+tt.value+"']\nobj:\n  - x: '"+tt.value+"'\n")
			c, err := config.Load(files, env)
			require.NoError(t, err)
			got, err := c.String("k")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			l, err := c.Strings("list")
			require.NoError(t, err)
			assert.Equal(t, []string{tt.want}, l)
			objs, err := c.SubList("obj")
			require.NoError(t, err)
			got, err = objs[0].String("x")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	t.Run("substituted numbers work with Int", func(t *testing.T) {
		c, err := config.Load(writeFiles(t, "backend:\n  listen:\n    port: ${PORT}\n"), env)
		require.NoError(t, err)
		port, err := c.Int("backend.listen.port")
		require.NoError(t, err)
		assert.Equal(t, 5432, port)
	})

	t.Run("a later file does not excuse a missing variable in an earlier one", func(t *testing.T) {
		_, err := config.Load(writeFiles(t, "a: ${MISSING}\n", "a: fine\n"), env)
		assert.ErrorContains(t, err, `config key "a": environment variable "MISSING" is not set`)
	})

	t.Run("keys are not substituted", func(t *testing.T) {
		c, err := config.Load(writeFiles(t, "${HOST}: 1\n"), env)
		require.NoError(t, err)
		assert.Equal(t, []string{"${HOST}"}, c.Keys())
	})
}

func TestLoadEnvOverrides(t *testing.T) {
	base := "backend:\n  listen:\n    port: 7007\n    host: localhost\n  baseUrl: http://localhost:7007\n"
	tests := []struct {
		name string
		env  []string
		want map[string]any
	}{
		{
			name: "number",
			env:  []string{"GREENROOM_CONFIG_backend_listen_port=8080"},
			want: map[string]any{"port": 8080, "host": "localhost"},
		},
		{
			name: "camelCase key keeps its case",
			env:  []string{"GREENROOM_CONFIG_backend_auth_dangerouslyDisableDefaultAuthPolicy=true"},
			want: map[string]any{"port": 7007, "host": "localhost"},
		},
		{
			name: "quoted number stays a string",
			env:  []string{`GREENROOM_CONFIG_backend_listen_port="8080"`},
			want: map[string]any{"port": "8080", "host": "localhost"},
		},
		{
			name: "single-quoted",
			env:  []string{`GREENROOM_CONFIG_backend_listen_host='0.0.0.0'`},
			want: map[string]any{"port": 7007, "host": "0.0.0.0"},
		},
		{
			name: "JSON object merges",
			env:  []string{`GREENROOM_CONFIG_backend_listen={"host":"::","extra":[1,2]}`},
			want: map[string]any{"port": 7007, "host": "::", "extra": []any{1, 2}},
		},
		{
			name: "deeper variable wins over an object variable",
			env:  []string{"GREENROOM_CONFIG_backend_listen_port=9", `GREENROOM_CONFIG_backend_listen={"port":1}`},
			want: map[string]any{"port": 9, "host": "localhost"},
		},
		{
			name: "null unsets",
			env:  []string{"GREENROOM_CONFIG_backend_listen_host=null"},
			want: map[string]any{"port": 7007, "host": nil},
		},
		{
			name: "empty is an empty string",
			env:  []string{"GREENROOM_CONFIG_backend_listen_host="},
			want: map[string]any{"port": 7007, "host": ""},
		},
		{
			name: "text with a hash is not a comment",
			env:  []string{"GREENROOM_CONFIG_backend_listen_host=abc #1"},
			want: map[string]any{"port": 7007, "host": "abc #1"},
		},
		{
			name: "text that is YAML but not a scalar stays text",
			env:  []string{"GREENROOM_CONFIG_backend_listen_host=a: b"},
			want: map[string]any{"port": 7007, "host": "a: b"},
		},
		{
			name: "timestamps stay text",
			env:  []string{"GREENROOM_CONFIG_backend_listen_host=2024-01-01"},
			want: map[string]any{"port": 7007, "host": "2024-01-01"},
		},
		{
			name: "other variables are ignored",
			env:  []string{"GREENROOM_CONFIG=1", "OTHER_backend_listen_port=3", "PATH=/bin"},
			want: map[string]any{"port": 7007, "host": "localhost"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(writeFiles(t, base), tt.env)
			require.NoError(t, err)
			var got map[string]any
			require.NoError(t, c.Decode("backend.listen", &got))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("backend.listen (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("camelCase override is a boolean", func(t *testing.T) {
		c, err := config.Load(nil, []string{"GREENROOM_CONFIG_backend_auth_dangerouslyDisableDefaultAuthPolicy=true"})
		require.NoError(t, err)
		v, err := c.Bool("backend.auth.dangerouslyDisableDefaultAuthPolicy")
		require.NoError(t, err)
		assert.True(t, v)
		assert.False(t, c.Has("backend.auth.dangerouslydisabledefaultauthpolicy"))
	})

	t.Run("overrides are not substituted", func(t *testing.T) {
		c, err := config.Load(nil, []string{"GREENROOM_CONFIG_a=${X}"})
		require.NoError(t, err)
		v, err := c.String("a")
		require.NoError(t, err)
		assert.Equal(t, "${X}", v)
	})

	errTests := []struct {
		name, env, wantErr string
	}{
		{"no path", "GREENROOM_CONFIG_=2", `environment variable GREENROOM_CONFIG_: "" is not a config path`},
		{"empty segment", "GREENROOM_CONFIG_backend__port=1", `environment variable GREENROOM_CONFIG_backend__port: "backend__port" is not a config path`},
		{"dot in name", "GREENROOM_CONFIG_backend.port=1", `environment variable GREENROOM_CONFIG_backend.port: "backend.port" is not a config path`},
		{"bad JSON", "GREENROOM_CONFIG_a={nope", `environment variable GREENROOM_CONFIG_a: the value starts with "{", so it is read as JSON, but it is not valid JSON`},
		{"key with a dot in JSON", `GREENROOM_CONFIG_a={"b.c":1}`, `environment variable GREENROOM_CONFIG_a: config key "b.c" under "a" contains "."`},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(nil, []string{tt.env})
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestFromMap(t *testing.T) {
	type named string
	port := 7007
	c, err := config.FromMap(map[string]any{
		"int8":    int8(-8),
		"uint":    uint(8),
		"uint64":  uint64(1 << 63),
		"float32": float32(1.5),
		"named":   named("n"),
		"ptr":     &port,
		"nilPtr":  (*int)(nil),
		"strings": []string{"a", "b"},
		"array":   [2]int{1, 2},
		"nilList": []string(nil),
		"map":     map[string]string{"k": "v"},
		"intKeys": map[int]string{1: "one"},
		"nilMap":  map[string]int(nil),
		"bytes":   []byte("raw"),
	})
	require.NoError(t, err)
	want := map[string]any{
		"int8": -8, "uint": 8, "uint64": float64(1 << 63), "float32": 1.5, "named": "n", "ptr": 7007,
		"nilPtr": nil, "strings": []any{"a", "b"}, "array": []any{1, 2}, "nilList": nil,
		"map": map[string]any{"k": "v"}, "intKeys": map[string]any{"1": "one"}, "nilMap": nil, "bytes": "raw",
	}
	if diff := cmp.Diff(want, dump(t, c)); diff != "" {
		t.Errorf("FromMap (-want +got):\n%s", diff)
	}

	errTests := []struct {
		name    string
		data    map[string]any
		wantErr string
	}{
		{"channel", map[string]any{"a": map[string]any{"b": make(chan int)}}, `config.FromMap: config key "a.b": unsupported value of type chan int`},
		{"struct", map[string]any{"a": []any{struct{}{}}}, `config key "a[0]": unsupported value of type struct {}`},
		{"dot key", map[string]any{"a": map[string]int{"b.c": 1}}, `config key "b.c" under "a" contains "."`},
		{"empty key", map[string]any{"": 1}, `config key under "" is empty`},
		{"struct key", map[string]any{"a": map[struct{}]int{{}: 1}}, `config key under "a": keys must be strings, got struct {}`},
		{"duplicate key after conversion", map[string]any{"a": map[any]int{1: 1, "1": 2}}, `config key "a.1" is given twice`},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.FromMap(tt.data)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestFromYAMLErrors(t *testing.T) {
	_, err := config.FromYAML("- a\n")
	assert.EqualError(t, err, "config: the top level must be an object (a YAML mapping), got list")
	c, err := config.FromYAML("")
	require.NoError(t, err)
	assert.Empty(t, c.Keys())
	c, err = config.FromYAML("a: ${NOT_SUBSTITUTED}\n")
	require.NoError(t, err)
	v, err := c.String("a")
	require.NoError(t, err)
	assert.Equal(t, "${NOT_SUBSTITUTED}", v)
}

func TestGetterEdgeCases(t *testing.T) {
	c, err := config.FromYAML(`
big: 9223372036854775807
huge: 1e300
negDur: -5
durOverflow: 9223372036854775807
nan: .nan
inf: .inf
long: "` + strings.Repeat("x", 100) + `"
`)
	require.NoError(t, err)

	_, err = c.Int("huge")
	assert.EqualError(t, err, `config key "huge": expected a whole number, got number 1e+300`)
	d, err := c.Duration("negDur")
	require.NoError(t, err)
	assert.Equal(t, -5*time.Second, d)
	_, err = c.Duration("durOverflow")
	assert.ErrorContains(t, err, `config key "durOverflow": expected a duration`)
	_, err = c.Duration("huge")
	assert.ErrorContains(t, err, `config key "huge": expected a duration`)
	_, err = c.Int("nan")
	assert.EqualError(t, err, `config key "nan": expected a whole number, got number NaN`)
	_, err = c.Int("long")
	assert.EqualError(t, err, `config key "long": expected a number, got string "`+strings.Repeat("x", 61)+`..."`)
	n, err := c.Int("big")
	require.NoError(t, err)
	assert.Equal(t, 9223372036854775807, n)

	_, err = c.String("a..b")
	assert.EqualError(t, err, `invalid config key "a..b": keys are dot-separated names, such as "backend.listen.port"`)
	assert.False(t, errors.Is(err, core.ErrConfigKeyMissing))
	_, _, err = c.OptionalString(".a")
	assert.ErrorContains(t, err, `invalid config key ".a"`)
	_, err = c.SubList("a..b")
	assert.ErrorContains(t, err, `invalid config key "a..b"`)
	sub, err := c.Sub("")
	require.NoError(t, err)
	assert.Same(t, c, sub)
}

func TestDecode(t *testing.T) {
	c, err := config.FromYAML(`
backend:
  listen:
    port: 7007
    prot: 1
  auth:
    externalAccess:
      - type: static
        options:
          token: abcdefgh
          subject: ci
      - type: static
        options:
          token: 12345678
          subject: [ci]
  timeout: 1m30s
  nothing: null
  text: "null"
`)
	require.NoError(t, err)

	type listen struct {
		Port int `yaml:"port"`
	}
	var l listen
	err = c.Decode("backend.listen", &l)
	assert.EqualError(t, err, `config key "backend.listen.prot": unknown key; config_test.listen has no field for "prot"`)

	type access struct {
		Type    string `yaml:"type"`
		Options struct {
			Token   string `yaml:"token"`
			Subject string `yaml:"subject"`
		} `yaml:"options"`
	}
	var a []access
	err = c.Decode("backend.auth.externalAccess", &a)
	assert.EqualError(t, err, `config key "backend.auth.externalAccess[1].options.subject": expected string, got list`)

	var token struct {
		Token   string   `yaml:"token"`
		Subject []string `yaml:"subject"`
	}
	sub, err := c.SubList("backend.auth.externalAccess")
	require.NoError(t, err)
	opts, err := sub[1].Sub("options")
	require.NoError(t, err)
	require.NoError(t, opts.Decode("", &token))
	assert.Equal(t, "12345678", token.Token, "a number decodes into a string field as written")

	var bad struct {
		Port bool `yaml:"port"`
		Prot int  `yaml:"prot"`
	}
	err = c.Decode("backend.listen", &bad)
	assert.EqualError(t, err, "config key \"backend.listen.port\": expected bool, got number 7007")

	var rest struct {
		Timeout time.Duration `yaml:"timeout"`
		Nothing *string       `yaml:"nothing"`
		Text    string        `yaml:"text"`
		Listen  any           `yaml:"listen"`
		Auth    any           `yaml:"auth"`
	}
	require.NoError(t, c.Decode("backend", &rest))
	assert.Equal(t, 90*time.Second, rest.Timeout)
	assert.Nil(t, rest.Nothing)
	assert.Equal(t, "null", rest.Text, `the string "null" stays a string`)

	var m map[string]int
	err = c.Decode("backend.auth", &m)
	assert.EqualError(t, err, `config key "backend.auth.externalAccess": expected int, got list`)

	assert.EqualError(t, c.Decode("backend", rest), `config key "backend": Decode needs a non-nil pointer, got struct { Timeout time.Duration "yaml:\"timeout\""; Nothing *string "yaml:\"nothing\""; Text string "yaml:\"text\""; Listen interface {} "yaml:\"listen\""; Auth interface {} "yaml:\"auth\"" }`)
	var nilPtr *listen
	assert.ErrorContains(t, c.Decode("backend", nilPtr), "Decode needs a non-nil pointer")
	err = c.Decode("backend.nothing", &l)
	assert.ErrorIs(t, err, core.ErrConfigKeyMissing)
	assert.EqualError(t, err, `config key "backend.nothing" is missing (it is set to null)`)

	var f struct {
		F float64 `yaml:"f"`
		B bool    `yaml:"b"`
		S string  `yaml:"s"`
		E string  `yaml:"e"`
	}
	c2, err := config.FromMap(map[string]any{"f": 2.5, "b": "true", "s": "a: b", "e": ""})
	require.NoError(t, err)
	require.NoError(t, c2.Decode("", &f))
	assert.Equal(t, 2.5, f.F)
	assert.True(t, f.B)
	assert.Equal(t, "a: b", f.S)
	assert.Equal(t, "", f.E)
}
