package mockservices_test

import (
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
)

// BenchmarkReadURL reads a 4 KiB file from the fake (the ETag is a
// SHA-256 of the content, computed on each read).
func BenchmarkReadURL(b *testing.B) {
	r := mockservices.URLReader(map[string]string{"https://example.com/file.yaml": strings.Repeat("x", 4<<10)})
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadURL(ctx, "https://example.com/file.yaml", core.ReadURLOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
