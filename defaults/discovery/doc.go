// Package discovery is the production implementation of the core.discovery
// service: where each plugin's HTTP API can be reached.
//
// By default every plugin is served by this backend. Its internal base URL,
// for calls between backends, is
//
//	http://<host>:<port>/api/<pluginId>
//
// where <host> is backend.listen.host rewritten to something a client can
// dial ("" and "::" become localhost, "0.0.0.0" becomes 127.0.0.1, other
// IPv6 addresses are bracketed), and <port> is the port the backend
// listens on: the bound port when the root HTTP router reports one through
// an Addr() net.Addr method (so backend.listen.port: 0 works), else
// backend.listen.port (default 7007). The external base URL, for callers
// outside the backend, is backend.baseUrl (default http://localhost:<port>)
// followed by /api/<pluginId>.
//
// discovery.endpoints overrides both for listed plugins; the first entry
// that lists a plugin wins:
//
//	discovery:
//	  endpoints:
//	    - target: http://catalog.internal:7007/api/{{pluginId}}
//	      plugins: [catalog, search]
//	    - target:
//	        internal: http://scaffolder.internal/api/{{pluginId}}
//	        external: https://greenroom.example.com/api/{{pluginId}}
//	      plugins: [scaffolder]
//
// {{pluginId}} (or {{ pluginId }}) in a target is replaced with the plugin
// id. An object target may give only internal or only external; the other
// keeps its default. URLs never end in "/".
//
// [Discovery.HasEndpoint] tells the listed plugins (with an internal
// target) from the others. Only listed plugins can run in another backend,
// so the auth service fetches public keys for those only.
//
// Discovery is one object per backend, shared by the plugin-scoped service
// that [Factory] provides.
package discovery
