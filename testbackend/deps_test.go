package testbackend_test

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// openAPIDeps matches the packages the OpenAPI contract check brings: they
// belong to the opt-in package testbackend/openapitest, not to the build of
// every plugin test.
var openAPIDeps = regexp.MustCompile(`getkin/kin-openapi|gorilla/mux|santhosh-tekuri/jsonschema|go-openapi/|go\.yaml\.in/yaml/v4|invopop/yaml|mohae/deepcopy|perimeterx/marshmallow|oasdiff/yaml`)

// goListDeps returns the packages `go list -deps` lists for the packages,
// run at the module's root.
func goListDeps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...)
	cmd.Dir = ".." // the module's root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", strings.Join(pkgs, " "), err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list -deps %s listed %d packages: %q", strings.Join(pkgs, " "), len(deps), out)
	}
	return deps
}

// Importing testbackend compiles no OpenAPI library: a plugin's tests pay
// for kin-openapi only when they import testbackend/openapitest.
func TestNoOpenAPILibraryInTestbackend(t *testing.T) {
	t.Parallel()
	pkgs := []string{"./testbackend", "./testbackend/internal/...", "./mockservices", "./examples/todo"}
	for _, p := range goListDeps(t, pkgs...) {
		if openAPIDeps.MatchString(p) {
			t.Errorf("go list -deps %s: %s is in the build; keep the OpenAPI check in testbackend/openapitest", strings.Join(pkgs, " "), p)
		}
	}
}

// The pattern of TestNoOpenAPILibraryInTestbackend matches what the
// opt-in package compiles, so that the test can fail.
func TestOpenAPILibraryInOpenapitest(t *testing.T) {
	t.Parallel()
	var matched []string
	for _, p := range goListDeps(t, "./testbackend/openapitest") {
		if openAPIDeps.MatchString(p) {
			matched = append(matched, p)
		}
	}
	for _, want := range []string{"github.com/getkin/kin-openapi/openapi3", "github.com/gorilla/mux", "github.com/santhosh-tekuri/jsonschema/v6", "go.yaml.in/yaml/v4"} {
		if !slices.Contains(matched, want) {
			t.Errorf("go list -deps ./testbackend/openapitest: %s is not matched by the pattern (matched: %q)", want, matched)
		}
	}
}
