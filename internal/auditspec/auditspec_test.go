package auditspec_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/internal/auditspec"
)

// Regression: signatures, sessions, codes, passwd/pwd and jwt query
// parameters were recorded.
func TestRequestURLDropsSecrets(t *testing.T) {
	t.Parallel()
	secrets := []string{
		"sig", "signature", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token",
		"X-Goog-Signature", "X-Goog-Credential", "passwd", "pwd", "password", "jwt", "token",
		"access_token", "api_key", "apikey", "key", "secret", "session", "sessionid",
		"session_id", "code", "client_secret",
	}
	for _, name := range secrets {
		for _, n := range []string{name, strings.ToUpper(name), strings.ToLower(name)} {
			q := url.Values{n: {"s3cr3t"}, "page": {"2"}}
			r := httptest.NewRequest(http.MethodGet, "/api/todo/items?"+q.Encode(), nil)
			if got, want := auditspec.RequestURL(r), "/api/todo/items?page=2"; got != want {
				t.Errorf("RequestURL with %s = %q, want %q", n, got, want)
			}
		}
	}
	// Names that merely look alike are kept.
	r := httptest.NewRequest(http.MethodGet, "/a?page=2&sort=title&q=codec", nil)
	if got, want := auditspec.RequestURL(r), "/a?page=2&q=codec&sort=title"; got != want {
		t.Errorf("RequestURL = %q, want %q", got, want)
	}
}

func TestRequestURLDropsUserInfoAndHost(t *testing.T) {
	t.Parallel()
	// A request in absolute form, as a proxy receives it.
	r := httptest.NewRequest(http.MethodGet, "/a", nil)
	r.RequestURI = "http://alice:s3cr3t@example.com/api/todo/items?page=2&sig=abc"
	if got, want := auditspec.RequestURL(r), "/api/todo/items?page=2"; got != want {
		t.Errorf("RequestURL = %q, want %q", got, want)
	}
	r = httptest.NewRequest(http.MethodGet, "/a", nil)
	r.RequestURI = ""
	r.URL = &url.URL{Scheme: "https", User: url.UserPassword("alice", "s3cr3t"), Host: "example.com", Path: "/x", RawQuery: "code=abc"}
	if got, want := auditspec.RequestURL(r), "/x"; got != want {
		t.Errorf("RequestURL = %q, want %q", got, want)
	}
}
