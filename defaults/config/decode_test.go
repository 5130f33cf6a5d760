package config_test

import (
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/defaults/config"
)

func mustYAML(t *testing.T, doc string) *config.Config {
	t.Helper()
	c, err := config.FromYAML(doc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type endpoint struct {
	Target string `yaml:"target"`
	Ports  []int  `yaml:"ports"`
}

type discovery struct {
	Endpoints []endpoint            `yaml:"endpoints"`
	Byname    map[string]endpoint   // untagged: the key is "byname"
	Matrix    [][]int               `yaml:"matrix"`
	Timeout   time.Duration         `yaml:"timeout"`
	Limits    struct{ Max uint8 }   `yaml:"limits"`
	Extra     map[string]any        `yaml:"extra"`
	Inline    `yaml:",inline"`      // its fields are discovery's
	Skipped   string                `yaml:"-"`
	hidden    string                //nolint:unused // unexported: never decoded
	Ratio     float32               `yaml:"ratio"`
	Flags     map[string]bool       `yaml:"flags"`
	Nested    *struct{ Deep *deep } `yaml:"nested"`
}

type Inline struct {
	Region string `yaml:"region"`
}

type deep struct {
	Name string `yaml:"name"`
}

const discoveryYAML = `
discovery:
  endpoints:
    - target: http://a
      ports: [1, "2"]
    - target: http://b
  byname:
    c: {target: http://c}
  matrix: [[1, 2], [3]]
  timeout: 1m30s
  limits: {max: 255}
  extra: {n: 1, f: 1.5, s: "1", l: [1, {k: v}]}
  region: eu
  ratio: "0.5"
  flags: {on: "true", off: false}
  nested: {deep: {name: x}}
`

func TestDecodeNestedValues(t *testing.T) {
	t.Parallel()
	c := mustYAML(t, discoveryYAML)
	var d discovery
	if err := c.Decode("discovery", &d); err != nil {
		t.Fatal(err)
	}
	want := discovery{
		Endpoints: []endpoint{{Target: "http://a", Ports: []int{1, 2}}, {Target: "http://b"}},
		Byname:    map[string]endpoint{"c": {Target: "http://c"}},
		Matrix:    [][]int{{1, 2}, {3}},
		Timeout:   90 * time.Second,
		Limits:    struct{ Max uint8 }{255},
		Extra:     map[string]any{"n": 1, "f": 1.5, "s": "1", "l": []any{1, map[string]any{"k": "v"}}},
		Inline:    Inline{Region: "eu"},
		Ratio:     0.5,
		Flags:     map[string]bool{"on": true, "off": false},
		Nested:    &struct{ Deep *deep }{Deep: &deep{Name: "x"}},
	}
	if diff := cmp.Diff(want, d, cmp.AllowUnexported(discovery{})); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}
	// Values of fields of type any are copies: changing them leaves the
	// configuration as it was.
	d.Extra["l"].([]any)[1].(map[string]any)["k"] = "changed"
	var again discovery
	if err := c.Decode("discovery", &again); err != nil {
		t.Fatal(err)
	}
	if got := again.Extra["l"].([]any)[1].(map[string]any)["k"]; got != "v" {
		t.Errorf("after changing a decoded value, the config holds %v, want v", got)
	}
}

func TestDecodeKeepsWhatTheConfigDoesNotSet(t *testing.T) {
	t.Parallel()
	c := mustYAML(t, "listen: {port: 7007}\n")
	l := struct {
		Host string `yaml:"host"`
		Port int    `yaml:"port"`
	}{Host: "localhost", Port: 1}
	if err := c.Decode("listen", &l); err != nil {
		t.Fatal(err)
	}
	if l.Host != "localhost" || l.Port != 7007 {
		t.Errorf("Decode = %+v, want the default host kept and port 7007", l)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		key  string
		out  func() any
		// want is the whole error: the keys are full dotted paths.
		want string
	}{
		{
			name: "unknown key deep in an object",
			doc:  "a:\n  nested:\n    deep:\n      name: x\n      nmae: y\n",
			key:  "a",
			out:  func() any { return &struct{ Nested struct{ Deep deep } }{} },
			want: `config key "a.nested.deep.nmae": unknown key; config_test.deep has no field for "nmae"`,
		},
		{
			name: "every unknown key, sorted",
			doc:  "listen: {port: 1, prot: 2, hots: x}\n",
			key:  "listen",
			out:  func() any { return &struct{ Port int }{} },
			want: `config key "listen.hots": unknown key; struct { Port int } has no field for "hots"` + "\n" +
				`config key "listen.prot": unknown key; struct { Port int } has no field for "prot"`,
		},
		{
			name: "unknown key in a list element",
			doc:  "discovery:\n  endpoints:\n    - target: a\n    - target: b\n      port: 1\n",
			key:  "discovery",
			out:  func() any { return &discovery{} },
			want: `config key "discovery.endpoints[1].port": unknown key; config_test.endpoint has no field for "port"`,
		},
		{
			name: "keys match the tag exactly",
			doc:  "d: {Target: x}\n",
			key:  "d",
			out:  func() any { return &endpoint{} },
			want: `config key "d.Target": unknown key; config_test.endpoint has no field for "Target"`,
		},
		{
			name: "untagged fields match their lower-cased name only",
			doc:  "d: {byName: {}}\n",
			key:  "d",
			out:  func() any { return &discovery{} },
			want: `config key "d.byName": unknown key; config_test.discovery has no field for "byName"`,
		},
		{
			name: "a yaml:\"-\" field has no key",
			doc:  "d: {'-': x, skipped: y}\n",
			key:  "d",
			out:  func() any { return &discovery{} },
			want: `config key "d.-": unknown key; config_test.discovery has no field for "-"` + "\n" +
				`config key "d.skipped": unknown key; config_test.discovery has no field for "skipped"`,
		},
		{
			name: "wrong type in a list of lists",
			doc:  "d: {matrix: [[1], [2, x]]}\n",
			key:  "d",
			out:  func() any { return &discovery{} },
			want: `config key "d.matrix[1][1]": expected int, got string "x"`,
		},
		{
			name: "wrong type in a map of structs",
			doc:  "d: {byname: {c: {ports: [1, [2]]}}}\n",
			key:  "d",
			out:  func() any { return &discovery{} },
			want: `config key "d.byname.c.ports[1]": expected int, got list`,
		},
		{
			name: "wrong type in a map under the root",
			doc:  "a: 1\nb: x\n",
			key:  "",
			out:  func() any { return &map[string]int{} },
			want: `config key "b": expected int, got string "x"`,
		},
		{
			name: "errors of several fields, sorted by key",
			doc:  "d: {timeout: 90, limits: {max: 256}, ratio: x, region: [eu]}\n",
			key:  "d",
			out:  func() any { return &discovery{} },
			want: `config key "d.limits.max": expected uint8, got number 256` + "\n" +
				`config key "d.ratio": expected float32, got string "x"` + "\n" +
				`config key "d.region": expected string, got list` + "\n" +
				`config key "d.timeout": expected time.Duration, got number 90`,
		},
		{
			name: "not a duration",
			doc:  "d: {timeout: soon}\n",
			key:  "d",
			out:  func() any { return &discovery{} },
			want: `config key "d.timeout": expected a duration such as "1m30s", got string "soon"`,
		},
		{
			name: "a fraction for an integer",
			doc:  "d: {ports: [2.5]}\n",
			key:  "d",
			out:  func() any { return &endpoint{} },
			want: `config key "d.ports[0]": expected int, got number 2.5`,
		},
		{
			name: "a negative number for an unsigned integer",
			doc:  "d: {limits: {max: -1}}\n",
			key:  "d",
			out:  func() any { return &discovery{} },
			want: `config key "d.limits.max": expected uint8, got number -1`,
		},
		{
			name: "a string that is not a boolean",
			doc:  "d: {flags: {on: yes}}\n",
			key:  "d",
			out:  func() any { return &discovery{} },
			want: `config key "d.flags.on": expected bool, got string "yes"`,
		},
		{
			name: "an object for a string",
			doc:  "d: {target: {url: x}}\n",
			key:  "d",
			out:  func() any { return &endpoint{} },
			want: `config key "d.target": expected string, got object`,
		},
		{
			name: "a list for a struct",
			doc:  "d: [a]\n",
			key:  "d",
			out:  func() any { return &endpoint{} },
			want: `config key "d": expected config_test.endpoint, got list`,
		},
		{
			name: "a scalar for a list",
			doc:  "d: {endpoints: x}\n",
			key:  "d",
			out:  func() any { return &discovery{} },
			want: `config key "d.endpoints": expected []config_test.endpoint, got string "x"`,
		},
		{
			// The regression: mapstructure filled the rest of the array
			// with zeros; yaml.v3 had rejected the list.
			name: "a list shorter than an array",
			doc:  "d: {pair: [1]}\n",
			key:  "d",
			out:  func() any { return &struct{ Pair [2]int }{} },
			want: `config key "d.pair": expected [2]int, a list of 2, got a list of 1`,
		},
		{
			name: "a list longer than an array",
			doc:  "d: {pair: [1, 2, 3]}\n",
			key:  "d",
			out:  func() any { return &struct{ Pair [2]int }{} },
			want: `config key "d.pair": expected [2]int, a list of 2, got a list of 3`,
		},
		{
			name: "a pointer to a struct",
			doc:  "d: {nested: {deep: {name: [x]}}}\n",
			key:  "d",
			out:  func() any { return &discovery{} },
			want: `config key "d.nested.deep.name": expected string, got list`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustYAML(t, tt.doc)
			err := c.Decode(tt.key, tt.out())
			if err == nil {
				t.Fatalf("Decode succeeded, want %s", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Decode error:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestDecodeKeysOfASubConfig(t *testing.T) {
	t.Parallel()
	c := mustYAML(t, discoveryYAML)
	sub, err := c.Sub("discovery")
	if err != nil {
		t.Fatal(err)
	}
	var e []endpoint
	err = sub.Decode("endpoints", &e)
	if err != nil {
		t.Fatal(err)
	}
	// Every error is reported: an unknown key does not hide the errors of
	// the known keys of the same object.
	var wrong []struct{ Target int }
	err = sub.Decode("endpoints", &wrong)
	want := `config key "discovery.endpoints[0].ports": unknown key; struct { Target int } has no field for "ports"` + "\n" +
		`config key "discovery.endpoints[0].target": expected int, got string "http://a"` + "\n" +
		`config key "discovery.endpoints[1].target": expected int, got string "http://b"`
	if err == nil || err.Error() != want {
		t.Errorf("Decode error:\n%v\nwant:\n%s", err, want)
	}
}

func TestDecodeLeavesOutUnchangedOnError(t *testing.T) {
	t.Parallel()
	c := mustYAML(t, "d: {target: x, ports: [1, y]}\n")
	e := endpoint{Target: "before"}
	if err := c.Decode("d", &e); err == nil {
		t.Fatal("Decode succeeded, want an error for ports[1]")
	}
	if e.Target != "before" || e.Ports != nil {
		t.Errorf("after a failed Decode, out = %+v, want it unchanged", e)
	}
}

// The regression: Decode through mapstructure rejected every field whose
// type implements encoding.TextUnmarshaler, which yaml.v3 had decoded.
func TestDecodeTextUnmarshalers(t *testing.T) {
	t.Parallel()
	c := mustYAML(t, `
s:
  level: warn
  at: "2024-01-02T03:04:05Z"
  addr: 10.0.0.1
  addrs: [10.0.0.2, "::1"]
  ip: 192.168.1.1
  byname: {a: debug}
  optional: error
`)
	type settings struct {
		Level    slog.Level
		At       time.Time
		Addr     netip.Addr
		Addrs    []netip.Addr
		IP       net.IP `yaml:"ip"`
		Byname   map[string]slog.Level
		Optional *slog.Level
	}
	var got settings
	if err := c.Decode("s", &got); err != nil {
		t.Fatal(err)
	}
	errLevel := slog.LevelError
	want := settings{
		Level:    slog.LevelWarn,
		At:       time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Addr:     netip.MustParseAddr("10.0.0.1"),
		Addrs:    []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("::1")},
		IP:       net.ParseIP("192.168.1.1"),
		Byname:   map[string]slog.Level{"a": slog.LevelDebug},
		Optional: &errLevel,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}

	// The error of UnmarshalText names the key.
	bad := mustYAML(t, "s: {level: loud, addr: 1.2.3}\n")
	err := bad.Decode("s", &settings{})
	for _, want := range []string{
		`config key "s.addr": expected netip.Addr, got string "1.2.3": `,
		`config key "s.level": expected slog.Level, got string "loud": `,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode error:\n%v\nwant it to contain:\n%s", err, want)
		}
	}
}

// An ",inline" map collected the remaining keys with yaml.v3; mapstructure
// cannot, and reported a malformed key ("k..Extra: unsupported type for
// squash"). Decode refuses such a target with an error naming the field.
func TestDecodeRefusesAnInlineMap(t *testing.T) {
	t.Parallel()
	type withExtra struct {
		Name  string         `yaml:"name"`
		Extra map[string]any `yaml:",inline"`
	}
	type outer struct {
		Items []withExtra `yaml:"items"`
	}
	c := mustYAML(t, "k:\n  items:\n    - name: a\n      other: 1\n")
	var out outer
	err := c.Decode("k", &out)
	if err == nil {
		t.Fatalf("Decode into an inline map = nil error, out %+v", out)
	}
	for _, want := range []string{`config key "k"`, "withExtra.Extra", `tagged ",inline" but is not a struct`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if out.Items != nil {
		t.Errorf("out changed on failure: %+v", out)
	}
}
