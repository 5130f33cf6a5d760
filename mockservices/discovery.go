package mockservices

import (
	"context"
	"strings"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// defaultDiscoveryBaseURL is the base URL of [Discovery] when none is
// given. Port 0 cannot be connected to, so a request that a test forgot to
// serve fails at once instead of reaching a real server.
const defaultDiscoveryBaseURL = "http://localhost:0"

// DiscoveryService is a fake [core.Discovery] that records its calls.
type DiscoveryService struct {
	recorder
	baseURL func() string
}

var _ core.Discovery = (*DiscoveryService)(nil)

// Discovery returns a fake discovery service that places every plugin at
// <baseURL>/api/<pluginId>, for internal and external callers alike. An
// empty baseURL means "http://localhost:0", where no server can listen, so
// that a request a test forgot to serve fails at once; a trailing slash is
// dropped.
func Discovery(baseURL string) *DiscoveryService {
	return &DiscoveryService{baseURL: func() string { return baseURL }}
}

// BaseURL implements [core.Discovery].
func (d *DiscoveryService) BaseURL(ctx context.Context, pluginID string) (string, error) {
	u, err := d.url(pluginID)
	d.record(err, "BaseURL", pluginID)
	return u, err
}

// ExternalBaseURL implements [core.Discovery].
func (d *DiscoveryService) ExternalBaseURL(ctx context.Context, pluginID string) (string, error) {
	u, err := d.url(pluginID)
	d.record(err, "ExternalBaseURL", pluginID)
	return u, err
}

func (d *DiscoveryService) url(pluginID string) (string, error) {
	if pluginID == "" || strings.ContainsAny(pluginID, "/?#") {
		return "", errs.NewInput("invalid plugin ID %q for discovery: use the plugin's id, such as \"catalog\"", pluginID)
	}
	base := d.baseURL()
	if base == "" {
		base = defaultDiscoveryBaseURL
	}
	return strings.TrimRight(base, "/") + "/api/" + pluginID, nil
}
