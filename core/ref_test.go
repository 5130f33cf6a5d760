package core_test

import (
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
		name string
		ref  interface {
			core.Ref
			Scope() core.Scope
			Multiton() bool
		}
		id       string
		scope    core.Scope
		multiton bool
		str      string
	}{
		{"root", clockRef, "test.core.clock", core.RootScope, false, "serviceRef{test.core.clock}"},
		{"plugin", twinA, "test.core.twinA", core.PluginScope, false, "serviceRef{test.core.twinA}"},
		{"multiton", multiRef, "test.core.multi", core.PluginScope, true, "serviceRef{test.core.multi}"},
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
			if got := tt.ref.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
		})
	}
	if core.RootScope.String() != "root" || core.PluginScope.String() != "plugin" {
		t.Errorf("Scope strings = %q, %q", core.RootScope, core.PluginScope)
	}
}

func TestRedeclaredRefIsEqual(t *testing.T) {
	// Declaring the same ref again (same type and options) is allowed and
	// returns an equal ref.
	if again := core.NewServiceRef[testClock]("test.core.clock", core.WithScope(core.RootScope)); again != clockRef {
		t.Errorf("redeclared ref = %v, want %v", again, clockRef)
	}
	if again := core.NewExtensionPoint[testEP]("test.core.ep"); again != epRef {
		t.Errorf("redeclared extension point = %v, want %v", again, epRef)
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

func TestNewExtensionPointPanicsOnServiceID(t *testing.T) {
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "serviceRef{test.core.twinA} is declared twice") && !strings.Contains(msg, "extensionPoint{test.core.twinA} is declared twice") {
			t.Fatalf("panic = %q, want one saying the id is declared twice", msg)
		}
	}()
	core.NewExtensionPoint[testTwin]("test.core.twinA")
}
