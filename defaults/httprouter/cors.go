package httprouter

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/rs/cors"
)

// DefaultCORSMethods are the methods allowed cross-origin when
// backend.cors.methods is not set.
var DefaultCORSMethods = []string{http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPost, http.MethodPut, http.MethodDelete}

// CORSOptions configures cross-origin resource sharing on the root router
// (see [RootOptions]). The CORS rules themselves are github.com/rs/cors's.
//
// A preflight request (OPTIONS with Access-Control-Request-Method) from an
// allowed origin, for an allowed method and headers, is answered 204 with
// the CORS headers, without credentials: browsers send none with it. Any
// other preflight is not answered by CORS: it goes on through the chain
// like any request, so a plugin's auth barrier answers it 401 unless an
// auth policy opens the path. Other requests from an allowed origin get
// Access-Control-Allow-Origin (and the other CORS response headers) on
// whatever the chain answers.
type CORSOptions struct {
	// AllowedOrigins are the origins allowed, such as
	// "https://app.example.com"; one "*" in an origin is a wildcard
	// ("https://*.example.com"), and "*" alone allows every origin.
	AllowedOrigins []string
	// AllowedMethods are the methods allowed; empty means
	// [DefaultCORSMethods].
	AllowedMethods []string
	// AllowedHeaders are the request headers allowed besides the
	// CORS-safelisted ones; "*" allows any. Empty allows any header a
	// preflight asks for, Authorization included, as Backstage does.
	AllowedHeaders []string
	// ExposedHeaders are the response headers scripts may read besides
	// the CORS-safelisted ones.
	ExposedHeaders []string
	// AllowCredentials lets browsers send cookies and authorization
	// headers cross-origin.
	AllowCredentials bool
	// MaxAge is how long browsers may cache a preflight's answer; it is
	// sent in whole seconds. Zero sends none.
	MaxAge time.Duration
}

// handler returns next behind CORS.
func (o *CORSOptions) handler(next http.Handler) http.Handler {
	methods := o.AllowedMethods
	if len(methods) == 0 {
		methods = DefaultCORSMethods
	}
	headers := o.AllowedHeaders
	if len(headers) == 0 {
		// rs/cors would allow only a few headers, not Authorization;
		// Backstage's cors package reflects the requested ones.
		headers = []string{"*"}
	}
	c := cors.New(cors.Options{
		AllowedOrigins:   o.AllowedOrigins,
		AllowedMethods:   methods,
		AllowedHeaders:   headers,
		ExposedHeaders:   o.ExposedHeaders,
		AllowCredentials: o.AllowCredentials,
		MaxAge:           int(o.MaxAge / time.Second),
		// rs/cors answers every preflight itself, allowed or not; with
		// passthrough it only sets the headers of an allowed one, and
		// the handler below answers those and passes the others on.
		OptionsPassthrough: true,
	})
	return c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPreflight(r) && w.Header().Get("Access-Control-Allow-Origin") != "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// CORSOptionsFromConfig reads the CORS settings under backend.cors, with
// the keys of Backstage: origin (a string or a list), methods,
// allowedHeaders and exposedHeaders (strings or lists), credentials (a
// boolean) and maxAge (a duration, or whole seconds). As in Backstage,
// without methods the [DefaultCORSMethods] are allowed, and without
// allowedHeaders any header a preflight asks for. It returns nil when
// backend.cors is not set: no CORS.
func CORSOptionsFromConfig(cfg core.Config) (*CORSOptions, error) {
	sub, ok, err := cfg.OptionalSub("backend.cors")
	if err != nil || !ok {
		return nil, err
	}
	o := &CORSOptions{}
	for _, f := range []struct {
		key  string
		dest *[]string
	}{
		{"origin", &o.AllowedOrigins},
		{"methods", &o.AllowedMethods},
		{"allowedHeaders", &o.AllowedHeaders},
		{"exposedHeaders", &o.ExposedHeaders},
	} {
		if *f.dest, err = config.StringOrList(sub, f.key); err != nil {
			return nil, err
		}
	}
	if len(o.AllowedOrigins) == 0 {
		return nil, fmt.Errorf("config key backend.cors.origin is missing or empty; list the origins allowed, such as https://app.example.com, or remove backend.cors")
	}
	// An empty origin (say, from an unset environment variable) matches
	// no request: CORS would be on in name and allow nothing.
	if slices.ContainsFunc(o.AllowedOrigins, func(s string) bool { return strings.TrimSpace(s) == "" }) {
		return nil, fmt.Errorf("config key backend.cors.origin has an empty origin; list the origins allowed, such as https://app.example.com, or remove backend.cors")
	}
	if o.AllowCredentials, _, err = sub.OptionalBool("credentials"); err != nil {
		return nil, err
	}
	// Browsers refuse a credentialed response whose allowed origin is "*",
	// and answering with whatever origin asked instead would let every
	// site on the web call the backend as the signed-in user: refuse the
	// combination rather than start with CORS broken or wide open.
	if o.AllowCredentials && slices.Contains(o.AllowedOrigins, "*") {
		return nil, errors.New(`config key backend.cors.origin is "*" while backend.cors.credentials is true; browsers refuse credentialed responses to any origin: list the origins allowed, such as https://app.example.com, or set credentials to false`)
	}
	maxAge, ok, err := sub.OptionalDuration("maxAge")
	switch {
	case err != nil:
		return nil, err
	case ok && maxAge < 0:
		return nil, fmt.Errorf("config key backend.cors.maxAge is %s; use a duration of 0 or more, such as 10m or 600", maxAge)
	}
	o.MaxAge = maxAge
	return o, nil
}
