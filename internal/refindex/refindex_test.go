package refindex

import (
	"reflect"
	"strings"
	"testing"
)

type stringRef string

func (r stringRef) ID() string     { return string(r) }
func (r stringRef) String() string { return "serviceRef{" + string(r) + "}" }

type clock interface{ Now() int64 }

func desc(id string, t reflect.Type, root bool) *Desc {
	return &Desc{ID: id, Type: t, Elem: t, Root: root, Ref: stringRef(id)}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	var x Index
	typ := reflect.TypeFor[clock]()
	a := desc("test.a", typ, false)
	if got, err := x.Register(a); err != nil || got != a {
		t.Fatalf("Register(a) = %v, %v; want a, nil", got, err)
	}
	if got, err := x.Register(desc("test.a", typ, false)); err != nil || got != a {
		t.Fatalf("Register(a again) = %v, %v; want the first descriptor", got, err)
	}
	b := desc("test.b", typ, true)
	if _, err := x.Register(b); err != nil {
		t.Fatal(err)
	}
	if got := x.ByType(typ); len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("ByType = %v, want [a b] (ambiguous type)", got)
	}
	if got := x.ByID("test.b"); got != b {
		t.Errorf("ByID(test.b) = %v, want b", got)
	}
	if got := x.ByID("test.none"); got != nil {
		t.Errorf("ByID(test.none) = %v, want nil", got)
	}
	if got := x.All(); len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("All = %v, want [a b]", got)
	}
}

func TestRegisterConflicts(t *testing.T) {
	t.Parallel()
	var x Index
	typ := reflect.TypeFor[clock]()
	if _, err := x.Register(desc("test.a", typ, false)); err != nil {
		t.Fatal(err)
	}
	ep := desc("test.a", typ, false)
	ep.ExtensionPoint = true
	tests := []struct {
		name string
		d    *Desc
		want string
	}{
		{"other type", desc("test.a", reflect.TypeFor[int](), false), "declared twice, as refindex.clock and as int"},
		{"other kind", ep, "as refindex.clock and as extension point refindex.clock"},
		{"other scope", desc("test.a", typ, true), "different options (scope plugin, multiton false vs scope root, multiton false)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := x.Register(tt.d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Register = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
