package backend_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Dependency structs used by the validation cases.
type (
	needsPlugA struct{ A plugA }
	needsRootA struct{ R rootA }
	unexported struct{ a plugA }
	ambiguous  struct{ S sharedType }
	tagged     struct {
		S sharedType `greenroom:"test.shared2"`
	}
	badTag struct {
		S sharedType `greenroom:"test.nope"`
	}
	mismatchedTag struct {
		S sharedType `greenroom:"test.plugA"`
	}
	unknownType  struct{ X notARef }
	singleAsMany struct{ M []plugA }
	manyAsSingle struct{ M multi }
	needsEPA     struct{ E epA }
	needsEPB     struct{ E epB }
	needsEPC     struct{ E epC }
)

func initWith[D any]() backend.Option {
	return backend.Init(func(context.Context, D) error { return nil })
}

func pluginFactoryWith[T interface{ Name() string }, D any](ref core.ServiceRef[T]) *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(ref, func(context.Context, D) (T, error) { return any(named(ref.ID())).(T), nil })
}

func rootFactoryWith[T interface{ Name() string }, D any](ref core.ServiceRef[T]) *backend.ServiceFactory {
	return backend.NewRootServiceFactory(ref, func(context.Context, D) (T, error) { return any(named(ref.ID())).(T), nil })
}

// declaredRE matches where a message names a declaration.
var declaredRE = regexp.MustCompile(` \(declared at [^)]*\)`)

// withoutPositions checks that each problem's Declared field is a
// position in this package's tests and that its message names it, and
// returns the problems without it, so that tests compare what does not
// move when a line is added above a declaration.
func withoutPositions(t *testing.T, problems []backend.Problem) []backend.Problem {
	t.Helper()
	out := make([]backend.Problem, len(problems))
	for i, p := range problems {
		if p.Declared != "" {
			if !regexp.MustCompile(`^backend/[a-z_]+_test\.go:[0-9]+$`).MatchString(p.Declared) {
				t.Errorf("problem %q: Declared = %q, want backend/<file>_test.go:<line>", p.Message, p.Declared)
			}
			if !strings.Contains(p.Message, " (declared at "+p.Declared+")") {
				t.Errorf("problem %q does not name its declaration %s", p.Message, p.Declared)
			}
		}
		p.Declared = ""
		p.Message = declaredRE.ReplaceAllString(p.Message, "")
		out[i] = p
	}
	return out
}

func TestStartReportsWiringProblems(t *testing.T) {
	tests := []struct {
		name     string
		defaults []*backend.ServiceFactory
		features []backend.Feature
		want     []backend.Problem
	}{
		{
			name:     "missing service of a plugin",
			features: []backend.Feature{backend.NewPlugin("todo", initWith[needsPlugA]())},
			want: []backend.Problem{{Plugin: "todo", Ref: "serviceRef{test.plugA}",
				Message: "Plugin 'todo' depends on serviceRef{test.plugA} (field A backend_test.plugA), but no factory provides it; add its factory with backend.Add"}},
		},
		{
			name:     "missing service of a module",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(noop)), backend.NewModule("todo", "extra", initWith[needsPlugA]())},
			want: []backend.Problem{{Plugin: "todo", Module: "extra", Ref: "serviceRef{test.plugA}",
				Message: "Module 'extra' for plugin 'todo' depends on serviceRef{test.plugA} (field A backend_test.plugA), but no factory provides it; add its factory with backend.Add"}},
		},
		{
			name:     "missing service of a factory",
			defaults: []*backend.ServiceFactory{pluginFactoryWith[plugB, needsPlugA](plugBRef)},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ B plugB }) error { return nil }))},
			want: []backend.Problem{{Ref: "serviceRef{test.plugA}",
				Message: "The factory of serviceRef{test.plugB} depends on serviceRef{test.plugA} (field A backend_test.plugA), but no factory provides it; add its factory with backend.Add"}},
		},
		{
			name:     "missing dependency of an eager root factory nobody uses",
			defaults: []*backend.ServiceFactory{rootFactoryWith[rootB, needsRootA](rootBRef)},
			want: []backend.Problem{{Ref: "serviceRef{test.rootA}",
				Message: "The factory of serviceRef{test.rootB} depends on serviceRef{test.rootA} (field R backend_test.rootA), but no factory provides it; add its factory with backend.Add"}},
		},
		{
			name:     "missing dependency of an eager plugin factory",
			defaults: []*backend.ServiceFactory{backend.NewPluginServiceFactory(plugBRef, func(context.Context, needsPlugA) (plugB, error) { return named("b"), nil }, backend.Eager())},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(noop))},
			want: []backend.Problem{{Ref: "serviceRef{test.plugA}",
				Message: "The factory of serviceRef{test.plugB} depends on serviceRef{test.plugA} (field A backend_test.plugA), but no factory provides it; add its factory with backend.Add"}},
		},
		{
			name:     "unexported field",
			features: []backend.Feature{backend.NewPlugin("todo", initWith[unexported]())},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo' has an unexported field a backend_test.plugA; the fields of a dependency struct must be exported so that the backend can set them"}},
		},
		{
			name:     "unresolvable field type",
			features: []backend.Feature{backend.NewPlugin("todo", initWith[unknownType]())},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo' has field X backend_test.notARef, but no service ref or extension point has the type backend_test.notARef; declare one with core.NewServiceRef or core.NewExtensionPoint, or name a ref with a struct tag such as `greenroom:\"<ref id>\"`"}},
		},
		{
			name:     "slice of a singleton",
			features: []backend.Feature{backend.NewPlugin("todo", initWith[singleAsMany]())},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo' has field M []backend_test.plugA, but serviceRef{test.plugA} is not a multiton; declare the field as backend_test.plugA"}},
		},
		{
			name:     "multiton as a single value",
			features: []backend.Feature{backend.NewPlugin("todo", initWith[manyAsSingle]())},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo' has field M backend_test.multi, but serviceRef{test.multi} is a multiton; declare the field as []backend_test.multi"}},
		},
		{
			name:     "ambiguous type",
			features: []backend.Feature{backend.NewPlugin("todo", initWith[ambiguous]())},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo' has field S backend_test.sharedType, but several refs have the type backend_test.sharedType (serviceRef{test.shared1}, serviceRef{test.shared2}); name one with a struct tag such as `greenroom:\"test.shared1\"`"}},
		},
		{
			name:     "tag naming a missing service",
			features: []backend.Feature{backend.NewPlugin("todo", initWith[tagged]())},
			want: []backend.Problem{{Plugin: "todo", Ref: "serviceRef{test.shared2}",
				Message: "Plugin 'todo' depends on serviceRef{test.shared2} (field S backend_test.sharedType), but no factory provides it; add its factory with backend.Add"}},
		},
		{
			name:     "tag with an unknown id",
			features: []backend.Feature{backend.NewPlugin("todo", initWith[badTag]())},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo' has field S backend_test.sharedType tagged greenroom:\"test.nope\", but no service ref or extension point has the id \"test.nope\"; check the id, and that the package declaring the ref is imported"}},
		},
		{
			name:     "tag naming a ref of another type",
			features: []backend.Feature{backend.NewPlugin("todo", initWith[mismatchedTag]())},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo' has field S backend_test.sharedType tagged greenroom:\"test.plugA\", but serviceRef{test.plugA} has the type backend_test.plugA; change the field's type to backend_test.plugA"}},
		},
		{
			name:     "unresolvable field of a factory",
			defaults: []*backend.ServiceFactory{pluginFactoryWith[plugA, unknownType](plugARef)},
			features: []backend.Feature{backend.NewPlugin("todo", initWith[needsPlugA]())},
			want: []backend.Problem{{Ref: "serviceRef{test.plugA}",
				Message: "The factory of serviceRef{test.plugA} has field X backend_test.notARef, but no service ref or extension point has the type backend_test.notARef; declare one with core.NewServiceRef or core.NewExtensionPoint, or name a ref with a struct tag such as `greenroom:\"<ref id>\"`"}},
		},
		{
			name: "service cycle",
			defaults: []*backend.ServiceFactory{
				pluginFactoryWith[cycA, struct{ B cycB }](cycARef),
				pluginFactoryWith[cycB, struct{ A cycA }](cycBRef),
			},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ A cycA }) error { return nil }))},
			want: []backend.Problem{{Ref: "serviceRef{test.cycA}",
				Message: "Circular service dependency: serviceRef{test.cycA} -> serviceRef{test.cycB} -> serviceRef{test.cycA}; a service cannot depend on itself, even indirectly"}},
		},
		{
			name: "longer service cycle reached from the middle",
			defaults: []*backend.ServiceFactory{
				pluginFactoryWith[cycA, struct{ B cycB }](cycARef),
				pluginFactoryWith[cycB, struct{ C cycC }](cycBRef),
				pluginFactoryWith[cycC, struct{ A cycA }](cycCRef),
			},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ B cycB }) error { return nil }))},
			want: []backend.Problem{{Ref: "serviceRef{test.cycB}",
				Message: "Circular service dependency: serviceRef{test.cycB} -> serviceRef{test.cycC} -> serviceRef{test.cycA} -> serviceRef{test.cycB}; a service cannot depend on itself, even indirectly"}},
		},
		{
			name:     "self cycle",
			defaults: []*backend.ServiceFactory{pluginFactoryWith[cycA, struct{ A cycA }](cycARef)},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ A cycA }) error { return nil }))},
			want: []backend.Problem{{Ref: "serviceRef{test.cycA}",
				Message: "Circular service dependency: serviceRef{test.cycA} -> serviceRef{test.cycA}; a service cannot depend on itself, even indirectly"}},
		},
		{
			name:     "duplicate plugin",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(noop)), backend.NewPlugin("todo", backend.Init(noop))},
			want:     []backend.Problem{{Plugin: "todo", Message: "Plugin 'todo' is added twice; add each plugin once"}},
		},
		{
			name: "duplicate module",
			features: []backend.Feature{
				backend.NewPlugin("todo", backend.Init(noop)),
				backend.NewModule("todo", "extra", backend.Init(noop)),
				backend.NewModule("todo", "extra", backend.Init(noop)),
			},
			want: []backend.Problem{{Plugin: "todo", Module: "extra", Message: "Module 'extra' for plugin 'todo' is added twice; add each module once"}},
		},
		{
			name: "duplicate extension point",
			features: []backend.Feature{
				backend.NewPlugin("todo", backend.Init(noop), backend.ProvideExtensionPoint(epARef, func() epA { return epImpl{} })),
				backend.NewModule("todo", "extra", backend.Init(noop), backend.ProvideExtensionPoint(epARef, func() epA { return epImpl{} })),
			},
			want: []backend.Problem{{Plugin: "todo", Ref: "extensionPoint{test.epA}",
				Message: "extensionPoint{test.epA} is provided twice, by plugin 'todo' and by module 'extra' for plugin 'todo'; an extension point has exactly one provider"}},
		},
		{
			name: "singleton service added twice",
			features: []backend.Feature{
				valueFactory(plugARef, "one"), valueFactory(plugARef, "two"),
			},
			want: []backend.Problem{{Ref: "serviceRef{test.plugA}",
				Message: "serviceRef{test.plugA} has 2 factories added with backend.Add, but it is a singleton service; add only one (a factory added with backend.Add already replaces the default)"}},
		},
		{
			name:     "factory for a built-in service added",
			features: []backend.Feature{backend.NewPluginServiceFactory(core.LifecycleRef, func(context.Context, struct{}) (core.Lifecycle, error) { return nil, nil })},
			want: []backend.Problem{{Ref: "serviceRef{core.lifecycle}",
				Message: "serviceRef{core.lifecycle} is built into the backend and cannot be replaced; remove its factory from backend.Add"}},
		},
		{
			name:     "factory for a built-in service as a default",
			defaults: []*backend.ServiceFactory{backend.NewPluginServiceFactory(core.PluginMetadataRef, func(context.Context, struct{}) (core.PluginMetadata, error) { return nil, nil })},
			want: []backend.Problem{{Ref: "serviceRef{core.pluginMetadata}",
				Message: "serviceRef{core.pluginMetadata} is built into the backend and cannot be replaced; remove its factory from backend.WithDefaults"}},
		},
		{
			name:     "root service depending on a plugin service",
			defaults: []*backend.ServiceFactory{rootFactoryWith[rootA, needsPlugA](rootARef), valueFactory(plugARef, "a")},
			want: []backend.Problem{{Ref: "serviceRef{test.plugA}",
				Message: "The factory of serviceRef{test.rootA} depends on serviceRef{test.plugA} (field A backend_test.plugA), which is plugin scoped; serviceRef{test.rootA} is a root service and can depend only on root services; did you mean backend_test.rootB (serviceRef{test.rootB}, root scoped) or backend_test.rootDef (serviceRef{test.rootDef}, root scoped)? declare the field with that type"}},
		},
		{
			name:     "root service depending on plugin metadata",
			defaults: []*backend.ServiceFactory{rootFactoryWith[rootA, struct{ M core.PluginMetadata }](rootARef)},
			want: []backend.Problem{{Ref: "serviceRef{core.pluginMetadata}",
				Message: "The factory of serviceRef{test.rootA} depends on serviceRef{core.pluginMetadata} (field M core.PluginMetadata), which is plugin scoped; serviceRef{test.rootA} is a root service and can depend only on root services"}},
		},
		{
			name: "root context depending on a plugin service",
			defaults: []*backend.ServiceFactory{
				backend.NewPluginServiceFactoryWithContext(plugBRef,
					func(context.Context, needsPlugA) (string, error) { return "", nil },
					func(context.Context, string, struct{}) (plugB, error) { return named("b"), nil }),
				valueFactory(plugARef, "a"),
			},
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ B plugB }) error { return nil }))},
			want: []backend.Problem{{Ref: "serviceRef{test.plugA}",
				Message: "The root context of the factory of serviceRef{test.plugB} depends on serviceRef{test.plugA} (field A backend_test.plugA), which is plugin scoped; a root context can depend only on root services; did you mean backend_test.rootA (serviceRef{test.rootA}, root scoped) or backend_test.rootB (serviceRef{test.rootB}, root scoped) or backend_test.rootDef (serviceRef{test.rootDef}, root scoped)? declare the field with that type"}},
		},
		{
			name: "plugin depending on another plugin's extension point",
			features: []backend.Feature{
				backend.NewPlugin("catalog", backend.Init(noop), backend.ProvideExtensionPoint(epARef, func() epA { return epImpl{} })),
				backend.NewPlugin("todo", initWith[needsEPA]()),
			},
			want: []backend.Problem{{Plugin: "todo", Ref: "extensionPoint{test.epA}",
				Message: "Plugin 'todo' depends on extensionPoint{test.epA} (field E backend_test.epA) of plugin 'catalog'; extension points can be used only by the plugin that provides them and its modules"}},
		},
		{
			name:     "plugin depending on an extension point nobody provides",
			features: []backend.Feature{backend.NewPlugin("todo", initWith[needsEPA]())},
			want: []backend.Problem{{Plugin: "todo", Ref: "extensionPoint{test.epA}",
				Message: "Plugin 'todo' depends on extensionPoint{test.epA} (field E backend_test.epA), but no plugin or module provides it; provide it with backend.ProvideExtensionPoint in plugin 'todo' or one of its modules"}},
		},
		{
			name: "module depending on another plugin's extension point",
			features: []backend.Feature{
				backend.NewPlugin("catalog", backend.Init(noop), backend.ProvideExtensionPoint(epARef, func() epA { return epImpl{} })),
				backend.NewPlugin("todo", backend.Init(noop)),
				backend.NewModule("todo", "extra", initWith[needsEPA]()),
			},
			want: []backend.Problem{{Plugin: "todo", Module: "extra", Ref: "extensionPoint{test.epA}",
				Message: "Module 'extra' for plugin 'todo' depends on extensionPoint{test.epA} (field E backend_test.epA) of plugin 'catalog'; extension points can be used only by the plugin that provides them and its modules"}},
		},
		{
			name: "module depending on an extension point nobody provides",
			features: []backend.Feature{
				backend.NewPlugin("todo", backend.Init(noop)),
				backend.NewModule("todo", "extra", initWith[needsEPA]()),
			},
			want: []backend.Problem{{Plugin: "todo", Module: "extra", Ref: "extensionPoint{test.epA}",
				Message: "Module 'extra' for plugin 'todo' depends on extensionPoint{test.epA} (field E backend_test.epA), but no plugin or module provides it; provide it with backend.ProvideExtensionPoint in plugin 'todo' or one of its modules"}},
		},
		{
			name:     "factory depending on an extension point",
			defaults: []*backend.ServiceFactory{pluginFactoryWith[plugA, needsEPA](plugARef)},
			features: []backend.Feature{backend.NewPlugin("todo", initWith[needsPlugA]())},
			want: []backend.Problem{{Ref: "extensionPoint{test.epA}",
				Message: "The factory of serviceRef{test.plugA} depends on extensionPoint{test.epA} (field E backend_test.epA), but a service cannot depend on an extension point; only the plugin that provides it and its modules can"}},
		},
		{
			name:     "invalid plugin id",
			features: []backend.Feature{backend.NewPlugin("Todo_List", backend.Init(noop))},
			want: []backend.Problem{{Plugin: "Todo_List",
				Message: "Invalid plugin id 'Todo_List': plugin ids must match ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ (lowercase letters and digits in words separated by single dashes, starting with a letter, such as \"todo\" or \"todo-list\")"}},
		},
		{
			name:     "invalid module id",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(noop)), backend.NewModule("todo", "extra--one", backend.Init(noop))},
			want: []backend.Problem{{Plugin: "todo", Module: "extra--one",
				Message: "Invalid module id 'extra--one' for plugin 'todo': module ids must match ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ (lowercase letters and digits in words separated by single dashes, starting with a letter, such as \"todo\" or \"todo-list\")"}},
		},
		{
			name:     "invalid plugin id of a module",
			features: []backend.Feature{backend.NewModule("", "extra", backend.Init(noop))},
			want: []backend.Problem{{Module: "extra",
				Message: "Invalid plugin id '' for module 'extra': plugin ids must match ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ (lowercase letters and digits in words separated by single dashes, starting with a letter, such as \"todo\" or \"todo-list\")"}},
		},
		{
			name:     "plugin without init",
			features: []backend.Feature{backend.NewPlugin("todo")},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo' has no init function; pass backend.Init(func(ctx context.Context, deps D) error { ... }) to backend.NewPlugin"}},
		},
		{
			name:     "module without init",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(noop)), backend.NewModule("todo", "extra")},
			want: []backend.Problem{{Plugin: "todo", Module: "extra",
				Message: "Module 'extra' for plugin 'todo' has no init function; pass backend.Init(func(ctx context.Context, deps D) error { ... }) to backend.NewModule"}},
		},
		{
			name:     "init given twice",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(noop), backend.Init(noop))},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo': Init was given more than once; declare exactly one init function"}},
		},
		{
			name:     "init with a non-struct dependency type",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, plugA) error { return nil }))},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo': Init: dependencies must be a struct type whose fields are the services, got backend_test.plugA"}},
		},
		{
			name:     "nil init function",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init[struct{}](nil))},
			want:     []backend.Problem{{Plugin: "todo", Message: "Plugin 'todo': Init was given a nil function"}},
		},
		{
			name:     "nil extension point constructor",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(noop), backend.ProvideExtensionPoint[epA](epARef, nil))},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Plugin 'todo': ProvideExtensionPoint(extensionPoint{test.epA}) was given a nil constructor"}},
		},
		{
			name:     "module of a plugin that is not added",
			features: []backend.Feature{backend.NewModule("todo", "extra", backend.Init(noop))},
			want: []backend.Problem{{Plugin: "todo", Module: "extra",
				Message: "Module 'extra' for plugin 'todo' extends plugin 'todo', which is not added; add the plugin with backend.Add, or remove the module"}},
		},
		{
			name: "module cycle through extension points",
			features: []backend.Feature{
				backend.NewPlugin("todo", backend.Init(noop)),
				backend.NewModule("todo", "one", initWith[needsEPB](), backend.ProvideExtensionPoint(epARef, func() epA { return epImpl{} })),
				backend.NewModule("todo", "two", initWith[needsEPA](), backend.ProvideExtensionPoint(epBRef, func() epB { return epImpl{} })),
			},
			want: []backend.Problem{{Plugin: "todo",
				Message: "Circular dependency between the modules of plugin 'todo': 'one' -> 'two' -> 'one' (each consumes an extension point provided by the next; a module that provides an extension point inits after the modules that consume it)"}},
		},
		{
			name:     "nil feature",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(noop)), nil, (*backend.Plugin)(nil)},
			want: []backend.Problem{
				{Message: "Feature #2 given to backend.Add is nil"},
				{Message: "Feature #3 given to backend.Add is nil"},
			},
		},
		{
			name:     "nil and zero factories",
			defaults: []*backend.ServiceFactory{nil},
			features: []backend.Feature{(*backend.ServiceFactory)(nil), &backend.ServiceFactory{}},
			want: []backend.Problem{
				{Message: "Factory #1 given to backend.WithDefaults is nil or was not built with a factory constructor such as backend.NewRootServiceFactory"},
				{Message: "Feature #1 given to backend.Add is a nil factory or was not built with a factory constructor such as backend.NewPluginServiceFactory"},
				{Message: "Feature #2 given to backend.Add is a nil factory or was not built with a factory constructor such as backend.NewPluginServiceFactory"},
			},
		},
		{
			name:     "ref default factory of the wrong type",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ D badDef }) error { return nil }))},
			want: []backend.Problem{
				{Ref: "serviceRef{test.badDef}", Message: "The default factory of serviceRef{test.badDef} is a backend_test.foreignFactory; it must be a *backend.ServiceFactory built with backend.NewRootServiceFactory or backend.NewPluginServiceFactory"},
				{Plugin: "todo", Ref: "serviceRef{test.badDef}", Message: "Plugin 'todo' depends on serviceRef{test.badDef} (field D backend_test.badDef), but no factory provides it; add its factory with backend.Add"},
			},
		},
		{
			name:     "ref default factory for another ref",
			features: []backend.Feature{backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ D wrongDef }) error { return nil }))},
			want: []backend.Problem{
				{Ref: "serviceRef{test.wrongDef}", Message: "The default factory of serviceRef{test.wrongDef} is the factory of serviceRef{test.plugA}; a ref's default factory must provide the ref itself"},
				{Plugin: "todo", Ref: "serviceRef{test.wrongDef}", Message: "Plugin 'todo' depends on serviceRef{test.wrongDef} (field D backend_test.wrongDef), but no factory provides it; add its factory with backend.Add"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backend.New(backend.WithDefaults(tt.defaults...))
			if err := b.Add(tt.features...); err != nil {
				t.Fatalf("Add: %v", err)
			}
			err := b.Start(t.Context())
			var werr *backend.WiringError
			if !errors.As(err, &werr) {
				t.Fatalf("Start() = %v, want a *WiringError", err)
			}
			if diff := cmp.Diff(tt.want, withoutPositions(t, werr.Problems)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nerror:\n%s", diff, err)
			}
			for _, p := range tt.want {
				if !strings.Contains(declaredRE.ReplaceAllString(err.Error(), ""), p.Message) {
					t.Errorf("Error() does not list %q:\n%s", p.Message, err)
				}
			}
			if err := b.Stop(t.Context()); err != nil {
				t.Errorf("Stop after a failed Start: %v", err)
			}
		})
	}
}

func TestStartReportsEveryProblemBeforeRunningAnything(t *testing.T) {
	var ran counter
	root := backend.NewRootServiceFactory(rootARef, func(context.Context, struct{}) (rootA, error) {
		ran.Add()
		return named("root"), nil
	})
	b := backend.New(backend.WithDefaults(root))
	err := b.Add(
		backend.NewPlugin("todo", backend.Init(func(context.Context, needsPlugA) error { ran.Add(); return nil })),
		backend.NewPlugin("todo", backend.Init(noop)),
		backend.NewModule("catalog", "extra", backend.Init(func(context.Context, struct{}) error { ran.Add(); return nil })),
		backend.NewPlugin("ok", backend.Init(func(context.Context, needsRootA) error { ran.Add(); return nil })),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start(t.Context())
	want := `backend wiring has 3 problems:
  - Plugin 'todo' is added twice; add each plugin once
  - Module 'extra' for plugin 'catalog' extends plugin 'catalog', which is not added; add the plugin with backend.Add, or remove the module
  - Plugin 'todo' depends on serviceRef{test.plugA} (field A backend_test.plugA), but no factory provides it; add its factory with backend.Add`
	if err == nil || declaredRE.ReplaceAllString(err.Error(), "") != want {
		t.Fatalf("Start() error:\n%v\nwant:\n%s", err, want)
	}
	if n := ran.Get(); n != 0 {
		t.Errorf("%d factories or inits ran; want none before the wiring is valid", n)
	}
}

func TestResolveValidatesWhatItNeeds(t *testing.T) {
	tests := []struct {
		name     string
		features []backend.Feature
		resolve  func(context.Context, *backend.Backend) error
		want     []string
	}{
		{
			name: "missing service",
			resolve: func(ctx context.Context, b *backend.Backend) error {
				_, err := backend.Resolve(ctx, b, plugARef, "todo")
				return err
			},
			want: []string{"Resolve: no factory provides serviceRef{test.plugA}; add its factory with backend.Add"},
		},
		{
			name:     "missing dependency",
			features: []backend.Feature{pluginFactoryWith[plugB, needsPlugA](plugBRef)},
			resolve: func(ctx context.Context, b *backend.Backend) error {
				_, err := backend.Resolve(ctx, b, plugBRef, "todo")
				return err
			},
			want: []string{"The factory of serviceRef{test.plugB} depends on serviceRef{test.plugA} (field A backend_test.plugA), but no factory provides it; add its factory with backend.Add"},
		},
		{
			name: "cycle",
			features: []backend.Feature{
				pluginFactoryWith[cycA, struct{ B cycB }](cycARef),
				pluginFactoryWith[cycB, struct{ A cycA }](cycBRef),
			},
			resolve: func(ctx context.Context, b *backend.Backend) error {
				_, err := backend.Resolve(ctx, b, cycBRef, "todo")
				return err
			},
			want: []string{"Circular service dependency: serviceRef{test.cycB} -> serviceRef{test.cycA} -> serviceRef{test.cycB}; a service cannot depend on itself, even indirectly"},
		},
		{
			name:     "root depending on plugin",
			features: []backend.Feature{rootFactoryWith[rootA, needsPlugA](rootARef), valueFactory(plugARef, "a")},
			resolve: func(ctx context.Context, b *backend.Backend) error {
				_, err := backend.Resolve(ctx, b, rootARef, "")
				return err
			},
			want: []string{"The factory of serviceRef{test.rootA} depends on serviceRef{test.plugA} (field A backend_test.plugA), which is plugin scoped; serviceRef{test.rootA} is a root service and can depend only on root services; did you mean backend_test.rootB (serviceRef{test.rootB}, root scoped) or backend_test.rootDef (serviceRef{test.rootDef}, root scoped)? declare the field with that type"},
		},
		{
			name:     "duplicate singleton factories",
			features: []backend.Feature{valueFactory(plugARef, "one"), valueFactory(plugARef, "two")},
			resolve: func(ctx context.Context, b *backend.Backend) error {
				_, err := backend.Resolve(ctx, b, plugARef, "todo")
				return err
			},
			want: []string{"serviceRef{test.plugA} has 2 factories added with backend.Add, but it is a singleton service; add only one (a factory added with backend.Add already replaces the default)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backend.New()
			if err := b.Add(tt.features...); err != nil {
				t.Fatal(err)
			}
			err := tt.resolve(t.Context(), b)
			var werr *backend.WiringError
			if !errors.As(err, &werr) {
				t.Fatalf("Resolve() = %v, want a *WiringError", err)
			}
			var got []string
			for _, p := range withoutPositions(t, werr.Problems) {
				got = append(got, p.Message)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveArgumentErrors(t *testing.T) {
	b := backend.New(backend.WithDefaults(valueFactory(plugARef, "a")))
	tests := []struct {
		name    string
		resolve func() error
		want    string
	}{
		{"plugin service without plugin id", func() error {
			_, err := backend.Resolve(t.Context(), b, plugARef, "")
			return err
		}, "backend.Resolve(serviceRef{test.plugA}): invalid plugin id ''; serviceRef{test.plugA} is plugin scoped, so pass the id of the plugin to resolve it for, matching ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ (lowercase letters and digits in words separated by single dashes, starting with a letter, such as \"todo\" or \"todo-list\")"},
		{"multiton with Resolve", func() error {
			_, err := backend.Resolve(t.Context(), b, multiRef, "todo")
			return err
		}, "backend.Resolve(serviceRef{test.multi}): the ref is a multiton; use backend.ResolveAll"},
		{"singleton with ResolveAll", func() error {
			_, err := backend.ResolveAll(t.Context(), b, plugARef, "todo")
			return err
		}, "backend.ResolveAll(serviceRef{test.plugA}): the ref is not a multiton; use backend.Resolve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.resolve()
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestFactoryWithNonStructDependenciesPanics(t *testing.T) {
	tests := []struct {
		name    string
		declare func()
		want    string
	}{
		{"root", func() {
			backend.NewRootServiceFactory(rootARef, func(context.Context, int) (rootA, error) { return nil, nil })
		}, "greenroom: NewRootServiceFactory(serviceRef{test.rootA}): dependencies must be a struct type whose fields are the services, got int"},
		{"plugin", func() {
			backend.NewPluginServiceFactory(plugARef, func(context.Context, string) (plugA, error) { return nil, nil })
		}, "greenroom: NewPluginServiceFactory(serviceRef{test.plugA}): dependencies must be a struct type whose fields are the services, got string"},
		{"root context", func() {
			backend.NewPluginServiceFactoryWithContext(plugARef,
				func(context.Context, []int) (int, error) { return 0, nil },
				func(context.Context, int, struct{}) (plugA, error) { return nil, nil })
		}, "greenroom: NewPluginServiceFactoryWithContext(serviceRef{test.plugA}) root context: dependencies must be a struct type whose fields are the services, got []int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if got := fmt.Sprint(recover()); got != tt.want {
					t.Errorf("panic = %q, want %q", got, tt.want)
				}
			}()
			tt.declare()
		})
	}
}

type needsABC struct {
	A plugA
	B plugB
	C plugC
}

// Each problem names the file and line of the NewPlugin, NewModule or
// factory constructor call it is about, in the message and in Declared.
func TestProblemsNameDeclarations(t *testing.T) {
	t.Parallel()
	at := func(line int) string { return fmt.Sprintf("backend/validation_test.go:%d", line) }
	_, _, line, _ := runtime.Caller(0)
	plugin := backend.NewPlugin("todo", backend.Init(func(context.Context, needsABC) error { return nil }))
	module := backend.NewModule("todo", "extra", backend.Init(func(context.Context, struct{ E epA }) error { return nil }))
	pluginFactory := backend.NewPluginServiceFactory(plugBRef, func(context.Context, struct{ A plugA }) (plugB, error) { return named("b"), nil })
	rootFactory := backend.NewRootServiceFactory(rootARef, func(context.Context, struct{ L core.Logger }) (rootA, error) { return named("a"), nil })
	withContext := backend.NewPluginServiceFactoryWithContext(plugCRef,
		func(context.Context, struct{ B plugB }) (int, error) { return 0, nil },
		func(context.Context, int, struct{}) (plugC, error) { return named("c"), nil })
	b := backend.New()
	if err := b.Add(plugin, module, pluginFactory, rootFactory, withContext); err != nil {
		t.Fatal(err)
	}
	err := b.Start(t.Context())
	var werr *backend.WiringError
	if !errors.As(err, &werr) {
		t.Fatalf("Start() = %v, want a *WiringError", err)
	}
	want := map[string]string{
		"Plugin 'todo'":                    at(line + 1),
		"Module 'extra' for plugin 'todo'": at(line + 2),
		"The root context of the factory of serviceRef{test.plugC}": at(line + 5),
		"The factory of serviceRef{test.rootA}":                     at(line + 4),
	}
	for _, p := range werr.Problems {
		for name, pos := range want {
			if strings.HasPrefix(p.Message, name+" (declared at ") {
				if p.Declared != pos || !strings.HasPrefix(p.Message, name+" (declared at "+pos+")") {
					t.Errorf("problem %q: Declared = %q, want %s named in the message", p.Message, p.Declared, pos)
				}
				delete(want, name)
			}
		}
	}
	for name, pos := range want {
		t.Errorf("no problem names %s (declared at %s); problems:\n%v", name, pos, err)
	}
}
