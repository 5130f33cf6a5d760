package backend

import (
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/refgen"
)

// depField is one field of a dependency struct and the ref it resolves to.
type depField struct {
	index int
	name  string
	typ   reflect.Type
	// ref is the service ref or extension point of the field; nil when
	// problem is set.
	ref core.Ref
	// problem says why the field resolves to no ref, as a phrase that
	// follows the name of the plugin, module or factory.
	problem string
}

// describe returns "field Name (type)", used in problem messages.
func (f depField) describe() string { return fmt.Sprintf("field %s %s", f.name, f.typ) }

// tagKey is the struct tag naming a dependency's ref by id.
const tagKey = "greenroom"

// depSpecs caches, for the process, the analysis of each dependency struct
// type: reflect.Type to *depSpec, like the cache of type encoders of
// encoding/json. The analysis of a type depends only on the type and on
// the refs declared (package core's ref index), so an entry is immutable
// and shared by every backend; it is redone when a ref has been declared
// since it was made (internal/refgen). The cache grows with the number of
// dependency struct types in the program, which is fixed.
var depSpecs sync.Map

type depSpec struct {
	gen    uint64 // refgen.Current() before the analysis
	fields []depField
}

// specOf returns the analysed fields of the dependency struct type t. The
// result is shared: callers must not modify it.
func specOf(t reflect.Type) []depField {
	gen := refgen.Current()
	if s, ok := depSpecs.Load(t); ok && s.(*depSpec).gen == gen {
		return s.(*depSpec).fields
	}
	fields := analyzeDeps(t)
	depSpecs.Store(t, &depSpec{gen: gen, fields: fields})
	return fields
}

// analyzeDeps resolves the fields of the dependency struct type t to refs.
// Use specOf, which caches the result.
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
			ref, ok := core.LookupRefID(id)
			switch {
			case !ok:
				f.problem = fmt.Sprintf("has %s tagged %s:%q, but no service ref or extension point has the id %q; check the id, and that the package declaring the ref is imported", f.describe(), tagKey, id, id)
			case ref.Type() != sf.Type:
				f.problem = fmt.Sprintf("has %s tagged %s:%q, but %s has the type %s; change the field's type to %s", f.describe(), tagKey, id, ref, ref.Type(), ref.Type())
			default:
				f.ref = ref
			}
		default:
			refs := core.LookupRef(sf.Type)
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
				f.problem = fmt.Sprintf("has %s, but several refs have the type %s (%s); name one with a struct tag such as `%s:%q`", f.describe(), sf.Type, strings.Join(names, ", "), tagKey, refs[0].ID())
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
		for _, r := range core.LookupRef(f.typ.Elem()) {
			if si, ok := r.(core.ServiceInfo); ok && !si.Multiton() {
				return fmt.Sprintf("has %s, but %s is not a multiton; declare the field as %s", f.describe(), r, f.typ.Elem())
			}
		}
	}
	for _, r := range core.LookupRef(reflect.SliceOf(f.typ)) {
		if si, ok := r.(core.ServiceInfo); ok && si.Multiton() {
			return fmt.Sprintf("has %s, but %s is a multiton; declare the field as %s", f.describe(), r, reflect.SliceOf(f.typ))
		}
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
