package refgen_test

import (
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/internal/refgen"
)

func TestDeclaredAdvancesCurrent(t *testing.T) {
	before := refgen.Current()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(refgen.Declared)
	}
	wg.Wait()
	if got := refgen.Current(); got < before+8 {
		t.Errorf("Current() = %d after 8 declarations from %d, want at least %d", got, before, before+8)
	}
}
