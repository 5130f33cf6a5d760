package scaffold

import (
	"regexp"
	"testing"
)

// FuzzValidIDFollowsThePattern checks validID, a copy of package backend's
// check, against the documented pattern, so that the scaffolder never
// accepts an id the backend refuses or the reverse.
func FuzzValidIDFollowsThePattern(f *testing.F) {
	pattern := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	for _, s := range []string{"", "a", "demo", "tech-radar", "a1-b2-c3", "Demo_1", "1a", "-a", "a-", "a--b", "a-B", "é", "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validID(s), pattern.MatchString(s); got != want {
			t.Errorf("validID(%q) = %v, want %v", s, got, want)
		}
	})
}
