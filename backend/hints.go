package backend

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// The hints below suggest the likely fix of a dependency field that names
// no ref, or names a ref its requester cannot have. They run only when
// there is a problem to report.

// maxHints bounds the refs a hint names: more candidates mean that the
// interface is too general (such as interface{ Name() string }) to guess
// from, and no hint is given.
const maxHints = 3

// pointerHint explains a field whose type is a pointer to a service
// interface, or "".
func pointerHint(f depField) string {
	if f.typ.Kind() != reflect.Pointer || f.typ.Elem().Kind() != reflect.Interface {
		return ""
	}
	refs := refindex.Default.ByType(f.typ.Elem())
	if len(refs) == 0 {
		return ""
	}
	return fmt.Sprintf("has %s, a pointer to an interface, but services are received as the interface itself; declare the field as %s (%s)", f.describe(), f.typ.Elem(), refs[0])
}

// implementsHint suggests the refs whose type is a near miss of t: a
// service whose interface implements t when t is an interface (such as
// core.RootConfig for core.Config), or the service interface that t, a
// concrete type, implements. It returns "" when there is none.
func implementsHint(t reflect.Type) string {
	if t.Kind() == reflect.Interface && t.NumMethod() == 0 {
		return "" // every service implements any
	}
	var wider, narrower []*refindex.Desc
	for _, d := range refindex.Default.All() {
		if d.ExtensionPoint || d.Elem == t || d.Elem.Kind() != reflect.Interface {
			continue
		}
		switch {
		case t.Kind() == reflect.Interface && d.Elem.Implements(t):
			wider = append(wider, d)
		case t.Kind() != reflect.Interface && d.Elem.NumMethod() > 0 && t.Implements(d.Elem):
			narrower = append(narrower, d)
		}
	}
	switch {
	case len(wider) > maxHints || len(narrower) > maxHints:
		return ""
	case len(wider) > 0:
		return fmt.Sprintf("did you mean %s, which implements %s? declare the field with that type", describeRefs(wider), t)
	case len(narrower) > 0:
		return fmt.Sprintf("%s is a concrete type, and a dependency names the service's interface: did you mean %s, which %s implements? declare the field with that type", t, describeRefs(narrower), t)
	}
	return ""
}

// describeRefs lists refs as "core.RootConfig (serviceRef{core.rootConfig},
// root scoped)", joined with "or".
func describeRefs(refs []*refindex.Desc) string {
	parts := make([]string, 0, len(refs))
	for _, d := range refs {
		parts = append(parts, fmt.Sprintf("%s (%s, %s scoped)", d.Type, d, d.Scope()))
	}
	return strings.Join(parts, " or ")
}

// rootCounterpartHint suggests, for a plugin service svc that a root
// service or root context cannot depend on, the root services that
// implement svc's interface (core.RootLogger for core.Logger), other than
// the service of the requester (self, nil for a root context), or "".
func rootCounterpartHint(svc, self *refindex.Desc) string {
	if svc.Elem.Kind() != reflect.Interface || svc.Elem.NumMethod() == 0 {
		return ""
	}
	var roots []*refindex.Desc
	for _, d := range refindex.Default.All() {
		if d != self && !d.ExtensionPoint && d.Root && d.Multiton == svc.Multiton && d.Elem.Implements(svc.Elem) {
			roots = append(roots, d)
		}
	}
	if len(roots) == 0 || len(roots) > maxHints {
		return ""
	}
	return fmt.Sprintf("; did you mean %s? declare the field with that type", describeRefs(roots))
}

// closestID returns the declared id nearest to id by edit distance, when it
// is near enough to be a typo, or "".
func closestID(id string) string {
	best, bestDist := "", max(2, len(id)/4)+1
	for _, d := range refindex.Default.All() {
		if dist := editDistance(strings.ToLower(id), strings.ToLower(d.ID)); dist < bestDist {
			best, bestDist = d.ID, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
