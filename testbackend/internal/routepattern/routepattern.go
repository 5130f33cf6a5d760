// Package routepattern reads the route patterns of core.RouteLister, for
// the packages of testbackend that sweep, fuzz or check routes.
package routepattern

import "strings"

// Split splits a net/http ServeMux pattern such as "GET /todos/{id}" into
// its method ("" when it has none) and its path; a host in the pattern is
// dropped.
func Split(pattern string) (method, path string) {
	method, path, found := strings.Cut(strings.TrimSpace(pattern), " ")
	if !found {
		method, path = "", method
	}
	path = strings.TrimSpace(path)
	if i := strings.Index(path, "/"); i > 0 {
		path = path[i:] // a host pattern: keep the path
	}
	return method, path
}
