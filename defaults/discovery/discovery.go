package discovery

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Discovery implements [core.Discovery] from configuration. It is safe for
// concurrent use.
type Discovery struct {
	host    string // dialable host, bracketed if IPv6
	port    int    // backend.listen.port
	baseURL string // backend.baseUrl without a trailing "/", or ""
	// addr reports the bound listener address, or nil before it is bound.
	addr      func() net.Addr
	endpoints []endpoint
}

var _ core.Discovery = (*Discovery)(nil)

// endpoint is one entry of discovery.endpoints. An empty template keeps
// the default URL.
type endpoint struct {
	internal, external string
	plugins            map[string]bool
}

// Addresser is implemented by root HTTP routers that can report the
// address their listener is bound to; Addr returns nil until it is bound.
type Addresser interface {
	Addr() net.Addr
}

// New returns the discovery described by cfg (see the package
// documentation). router may be nil; if it implements [Addresser], its bound
// port is used. Configuration errors name the key.
func New(cfg core.Config, router core.RootHTTPRouter) (*Discovery, error) {
	d := &Discovery{}
	if a, ok := router.(Addresser); ok {
		d.addr = a.Addr
	}
	host, _, err := cfg.OptionalString("backend.listen.host")
	if err != nil {
		return nil, err
	}
	d.host = dialHost(host)
	port, ok, err := cfg.OptionalInt("backend.listen.port")
	if err != nil {
		return nil, err
	}
	if !ok {
		port = 7007
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("config key %q: port %d is out of range; use 0 to 65535", "backend.listen.port", port)
	}
	d.port = port
	if base, ok, err := cfg.OptionalString("backend.baseUrl"); err != nil {
		return nil, err
	} else if ok {
		if err := checkURL(base); err != nil {
			return nil, fmt.Errorf("config key %q: %w", "backend.baseUrl", err)
		}
		d.baseURL = strings.TrimRight(base, "/")
	}
	entries, err := cfg.SubList("discovery.endpoints")
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		ep, err := parseEndpoint(e, fmt.Sprintf("discovery.endpoints[%d]", i))
		if err != nil {
			return nil, err
		}
		d.endpoints = append(d.endpoints, ep)
	}
	return d, nil
}

// dialHost turns a listen host into one a client can dial.
func dialHost(host string) string {
	switch host {
	case "", "::", "[::]":
		return "localhost"
	case "0.0.0.0":
		return "127.0.0.1"
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		return "[" + host + "]"
	}
	return host
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL, such as \"https://greenroom.example.com\"", s)
	}
	return nil
}

func parseEndpoint(e core.Config, key string) (endpoint, error) {
	ep := endpoint{plugins: map[string]bool{}}
	if target, err := e.String("target"); err == nil {
		ep.internal, ep.external = target, target
	} else if sub, subErr := e.Sub("target"); subErr == nil {
		if ep.internal, _, err = sub.OptionalString("internal"); err != nil {
			return ep, err
		}
		if ep.external, _, err = sub.OptionalString("external"); err != nil {
			return ep, err
		}
		if ep.internal == "" && ep.external == "" {
			return ep, fmt.Errorf("config key %q: give internal, external or both", key+".target")
		}
	} else if e.Has("target") {
		return ep, fmt.Errorf("config key %q: expected a URL string or an object with internal and external URLs", key+".target")
	} else {
		return ep, err
	}
	for _, t := range []struct{ name, v string }{{"internal", ep.internal}, {"external", ep.external}} {
		if t.v == "" {
			continue
		}
		if err := checkURL(expand(t.v, "plugin")); err != nil {
			k := key + ".target"
			if ep.internal != ep.external {
				k += "." + t.name
			}
			return ep, fmt.Errorf("config key %q: %w", k, err)
		}
	}
	plugins, err := e.Strings("plugins")
	if err != nil {
		return ep, err
	}
	if len(plugins) == 0 {
		return ep, fmt.Errorf("config key %q: list the ids of the plugins this target serves", key+".plugins")
	}
	for _, p := range plugins {
		ep.plugins[p] = true
	}
	return ep, nil
}

var templateRE = regexp.MustCompile(`\{\{\s*pluginId\s*\}\}`)

func expand(template, pluginID string) string {
	return strings.TrimRight(templateRE.ReplaceAllLiteralString(template, pluginID), "/")
}

// idPattern is the pattern of plugin ids, as in package backend.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func checkID(pluginID string) error {
	if !idPattern.MatchString(pluginID) {
		return fmt.Errorf("discovery: invalid plugin id %q: ids are lower-case letters and digits in dash-separated words, starting with a letter", pluginID)
	}
	return nil
}

// BaseURL returns the internal base URL of the plugin, for calls from
// other backends and plugins.
func (d *Discovery) BaseURL(ctx context.Context, pluginID string) (string, error) {
	if err := checkID(pluginID); err != nil {
		return "", err
	}
	if target, ok := d.internalTarget(pluginID); ok {
		return expand(target, pluginID), nil
	}
	port, err := d.listenPort()
	if err != nil {
		return "", err
	}
	return "http://" + d.host + ":" + strconv.Itoa(port) + "/api/" + pluginID, nil
}

// HasEndpoint reports whether discovery.endpoints gives pluginID an
// internal target. Every other plugin id gets the default URL, on this
// backend, so only these plugins can run in another backend. The auth
// service asks before it fetches the public keys of a plugin that is not
// in its own backend (it implements auth.PluginEndpoints), so that tokens
// naming made-up plugins cost no outbound request.
func (d *Discovery) HasEndpoint(ctx context.Context, pluginID string) bool {
	_, ok := d.internalTarget(pluginID)
	return ok
}

// internalTarget returns the internal target that discovery.endpoints
// gives pluginID, if any.
func (d *Discovery) internalTarget(pluginID string) (string, bool) {
	for _, e := range d.endpoints {
		if e.plugins[pluginID] && e.internal != "" {
			return e.internal, true
		}
	}
	return "", false
}

// ExternalBaseURL returns the base URL of the plugin for callers outside
// the backend, such as browsers.
func (d *Discovery) ExternalBaseURL(ctx context.Context, pluginID string) (string, error) {
	if err := checkID(pluginID); err != nil {
		return "", err
	}
	for _, e := range d.endpoints {
		if e.plugins[pluginID] && e.external != "" {
			return expand(e.external, pluginID), nil
		}
	}
	if d.baseURL != "" {
		return d.baseURL + "/api/" + pluginID, nil
	}
	port, err := d.listenPort()
	if err != nil {
		return "", err
	}
	return "http://localhost:" + strconv.Itoa(port) + "/api/" + pluginID, nil
}

// listenPort is the bound port if the router reports one, else the
// configured port.
func (d *Discovery) listenPort() (int, error) {
	if d.addr != nil {
		if a := d.addr(); a != nil {
			if tcp, ok := a.(*net.TCPAddr); ok {
				return tcp.Port, nil
			}
			if _, p, err := net.SplitHostPort(a.String()); err == nil {
				if n, err := strconv.Atoi(p); err == nil {
					return n, nil
				}
			}
		}
	}
	if d.port == 0 {
		return 0, fmt.Errorf("discovery: config key %q is 0 (any free port) and the root HTTP router has not reported the port it bound yet; ask for URLs once the backend has started, or set a fixed port", "backend.listen.port")
	}
	return d.port, nil
}

// Factory returns the factory of the core.discovery service. One
// [Discovery], built by [New] from the root config and the root HTTP
// router, serves every plugin.
func Factory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.DiscoveryRef,
		func(ctx context.Context, deps struct {
			Config core.RootConfig
			Router core.RootHTTPRouter
		}) (*Discovery, error) {
			return New(deps.Config, deps.Router)
		},
		func(ctx context.Context, d *Discovery, _ struct{}) (core.Discovery, error) {
			return d, nil
		})
}
