// Package refgen counts the declarations of service refs and extension
// points (package core's ref index), so that a cache of what Go types
// resolve to, such as package backend's analysis of dependency structs,
// can tell when a new declaration may have changed the answer. It is
// promised to nobody outside Greenroom.
//
// The count is process-wide because the ref index it describes is: refs are
// declared in package-level variables, so in practice it changes while
// packages initialize and only rarely afterwards (a test or an example
// declaring a ref in a function).
package refgen

import "sync/atomic"

var n atomic.Uint64

// Declared records that a ref or extension point was added to the index.
func Declared() { n.Add(1) }

// Current returns the number of declarations so far. A cached answer
// computed at generation g is still valid while Current() == g.
func Current() uint64 { return n.Load() }
