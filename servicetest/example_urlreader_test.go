package servicetest_test

import (
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/servicetest"
)

// A reader passes the suite by publishing files where it reads them: here
// the fake, whose files are set in memory. For the production reader, serve
// them with net/http/httptest, allow the server's host with AllowInternal,
// and serve trees as .tar.gz archives.
func ExampleTestURLReader() {
	servicetest.TestURLReader(t, func(t *testing.T) servicetest.URLReaderEnv {
		r := mockservices.URLReader(nil)
		return servicetest.URLReaderEnv{
			Reader: r,
			Publish: func(name, content string) string {
				r.Set("https://files.example/"+name, content)
				return "https://files.example/" + name
			},
			PublishTree: func(files map[string]string) string {
				for p, c := range files {
					r.Set("https://files.example/tree/"+p, c)
				}
				return "https://files.example/tree"
			},
			Missing: func() string { return "https://files.example/missing" },
		}
	})
}

// The fake passes the suite given the plugins; the backend's own service
// is checked the same way on a backend with those plugins added.
func ExampleTestInstanceMetadata() {
	servicetest.TestInstanceMetadata(t, func(_ *testing.T, plugins []core.InstalledPlugin) core.RootInstanceMetadata {
		return mockservices.InstanceMetadata(plugins...)
	})
}
