package core_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
)

func TestCredentials(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name                string
		creds               core.Credentials
		typ                 core.PrincipalType
		user, service, none bool
		str, token          string
		wantExpiry          time.Time
	}{
		{"zero value is none", core.Credentials{}, core.PrincipalNone, false, false, true, "credentials{none}", "", time.Time{}},
		{"empty type is none", core.NewCredentials(core.Principal{}, time.Time{}, ""), core.PrincipalNone, false, false, true, "credentials{none}", "", time.Time{}},
		{"user", core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}, exp, "tok"),
			core.PrincipalUser, true, false, false, "credentials{user user:default/alice}", "tok", exp},
		{"service", core.NewCredentials(core.Principal{Type: core.PrincipalService, Subject: "plugin:catalog"}, time.Time{}, "svc"),
			core.PrincipalService, false, true, false, "credentials{service plugin:catalog}", "svc", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.creds
			if c.Type() != tt.typ || c.IsUser() != tt.user || c.IsService() != tt.service || c.IsNone() != tt.none {
				t.Errorf("Type()=%q IsUser=%v IsService=%v IsNone=%v, want %q %v %v %v",
					c.Type(), c.IsUser(), c.IsService(), c.IsNone(), tt.typ, tt.user, tt.service, tt.none)
			}
			if got := c.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if strings.Contains(c.String(), "tok") || strings.Contains(c.String(), "svc") {
				t.Errorf("String() = %q reveals the token", c.String())
			}
			if got := c.Token(); got != tt.token {
				t.Errorf("Token() = %q, want %q", got, tt.token)
			}
			if !c.ExpiresAt.Equal(tt.wantExpiry) {
				t.Errorf("ExpiresAt = %v, want %v", c.ExpiresAt, tt.wantExpiry)
			}
		})
	}
}

func TestParseEntityRef(t *testing.T) {
	tests := []struct {
		in      string
		want    core.EntityRef
		wantErr string
	}{
		{in: "user:default/alice", want: core.EntityRef{Kind: "user", Namespace: "default", Name: "alice"}},
		{in: "User:default/alice", want: core.EntityRef{Kind: "user", Namespace: "default", Name: "alice"}},
		{in: "group:team-a/platform.eng", want: core.EntityRef{Kind: "group", Namespace: "team-a", Name: "platform.eng"}},
		{in: "user:default/jane.doe@example.com", want: core.EntityRef{Kind: "user", Namespace: "default", Name: "jane.doe@example.com"}},
		{in: "alice", wantErr: `invalid entity reference "alice", expected <kind>:<namespace>/<name>`},
		{in: "user:alice", wantErr: "invalid entity reference"},
		{in: "user:/alice", wantErr: "invalid entity reference"},
		{in: ":default/alice", wantErr: "invalid entity reference"},
		{in: "user:default/", wantErr: "invalid entity reference"},
		{in: "user:default/a/b", wantErr: "invalid entity reference"},
		{in: "", wantErr: "invalid entity reference"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := core.ParseEntityRef(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseEntityRef(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEntityRef(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseEntityRef(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.String() != strings.Replace(tt.in, "User:", "user:", 1) {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

// refOfLength returns a valid user entity ref of n characters.
func refOfLength(n int) string {
	const prefix = "user:default/"
	return prefix + strings.Repeat("a", n-len(prefix))
}

func TestEntityRefMaxLength(t *testing.T) {
	t.Parallel()
	atMax, overMax := refOfLength(core.MaxEntityRefLength), refOfLength(core.MaxEntityRefLength+1)
	for name, parse := range map[string]func(string) (core.EntityRef, error){
		"ParseEntityRef":     core.ParseEntityRef,
		"ParseUserEntityRef": core.ParseUserEntityRef,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if r, err := parse(atMax); err != nil || r.String() != atMax {
				t.Errorf("%s(ref of %d characters) = %v, %v; want it accepted", name, len(atMax), r, err)
			}
			_, err := parse(overMax)
			want := fmt.Sprintf("it is %d characters long, more than the maximum of %d", len(overMax), core.MaxEntityRefLength)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s(ref of %d characters) error = %v, want it to contain %q", name, len(overMax), err, want)
			}
			// The message quotes only the start of the ref.
			if strings.Contains(err.Error(), overMax) || !strings.Contains(err.Error(), `"user:default/aaa`) {
				t.Errorf("error %q should quote the start of the ref, not all of it", err)
			}
		})
	}
}

func TestParseUserEntityRef(t *testing.T) {
	if r, err := core.ParseUserEntityRef("user:default/alice"); err != nil || r.Name != "alice" {
		t.Fatalf("ParseUserEntityRef(user:default/alice) = %+v, %v", r, err)
	}
	for in, want := range map[string]string{
		"group:default/team": `kind is "group", expected "user"`,
		"alice":              `invalid user entity reference "alice", expected user:<namespace>/<name>`,
	} {
		if _, err := core.ParseUserEntityRef(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseUserEntityRef(%q) error = %v, want it to contain %q", in, err, want)
		}
	}
}

func TestHealthStatusOK(t *testing.T) {
	if !(core.HealthStatus{Status: "ok"}).OK() || (core.HealthStatus{Status: "error"}).OK() {
		t.Error("HealthStatus.OK() is wrong")
	}
}

// FuzzParseEntityRefFollowsTheGrammar checks ParseEntityRef, which reads
// refs by hand, against the grammar as a regular expression; go test runs
// the seeds, go test -fuzz more.
func FuzzParseEntityRefFollowsTheGrammar(f *testing.F) {
	grammar := regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9_-]*):([a-zA-Z0-9][a-zA-Z0-9._-]*)/([a-zA-Z0-9][a-zA-Z0-9._@-]*)$`)
	for _, s := range []string{
		"user:default/alice", "User:Default/Alice", "group:default/team-a", "component:ns.1/my_thing@v2",
		"", ":", "/", ":/", "user:", "user:/", "user:default/", ":default/alice", "user:/alice",
		"1user:default/alice", "user:.default/alice", "user:default/.alice", "user:default/a/b",
		"user:de:fault/alice", "user:default/al:ice", "user:default/alice\n", " user:default/alice",
		"us er:default/alice", "user:default/ali ce", "user_x-y:a.b_c-d/e.f_g-h@i", "user:default/é",
		"user:default/alice/", "user::default/alice", "u:d/a", "U:D/A", "user:-x/alice", "user:default/@a",
		refOfLength(core.MaxEntityRefLength), refOfLength(core.MaxEntityRefLength + 1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := core.ParseEntityRef(s)
		m := grammar.FindStringSubmatch(s)
		if len(s) > core.MaxEntityRefLength {
			m = nil // longer refs are refused whatever their grammar
		}
		switch {
		case m == nil && err == nil:
			t.Fatalf("ParseEntityRef(%q) = %+v, want an error: the grammar does not match", s, got)
		case m != nil && err != nil:
			t.Fatalf("ParseEntityRef(%q) error = %v; the grammar matches", s, err)
		case m != nil && (got.Kind != strings.ToLower(m[1]) || got.Namespace != m[2] || got.Name != m[3]):
			t.Fatalf("ParseEntityRef(%q) = %+v, want kind %q, namespace %q, name %q", s, got, strings.ToLower(m[1]), m[2], m[3])
		}
	})
}
