package backend

import (
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"

	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// depField is one field of a dependency struct and the ref it resolves to.
type depField struct {
	index int
	name  string
	typ   reflect.Type
	// ref is the service ref or extension point of the field; nil when
	// problem is set.
	ref *refindex.Desc
	// problem says why the field resolves to no ref, as a phrase that
	// follows the name of the plugin, module or factory.
	problem string
}

// describe returns "field Name (type)", used in problem messages.
func (f depField) describe() string { return fmt.Sprintf("field %s %s", f.name, f.typ) }

// tagKey is the struct tag naming a dependency's ref by id.
const tagKey = "greenroom"

// spec returns the analysed fields of the dependency struct type t,
// analysing each type once per backend. The analysis depends on the refs
// declared (package core's ref index), which a program may extend at any
// time, so it is not shared between backends: a backend sees the refs
// declared when it analyses a type. The result is shared by the callers:
// they must not modify it.
func (b *Backend) spec(t reflect.Type) []depField {
	b.specMu.Lock()
	defer b.specMu.Unlock()
	if fields, ok := b.specs[t]; ok {
		return fields
	}
	fields := analyzeDeps(t)
	if b.specs == nil {
		b.specs = make(map[reflect.Type][]depField)
	}
	b.specs[t] = fields
	return fields
}

// analyzeDeps resolves the fields of the dependency struct type t to refs.
func analyzeDeps(t reflect.Type) []depField {
	fields := make([]depField, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		f := depField{index: i, name: sf.Name, typ: sf.Type}
		id, tagged := sf.Tag.Lookup(tagKey)
		switch {
		case !sf.IsExported():
			f.problem = fmt.Sprintf("has an unexported %s; the fields of a dependency struct must be exported so that the backend can set them", f.describe())
		case tagged:
			ref := refindex.Default.ByID(id)
			switch {
			case ref == nil:
				if near := closestID(id); near != "" {
					f.problem = fmt.Sprintf("has %s tagged %s:%q, but no service ref or extension point has the id %q; did you mean %q? (or check that the package declaring the ref is imported)", f.describe(), tagKey, id, id, near)
				} else {
					f.problem = fmt.Sprintf("has %s tagged %s:%q, but no service ref or extension point has the id %q; check the id, and that the package declaring the ref is imported", f.describe(), tagKey, id, id)
				}
			case ref.Type != sf.Type:
				f.problem = fmt.Sprintf("has %s tagged %s:%q, but %s has the type %s; change the field's type to %s", f.describe(), tagKey, id, ref, ref.Type, ref.Type)
			default:
				f.ref = ref
			}
		default:
			refs := refindex.Default.ByType(sf.Type)
			switch len(refs) {
			case 1:
				f.ref = refs[0]
			case 0:
				f.problem = noRefProblem(f)
			default:
				names := make([]string, len(refs))
				for i, r := range refs {
					names[i] = r.String()
				}
				f.problem = fmt.Sprintf("has %s, but several refs have the type %s (%s); name one with a struct tag such as `%s:%q`", f.describe(), sf.Type, strings.Join(names, ", "), tagKey, refs[0].ID)
			}
		}
		fields = append(fields, f)
	}
	return fields
}

// noRefProblem explains why a field's type names no ref, with a hint when
// the field confuses a multiton with a singleton.
func noRefProblem(f depField) string {
	if f.typ.Kind() == reflect.Slice {
		for _, r := range refindex.Default.ByType(f.typ.Elem()) {
			if !r.ExtensionPoint && !r.Multiton {
				return fmt.Sprintf("has %s, but %s is not a multiton; declare the field as %s", f.describe(), r, f.typ.Elem())
			}
		}
	}
	for _, r := range refindex.Default.ByType(reflect.SliceOf(f.typ)) {
		if r.Multiton {
			return fmt.Sprintf("has %s, but %s is a multiton; declare the field as %s", f.describe(), r, reflect.SliceOf(f.typ))
		}
	}
	if hint := pointerHint(f); hint != "" {
		return hint
	}
	if hint := implementsHint(f.typ); hint != "" {
		return fmt.Sprintf("has %s, but no service ref or extension point has the type %s; %s", f.describe(), f.typ, hint)
	}
	return fmt.Sprintf("has %s, but no service ref or extension point has the type %s; declare one with core.NewServiceRef or core.NewExtensionPoint, or name a ref with a struct tag such as `%s:\"<ref id>\"`", f.describe(), f.typ, tagKey)
}

// safeCall calls fn and turns a panic into an error, so that a panicking
// init, factory or hook fails the start of its plugin rather than the
// whole process. The stack is kept, since a panic is a bug to find.
func safeCall(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("panic: %w\n\n%s", e, debug.Stack())
			} else {
				err = fmt.Errorf("panic: %v\n\n%s", r, debug.Stack())
			}
		}
	}()
	return fn()
}
