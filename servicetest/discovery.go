package servicetest

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
)

// TestDiscovery checks an implementation of [core.Discovery]: both URLs of
// a plugin are absolute http(s) URLs that end in /api/<pluginId> without a
// trailing slash.
func TestDiscovery(t *testing.T, newDiscovery func(t *testing.T) core.Discovery) {
	t.Helper()
	ctx := context.Background()
	methods := []struct {
		name string
		fn   func(d core.Discovery, pluginID string) (string, error)
	}{
		{"BaseURL", func(d core.Discovery, id string) (string, error) { return d.BaseURL(ctx, id) }},
		{"ExternalBaseURL", func(d core.Discovery, id string) (string, error) { return d.ExternalBaseURL(ctx, id) }},
	}
	for _, m := range methods {
		t.Run(m.name+" is an absolute URL ending in /api/<pluginId>", func(t *testing.T) {
			d := newDiscovery(t)
			for _, id := range []string{"catalog", "todo-list"} {
				got, err := m.fn(d, id)
				if err != nil {
					t.Errorf("%s(%q) = %v", m.name, id, err)
					continue
				}
				u, err := url.Parse(got)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					t.Errorf("%s(%q) = %q, want an absolute http(s) URL", m.name, id, got)
				}
				if !strings.HasSuffix(got, "/api/"+id) {
					t.Errorf("%s(%q) = %q, want it to end in /api/%s without a trailing slash", m.name, id, got, id)
				}
			}
		})
	}
}
