package cachekey

import "testing"

// Two different (plugin, key) pairs never give one store key.
func FuzzNamespacedIsInjective(f *testing.F) {
	f.Add("a", "b:c", "a:b", "c")
	f.Add("1", ":a", "1:", "a")
	f.Fuzz(func(t *testing.T, p1, k1, p2, k2 string) {
		if (p1 != p2 || k1 != k2) && Namespaced(p1, k1) == Namespaced(p2, k2) {
			t.Errorf("(%q, %q) and (%q, %q) both give %q", p1, k1, p2, k2, Namespaced(p1, k1))
		}
	})
}

func TestNamespaced(t *testing.T) {
	t.Parallel()
	if got, want := Namespaced("a", "b:c"), "1:a:b:c"; got != want {
		t.Errorf("Namespaced(a, b:c) = %q, want %q", got, want)
	}
	if got, want := Namespaced("a:b", "c"), "3:a:b:c"; got != want {
		t.Errorf("Namespaced(a:b, c) = %q, want %q", got, want)
	}
}
