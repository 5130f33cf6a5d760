package core_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
)

type testClock interface{ Now() int64 }
type testTwin interface{ Twin() }
type testEP interface{ Extend(string) }

var (
	clockRef = core.NewServiceRef[testClock]("test.core.clock", core.WithScope(core.RootScope))
	twinA    = core.NewServiceRef[testTwin]("test.core.twinA")
	twinB    = core.NewServiceRef[testTwin]("test.core.twinB")
	multiRef = core.NewServiceRef[testEP]("test.core.multi", core.Multiton())
	epRef    = core.NewExtensionPoint[testEP]("test.core.ep")
)

func TestServiceRefProperties(t *testing.T) {
	tests := []struct {
		name     string
		ref      core.ServiceInfo
		id       string
		scope    core.Scope
		multiton bool
		typ      reflect.Type
		str      string
	}{
		{"root", clockRef, "test.core.clock", core.RootScope, false, reflect.TypeFor[testClock](), "serviceRef{test.core.clock}"},
		{"plugin", twinA, "test.core.twinA", core.PluginScope, false, reflect.TypeFor[testTwin](), "serviceRef{test.core.twinA}"},
		{"multiton", multiRef, "test.core.multi", core.PluginScope, true, reflect.TypeFor[[]testEP](), "serviceRef{test.core.multi}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ref.ID(); got != tt.id {
				t.Errorf("ID() = %q, want %q", got, tt.id)
			}
			if got := tt.ref.Scope(); got != tt.scope {
				t.Errorf("Scope() = %v, want %v", got, tt.scope)
			}
			if got := tt.ref.Multiton(); got != tt.multiton {
				t.Errorf("Multiton() = %v, want %v", got, tt.multiton)
			}
			if got := tt.ref.Type(); got != tt.typ {
				t.Errorf("Type() = %v, want %v", got, tt.typ)
			}
			if got := tt.ref.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if tt.ref.DefaultFactory() != nil {
				t.Errorf("DefaultFactory() = non-nil for a ref declared without one")
			}
		})
	}
	if got := multiRef.ElemType(); got != reflect.TypeFor[testEP]() {
		t.Errorf("multiton ElemType() = %v, want %v", got, reflect.TypeFor[testEP]())
	}
	if core.RootScope.String() != "root" || core.PluginScope.String() != "plugin" {
		t.Errorf("Scope strings = %q, %q", core.RootScope, core.PluginScope)
	}
}

func TestLookupRef(t *testing.T) {
	if got := core.LookupRef(reflect.TypeFor[testClock]()); len(got) != 1 || got[0].ID() != "test.core.clock" {
		t.Errorf("LookupRef(testClock) = %v, want [serviceRef{test.core.clock}]", got)
	}
	if got := core.LookupRef(reflect.TypeFor[testTwin]()); len(got) != 2 {
		t.Errorf("LookupRef(testTwin) = %v, want both twins (ambiguous type)", got)
	}
	if got := core.LookupRef(reflect.TypeFor[[]testEP]()); len(got) != 1 || got[0].ID() != "test.core.multi" {
		t.Errorf("LookupRef([]testEP) = %v, want the multiton ref", got)
	}
	if got := core.LookupRef(reflect.TypeFor[testEP]()); len(got) != 1 || got[0].String() != "extensionPoint{test.core.ep}" {
		t.Errorf("LookupRef(testEP) = %v, want the extension point", got)
	}
	if got := core.LookupRef(reflect.TypeFor[int]()); len(got) != 0 {
		t.Errorf("LookupRef(int) = %v, want none", got)
	}
	if r, ok := core.LookupRefID("core.httpRouter"); !ok || r.Type() != reflect.TypeFor[core.HTTPRouter]() {
		t.Errorf("LookupRefID(core.httpRouter) = %v, %v", r, ok)
	}
	if _, ok := core.LookupRefID("no.such.ref"); ok {
		t.Error("LookupRefID(no.such.ref) found a ref")
	}
	// Declaring the same ref again (same type and options) is allowed and
	// returns an equal ref.
	if again := core.NewServiceRef[testClock]("test.core.clock", core.WithScope(core.RootScope)); again != clockRef {
		t.Errorf("redeclared ref = %v, want %v", again, clockRef)
	}
	if epRef.ID() != "test.core.ep" || epRef.Type() != reflect.TypeFor[testEP]() {
		t.Errorf("extension point = %s %v", epRef.ID(), epRef.Type())
	}
}

func TestNewServiceRefPanics(t *testing.T) {
	tests := []struct {
		name string
		fn   func()
		want string
	}{
		{"malformed id", func() { core.NewServiceRef[testClock]("has space") }, `invalid service ref id "has space"`},
		{"empty id", func() { core.NewServiceRef[testClock]("") }, `invalid service ref id ""`},
		{"other type", func() { core.NewServiceRef[testTwin]("test.core.clock") }, "serviceRef{test.core.clock} is declared twice"},
		{"other scope", func() { core.NewServiceRef[testClock]("test.core.clock") }, "declared twice with different options"},
		{"other multiton", func() { core.NewServiceRef[testEP]("test.core.multi") }, "is declared twice"},
		{"malformed extension point", func() { core.NewExtensionPoint[testEP]("-x") }, `invalid extension point id "-x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("did not panic, want a panic containing %q", tt.want)
				}
				if msg, _ := r.(string); !strings.Contains(msg, tt.want) {
					t.Fatalf("panic = %v, want it to contain %q", r, tt.want)
				}
			}()
			tt.fn()
		})
	}
}

func TestWithDefaultFactoryReceivesTheRef(t *testing.T) {
	type defaulted interface{ D() }
	var got core.ServiceRef[defaulted]
	ref := core.NewServiceRef[defaulted]("test.core.defaulted", core.WithDefaultFactory(func(r core.ServiceRef[defaulted]) any {
		got = r
		return "factory"
	}))
	if f := ref.DefaultFactory(); f != "factory" {
		t.Fatalf("DefaultFactory() = %v, want the value fn returned", f)
	}
	if got != ref {
		t.Fatalf("fn received %v, want the ref being declared %v", got, ref)
	}
}

func TestCoreRefs(t *testing.T) {
	seen := map[string]bool{}
	rootDone := false
	for _, r := range core.Refs() {
		if seen[r.ID()] {
			t.Errorf("Refs() lists %s twice", r)
		}
		seen[r.ID()] = true
		if r.Scope() == core.PluginScope {
			rootDone = true
		} else if rootDone {
			t.Errorf("Refs() lists root ref %s after plugin refs", r)
		}
		if !strings.HasPrefix(r.ID(), "core.") {
			t.Errorf("core ref %s does not start with core.", r)
		}
	}
	if len(seen) != 14 {
		t.Errorf("Refs() has %d refs, want 14", len(seen))
	}
}
