// Package refindex is the index of the service refs and extension points a
// program declares. Package core registers each ref into it when the ref is
// declared (core.NewServiceRef, core.NewExtensionPoint), with a descriptor
// that carries what the wiring needs and plugin authors do not: the Go
// types, the scope, the default factory. Package backend reads it to
// resolve the fields of dependency structs, which name only Go types, to
// refs. It is promised to nobody outside Greenroom.
//
// Refs are declared in package-level variables, so in practice the index
// is written while packages initialize and only read afterwards, like the
// registries of database/sql drivers or encoding/gob types.
package refindex

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Ref is the public value of a descriptor: a core.ServiceRef or a
// core.ExtensionPoint. It has core.Ref's method set.
type Ref interface {
	ID() string
	String() string
}

// Desc describes one declared ref. A registered Desc is never modified.
type Desc struct {
	// ID is the ref's id, such as "core.httpRouter".
	ID string
	// ExtensionPoint tells an extension point from a service ref.
	ExtensionPoint bool
	// Type is the Go type a dependent receives: T, or []T for a multiton.
	Type reflect.Type
	// Elem is T.
	Elem reflect.Type
	// Root is set for a root-scoped service.
	Root bool
	// Multiton is set for a multiton service.
	Multiton bool
	// Ref is the core value declared.
	Ref Ref
	// DefaultFactory returns the ref's default factory (a value that
	// package backend checks), or is nil.
	DefaultFactory func() any
}

// String returns the ref's String: "serviceRef{<id>}" or
// "extensionPoint{<id>}".
func (d *Desc) String() string { return d.Ref.String() }

// Scope returns "root" or "plugin", the names of core.Scope values.
func (d *Desc) Scope() string {
	if d.Root {
		return "root"
	}
	return "plugin"
}

// An Index maps ids and Go types to descriptors.
type Index struct {
	mu     sync.RWMutex
	byID   map[string]*Desc
	byType map[reflect.Type][]*Desc
}

// Default is the index core registers into and backend reads.
var Default Index

// Register adds d to the index and returns the registered descriptor: d,
// or the one already registered under d's id when it is the same ref
// declared again. It returns an error when d's id is registered with
// another type, kind or options.
func (x *Index) Register(d *Desc) (*Desc, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.byID == nil {
		x.byID = make(map[string]*Desc)
		x.byType = make(map[reflect.Type][]*Desc)
	}
	if old, ok := x.byID[d.ID]; ok {
		switch {
		case old.Type != d.Type || old.ExtensionPoint != d.ExtensionPoint:
			return nil, fmt.Errorf("%s is declared twice, as %s and as %s; ref ids must be unique", d, old.describeType(), d.describeType())
		case old.Root != d.Root || old.Multiton != d.Multiton:
			return nil, fmt.Errorf("%s is declared twice with different options (scope %s, multiton %t vs scope %s, multiton %t); ref ids must be unique",
				d, old.Scope(), old.Multiton, d.Scope(), d.Multiton)
		}
		return old, nil
	}
	x.byID[d.ID] = d
	x.byType[d.Type] = append(x.byType[d.Type], d)
	return d, nil
}

func (d *Desc) describeType() string {
	if d.ExtensionPoint {
		return "extension point " + d.Type.String()
	}
	return d.Type.String()
}

// ByType returns the descriptors declared with Go type t (T, []T for a
// multiton). More than one means the type is ambiguous. The result must
// not be modified.
func (x *Index) ByType(t reflect.Type) []*Desc {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byType[t]
}

// ByID returns the descriptor declared with id, or nil.
func (x *Index) ByID(id string) *Desc {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byID[id]
}

// All returns every descriptor, sorted by id.
func (x *Index) All() []*Desc {
	x.mu.RLock()
	all := make([]*Desc, 0, len(x.byID))
	for _, d := range x.byID {
		all = append(all, d)
	}
	x.mu.RUnlock()
	slices.SortFunc(all, func(a, b *Desc) int { return strings.Compare(a.ID, b.ID) })
	return all
}
