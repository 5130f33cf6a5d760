package testbackend

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/mockservices"
)

func TestSampleRequest(t *testing.T) {
	tests := []struct {
		pattern          string
		method, path     string
		wantErrSubstring string
	}{
		{pattern: "GET /todos", method: "GET", path: "/todos"},
		{pattern: "/todos", method: "GET", path: "/todos"},
		{pattern: "DELETE /todos/{id}", method: "DELETE", path: "/todos/1"},
		{pattern: "PATCH /a/{x}/b/{y}", method: "PATCH", path: "/a/1/b/1"},
		{pattern: "GET /files/{path...}", method: "GET", path: "/files/1"},
		{pattern: "GET /{$}", method: "GET", path: "/"},
		{pattern: "POST example.com/hooks", method: "POST", path: "/hooks"},
		{pattern: "  PUT   /spaced ", method: "PUT", path: "/spaced"},
		{pattern: "GET relative", wantErrSubstring: "does not start with /"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			method, path, err := sampleRequest(tt.pattern)
			if tt.wantErrSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstring) {
					t.Fatalf("sampleRequest(%q) error = %v, want one containing %q", tt.pattern, err, tt.wantErrSubstring)
				}
				return
			}
			if err != nil || method != tt.method || path != tt.path {
				t.Fatalf("sampleRequest(%q) = %q, %q, %v; want %q, %q, nil", tt.pattern, method, path, err, tt.method, tt.path)
			}
		})
	}
}

func TestSetPath(t *testing.T) {
	tests := []struct {
		name    string
		sets    []map[string]any
		want    map[string]any
		wantErr string
	}{
		{
			name: "dotted keys nest",
			sets: []map[string]any{{"backend.listen.port": 0, "backend.listen.host": "x"}},
			want: map[string]any{"backend": map[string]any{"listen": map[string]any{"port": 0, "host": "x"}}},
		},
		{
			name: "maps merge, later wins",
			sets: []map[string]any{
				{"backend": map[string]any{"a": 1, "b": map[string]any{"c": 2}}},
				{"backend.b.d": 3, "backend.a": 4},
			},
			want: map[string]any{"backend": map[string]any{"a": 4, "b": map[string]any{"c": 2, "d": 3}}},
		},
		{
			name: "lists replace",
			sets: []map[string]any{{"x": []any{1, 2}}, {"x": []any{3}}},
			want: map[string]any{"x": []any{3}},
		},
		{
			name:    "object over scalar",
			sets:    []map[string]any{{"a": 1}, {"a.b": 2}},
			wantErr: `"a" is already set to a value that is not an object`,
		},
		{
			name:    "empty segment",
			sets:    []map[string]any{{"a..b": 1}},
			wantErr: "empty segment",
		},
		{
			name:    "trailing dot",
			sets:    []map[string]any{{"a.": 1}},
			wantErr: "empty segment",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			for _, s := range tt.sets {
				opts = append(opts, WithConfig(s))
			}
			s, err := newSettings(opts, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, s.config); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTargetPlugin(t *testing.T) {
	for path, want := range map[string]string{
		"/api/todo/todos":   "todo",
		"/api/todo":         "todo",
		"/api/a-b/x/y":      "a-b",
		"/.greenroom/x":     "",
		"/apis/todo/todos":  "",
		"http://h/api/x/y/": "x",
	} {
		req, err := http.NewRequest("GET", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := targetPlugin(req); got != want {
			t.Errorf("targetPlugin(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestRealAuthInvalidate(t *testing.T) {
	ra := &realAuth{realAuthKeys: &realAuthKeys{}}
	tests := []struct{ in, want string }{
		{"aaa.bbb.AAAA", "aaa.bbb._wAA"},
		{"static-token", "static-token-invalid"},
		{"aaa.bbb.", "aaa.bbb.-invalid"},
		{"aaa.bbb.!!", "aaa.bbb.!!-invalid"},
	}
	for _, tt := range tests {
		if got := ra.invalidate(tt.in); got != tt.want {
			t.Errorf("invalidate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestDefaults checks that a test backend installs the factories of
// mockservices.DefaultFactories in their order (its own config and
// discovery in place of theirs), and the production auth after them with
// WithRealAuth: sharedFakes must follow DefaultFactories.
func TestDefaults(t *testing.T) {
	ids := func(fs []*backend.ServiceFactory) []string {
		var ids []string
		for _, f := range fs {
			ids = append(ids, f.Ref().ID())
		}
		return ids
	}
	mock := ids(mockservices.DefaultFactories(t))
	tests := []struct {
		name     string
		realAuth bool
		tb       *Backend
		want     []string
	}{
		{name: "test backend", tb: &Backend{}, want: mock},
		{name: "factory tester", want: mock},
		{name: "real auth", realAuth: true, tb: &Backend{}, want: append(slices.Clone(mock), "core.auth", "core.httpAuth", "core.userInfo")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &settings{config: map[string]any{}, realAuth: tt.realAuth}
			fs, err := s.defaults(t, tt.tb)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(fs)); diff != "" {
				t.Errorf("default factories (-want +got):\n%s", diff)
			}
		})
	}
}
