// Package extension is the hook through which the opt-in packages under
// testbackend (such as testbackend/openapitest) add to a test backend
// without package testbackend importing them or their dependencies.
//
// Package testbackend registers, in its init, the function that makes a
// testbackend.Option of an [Extension]; an opt-in package, which imports
// testbackend and is therefore initialized after it, calls [Option].
// Being internal, the hook is promised to nobody outside testbackend.
package extension

import (
	"net/http"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
)

// Extension is an addition to the backends of a testbackend.Setup.
type Extension interface {
	// Add is called when the option is applied to a setup's settings;
	// added are the extensions applied before it, in order. Its error
	// fails the start of every backend of the setup.
	Add(added []Extension) error
	// Attach is called for every backend built with the option, from the
	// test's goroutine, before the backend starts. The cleanups it
	// registers with t run after the backend stopped.
	Attach(t testing.TB) Instance
}

// Instance is an [Extension] attached to one backend.
type Instance interface {
	// Wrap returns the handler of the backend's root router, h, wrapped:
	// every request to the backend, in-process or through its listener,
	// goes through it.
	Wrap(h http.Handler) http.Handler
	// Started is called once the backend started; its error fails the
	// start (the backend is then stopped).
	Started(b *backend.Backend) error
}

// newOption is set once, by package testbackend's init.
var newOption func(Extension) any

// Register sets the function that makes a testbackend.Option of an
// Extension. Package testbackend calls it once, in its init; a second
// call panics.
func Register(f func(Extension) any) {
	if newOption != nil {
		panic("testbackend/internal/extension: Register called twice")
	}
	newOption = f
}

// Option returns the testbackend.Option (as any: this package cannot name
// the type) that adds e to a setup.
func Option(e Extension) any {
	if newOption == nil {
		panic("testbackend/internal/extension: package testbackend is not initialized; import it")
	}
	return newOption(e)
}
