package httpcreds

import (
	"regexp"
	"testing"
)

// bearerPattern is the reading of the Authorization header that
// BearerToken implements without a regular expression.
var bearerPattern = regexp.MustCompile(`(?i)^Bearer +(\S+)$`)

// FuzzBearerTokenReadsLikeThePattern checks BearerToken against the
// production pattern; go test runs the seeds below, go test -fuzz more.
func FuzzBearerTokenReadsLikeThePattern(f *testing.F) {
	headers := []string{
		"", "Bearer", "Bearer ", "Bearer  ", "Bearer x", "bearer x", "BEARER x", "bEaReR x",
		"Bearer   spaced", "Bearer\tx", "Bearer x y", "Bearer x ", "Bearer x\n", "Bearer x\t",
		"Bearerx", "Bearer: x", "Basic x", " Bearer x", "Bearer mock-user-token",
		`Bearer mock-user-token:{"sub":"user:default/alice"}`, "Bearer é", "Bearer \u00a0x",
		"Bearer x\u00a0y", "Bearer \xff", "Beare\u212a x", "Bearer \x00", "Bearer x\f", "Bearer x\r",
		"Bearer\u00a0x", "Bearer " + string(rune(0x2028)),
	}
	for _, h := range headers {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		want, wantOK := "", false
		if m := bearerPattern.FindStringSubmatch(h); m != nil {
			want, wantOK = m[1], true
		}
		if got, ok := BearerToken(h); got != want || ok != wantOK {
			t.Errorf("BearerToken(%q) = %q, %v; the pattern reads %q, %v", h, got, ok, want, wantOK)
		}
	})
}
