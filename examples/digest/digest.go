package digest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/httpjson"
)

// PluginID is the id the plugin is mounted under: /api/digest.
const PluginID = "digest"

// TodoPluginID is the id of the plugin the digest reads todos from.
const TodoPluginID = "todo"

// Plugin is the digest plugin. It needs the todo plugin in the same
// backend, or reachable through discovery.
var Plugin = backend.NewPlugin(PluginID, backend.Init(initPlugin))

// Summary is the body of GET /summary.
type Summary struct {
	// User is the entity ref of the calling user.
	User string `json:"user"`
	// Open and Completed count the user's todos not done and done.
	Open      int `json:"open"`
	Completed int `json:"completed"`
}

type deps struct {
	Config    core.RootConfig
	Router    core.HTTPRouter
	Logger    core.Logger
	HTTPAuth  core.HTTPAuth
	Auth      core.Auth
	Discovery core.Discovery
}

// maxTodoResponse bounds the body read from the todo plugin.
const maxTodoResponse = 8 << 20

func initPlugin(ctx context.Context, d deps) error {
	timeout, err := readTimeout(d.Config)
	if err != nil {
		return err
	}
	h := &handler{
		httpAuth:  d.HTTPAuth,
		auth:      d.Auth,
		discovery: d.Discovery,
		logger:    d.Logger,
		client:    &http.Client{Timeout: timeout},
	}
	d.Router.Handle("GET /summary", httpjson.Handler(h.summary))
	return nil
}

// readTimeout reads digest.todoTimeout (default 10s).
func readTimeout(cfg core.Config) (time.Duration, error) {
	const def = 10 * time.Second
	d, ok, err := cfg.OptionalDuration("digest.todoTimeout")
	switch {
	case err != nil:
		return 0, fmt.Errorf("plugin %s: %w", PluginID, err)
	case !ok:
		return def, nil
	case d <= 0:
		return 0, fmt.Errorf("plugin %s: config key \"digest.todoTimeout\": expected a positive duration such as \"10s\", got %v; remove the key for the default (%v)", PluginID, d, def)
	}
	return d, nil
}

type handler struct {
	httpAuth  core.HTTPAuth
	auth      core.Auth
	discovery core.Discovery
	logger    core.Logger
	client    *http.Client
}

func (h *handler) summary(w http.ResponseWriter, r *http.Request) error {
	creds, err := h.httpAuth.Credentials(r, core.PrincipalUser)
	if err != nil {
		return err
	}
	items, err := h.todos(r.Context(), creds)
	if err != nil {
		return err
	}
	s := Summary{User: creds.Principal.UserEntityRef}
	for _, it := range items {
		if it.Done {
			s.Completed++
		} else {
			s.Open++
		}
	}
	return httpjson.Write(w, http.StatusOK, s)
}

// todoItem is the part of a todo of the todo plugin that the digest reads.
type todoItem struct {
	Done bool `json:"done"`
}

// todos reads the todos of the user of creds from the todo plugin, with a
// token issued on the user's behalf.
func (h *handler) todos(ctx context.Context, creds core.Credentials) ([]todoItem, error) {
	user := creds.Principal.UserEntityRef
	base, err := h.discovery.BaseURL(ctx, TodoPluginID)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: discovering plugin %s: %w", PluginID, TodoPluginID, err)
	}
	token, err := h.auth.PluginRequestToken(ctx, creds, TodoPluginID)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: issuing a token for plugin %s on behalf of %s: %w", PluginID, TodoPluginID, user, err)
	}
	url := base + "/todos"
	// Errors show the route, not the internal URL, which only the log shows.
	route := "GET /api/" + TodoPluginID + "/todos"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: discovery gave plugin %s the URL %q: %w", PluginID, TodoPluginID, base, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the caller went away
		}
		return nil, &errs.Error{
			Name:    errs.ServiceUnavailable,
			Message: fmt.Sprintf("Plugin %s is unavailable: %s failed; check that plugin %s runs and is reachable at the URL discovery gives for it", TodoPluginID, route, TodoPluginID),
			Cause:   err,
		}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTodoResponse+1))
	if err != nil {
		return nil, &errs.Error{
			Name:    errs.ServiceUnavailable,
			Message: fmt.Sprintf("Plugin %s is unavailable: reading the answer of %s failed", TodoPluginID, route),
			Cause:   err,
		}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, todoError(resp.StatusCode, body, route, user)
	}
	if len(body) > maxTodoResponse {
		return nil, fmt.Errorf("plugin %s: plugin %s answered GET %s with more than %d bytes", PluginID, TodoPluginID, url, maxTodoResponse)
	}
	var list struct {
		Items []todoItem `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("plugin %s: decoding the answer of plugin %s to GET %s: %w", PluginID, TodoPluginID, url, err)
	}
	return list.Items, nil
}

// todoError maps an answer of the todo plugin other than 200 to the
// digest's error: 503 when todo is missing or failing, 500 when it refused
// the digest's request, which is the digest's (or the backend's
// configuration's) fault, not the user's.
func todoError(status int, body []byte, route, user string) error {
	msg := http.StatusText(status)
	var b errs.Body
	if json.Unmarshal(body, &b) == nil && b.Error.Message != "" {
		msg = b.Error.Message
	}
	cause := errors.New(strings.TrimSpace(string(body)))
	switch {
	case status == http.StatusNotFound:
		return &errs.Error{
			Name:    errs.ServiceUnavailable,
			Message: fmt.Sprintf("Plugin %s is unavailable: %s answered 404 (%s); check that plugin %s is installed in the backend", TodoPluginID, route, msg, TodoPluginID),
			Cause:   cause,
		}
	case status >= 500:
		return &errs.Error{
			Name:    errs.ServiceUnavailable,
			Message: fmt.Sprintf("Plugin %s is unavailable: %s answered %d (%s)", TodoPluginID, route, status, msg),
			Cause:   cause,
		}
	default:
		return &errs.Error{
			Name:    errs.Internal,
			Message: fmt.Sprintf("Plugin %s refused the request of plugin %s on behalf of %s: %s answered %d (%s); check the auth configuration of the backend", TodoPluginID, PluginID, user, route, status, msg),
			Cause:   cause,
		}
	}
}
