package servicetest

import (
	"testing"

	"github.com/greenroom-dev/greenroom/errs"
)

// checkErr reports whether err is an *errs.Error of kind name and, if msg
// is not empty, has exactly that message; contract names the broken rule.
func checkErr(t *testing.T, contract string, err error, name errs.Name, msg string) {
	t.Helper()
	e, ok := errs.As(err)
	switch {
	case err == nil:
		t.Errorf("%s: got no error, want %s", contract, name)
	case !ok || e.Name != name:
		t.Errorf("%s: got error %v, want an errs %s", contract, err, name)
	case msg != "" && e.Message != msg:
		t.Errorf("%s: got %s message %q, want %q", contract, name, e.Message, msg)
	}
}
