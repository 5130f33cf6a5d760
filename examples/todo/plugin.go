package todo

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/httpjson"
	"github.com/greenroom-dev/greenroom/migrate"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations are the plugin's database migrations, which it applies at
// start. Tests start their databases from them with
// testdatabases.WithMigrator(todo.Migrations); the plugin then finds
// nothing left to apply.
var Migrations = migrate.Migrator(migrationFiles, "migrations")

// PluginID is the id the plugin is mounted under: /api/todo.
const PluginID = "todo"

// Plugin is the todo plugin. Add it to a backend with backend.Add or
// testbackend.Start.
var Plugin = backend.NewPlugin(PluginID,
	backend.ProvideExtensionPoint(ValidatorsExtensionPoint, newValidators),
	backend.Init(initPlugin))

type deps struct {
	Config    core.RootConfig
	Router    core.HTTPRouter
	Logger    core.Logger
	Database  core.Database
	HTTPAuth  core.HTTPAuth
	UserInfo  core.UserInfo
	Scheduler core.Scheduler
	// Cache holds todos read by id, so that repeated reads skip the
	// database; the database stays the source of truth.
	Cache core.Cache
	// Permissions decides who may delete a todo (see DeletePermission).
	Permissions core.Permissions
	// Auditor records every delete, allowed or not, and every purge.
	Auditor core.Auditor
	Auth    core.Auth
	// Validators holds the title validators that modules added through
	// ValidatorsExtensionPoint; the plugin inits after its modules.
	Validators Validators
}

// ResourceType is the permission resource type of a todo; a todo's
// resource ref is "todo-item:<id>".
const ResourceType = "todo-item"

// DeletePermission is the permission to delete a todo. The plugin asks the
// permissions service for it on every delete and evaluates a conditional
// decision with the rule core.IsOwnerRule: a todo satisfies it when its
// owner is among the rule's claims. With the production default policy,
// the owner and the members of a group listed in permission.admins may
// delete a todo, and nobody else.
var DeletePermission = core.Permission{Name: "todo.item.delete", Action: core.ActionDelete, ResourceType: ResourceType}

// The audit event ids of the plugin.
const (
	AuditDelete = "todo-delete" // a user asked to delete a todo
	AuditPurge  = "todo-purge"  // the purge task deleted completed todos
)

// PurgeTaskID is the ID of the scheduled task that deletes the todos
// completed long ago.
const PurgeTaskID = "purge-completed"

// purgeConfig is the schedule of the purge task, from the config keys
// todo.purge.*.
type purgeConfig struct {
	completedOlderThan time.Duration // todo.purge.completedOlderThan
	frequency          time.Duration // todo.purge.frequency
	timeout            time.Duration // todo.purge.timeout
}

// readPurgeConfig reads todo.purge.completedOlderThan (default 720h, 30
// days), todo.purge.frequency (default 1h) and todo.purge.timeout (default
// 1m): durations such as "12h" or whole numbers of seconds, all positive.
func readPurgeConfig(cfg core.Config) (purgeConfig, error) {
	c := purgeConfig{completedOlderThan: 720 * time.Hour, frequency: time.Hour, timeout: time.Minute}
	purge, ok, err := cfg.OptionalSub("todo.purge")
	if err != nil || !ok {
		return c, err
	}
	for _, f := range []struct {
		key string
		v   *time.Duration
	}{
		{"completedOlderThan", &c.completedOlderThan},
		{"frequency", &c.frequency},
		{"timeout", &c.timeout},
	} {
		d, ok, err := purge.OptionalDuration(f.key)
		switch {
		case err != nil:
			return purgeConfig{}, err
		case ok && d <= 0:
			return purgeConfig{}, fmt.Errorf("config key \"todo.purge.%s\": expected a positive duration such as \"1h\", got %v; remove the key for the default (%v)", f.key, d, *f.v)
		case ok:
			*f.v = d
		}
	}
	return c, nil
}

// readCacheTTL reads todo.cache.ttl (default 1m): how long a todo read by
// id stays in the cache. With several instances and an in-memory cache, an
// instance may serve a todo changed through another for that long; a
// shared cache (backend.cache.store: redis) does not.
func readCacheTTL(cfg core.Config) (time.Duration, error) {
	const def = time.Minute
	d, ok, err := cfg.OptionalDuration("todo.cache.ttl")
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return def, nil
	case d <= 0:
		return 0, fmt.Errorf("config key \"todo.cache.ttl\": expected a positive duration such as \"1m\", got %v; remove the key for the default (%v)", d, def)
	}
	return d, nil
}

func initPlugin(ctx context.Context, d deps) error {
	purge, err := readPurgeConfig(d.Config)
	if err != nil {
		return err
	}
	cacheTTL, err := readCacheTTL(d.Config)
	if err != nil {
		return err
	}
	if err := migrate.Up(ctx, d.Database, migrationFiles, migrate.Dir("migrations")); err != nil {
		return fmt.Errorf("migrate the todo database: %w", err)
	}
	db, err := d.Database.DB(ctx)
	if err != nil {
		return err
	}
	validators, err := sealValidators(d.Validators)
	if err != nil {
		return err
	}
	h := &handlers{
		store:      &store{db: db, dialect: d.Database.Dialect(), now: time.Now},
		logger:     d.Logger,
		httpAuth:   d.HTTPAuth,
		userInfo:   d.UserInfo,
		cache:      d.Cache.WithDefaultTTL(cacheTTL),
		perms:      d.Permissions,
		auditor:    d.Auditor,
		auth:       d.Auth,
		validators: validators,
	}
	err = d.Scheduler.ScheduleTask(ctx, core.Task{
		ID:        PurgeTaskID,
		Frequency: core.Every(purge.frequency),
		Timeout:   purge.timeout,
		Scope:     core.ScopeGlobal, // one instance purges the shared database
		Fn:        func(ctx context.Context) error { return h.purgeCompleted(ctx, purge.completedOlderThan) },
	})
	if err != nil {
		return fmt.Errorf("schedule the task %s: %w", PurgeTaskID, err)
	}
	d.Router.Handle("GET /health", httpjson.Handler(h.health))
	d.Router.Handle("GET /todos", httpjson.Handler(h.list))
	d.Router.Handle("POST /todos", httpjson.Handler(h.create))
	d.Router.Handle("GET /todos/{id}", httpjson.Handler(h.get))
	d.Router.Handle("PATCH /todos/{id}", httpjson.Handler(h.update))
	d.Router.Handle("DELETE /todos/{id}", httpjson.Handler(h.delete))
	d.Router.AddAuthPolicy("/health", core.AllowUnauthenticated)
	return nil
}

type handlers struct {
	store    *store
	logger   core.Logger
	httpAuth core.HTTPAuth
	userInfo core.UserInfo
	cache    core.Cache
	perms    core.Permissions
	auditor  core.Auditor
	auth     core.Auth
	// validators check titles on create and rename, in order.
	validators []namedValidator
}

// The validation matches the columns of migrations/*, so that every engine
// stores what passes it and refuses nothing with a 500: title is
// VARCHAR(200), and max counts characters (runes) as VARCHAR does on
// PostgreSQL and on MySQL/MariaDB with utf8mb4. httpjson.Decode refuses NUL,
// which PostgreSQL cannot store, and invalid UTF-8. The owner column,
// VARCHAR(255), holds any user entity ref: refs longer than
// core.MaxEntityRefLength (255) are refused when credentials are read.

// createRequest is the body of POST /todos.
type createRequest struct {
	Title string `json:"title" validate:"required,min=1,max=200"`
	Done  bool   `json:"done"`
}

// updateRequest is the body of PATCH /todos/{id}; absent fields are kept.
type updateRequest struct {
	Title *string `json:"title" validate:"omitnil,min=1,max=200"`
	Done  *bool   `json:"done"`
}

// normalizeTitle trims white space around a title, so that "milk " is a
// duplicate of "milk" on every engine (MySQL's collations ignore trailing
// spaces when comparing). A title that is only white space is refused.
func normalizeTitle(title string) (string, error) {
	t := strings.TrimSpace(title)
	if t == "" {
		return "", &errs.Error{
			Name:    errs.Input,
			Message: "Invalid request body: title must not be blank",
			Details: []httpjson.FieldError{{Field: "title", Message: "must not be blank"}},
		}
	}
	return t, nil
}

// purgeCompleted deletes the todos completed more than olderThan ago.
func (h *handlers) purgeCompleted(ctx context.Context, olderThan time.Duration) error {
	cutoff := h.store.now().Add(-olderThan)
	self := h.auth.OwnServiceCredentials()
	ev, err := h.auditor.CreateEvent(ctx, core.AuditEventOptions{
		EventID:     AuditPurge,
		Severity:    core.SeverityMedium,
		Credentials: &self,
		Meta:        map[string]any{"completedBefore": cutoff.UTC().Format(time.RFC3339)},
	})
	if err != nil {
		return err
	}
	n, ids, err := h.store.purgeCompleted(ctx, cutoff)
	for _, id := range ids {
		h.uncache(ctx, id)
	}
	if err != nil {
		ev.Fail(ctx, err, map[string]any{"count": n})
		return err
	}
	ev.Success(ctx, map[string]any{"count": n})
	h.logger.Info("purged completed todos", "count", n, "completedBefore", cutoff.UTC().Format(time.RFC3339))
	return nil
}

// cachedTodo is a todo in the cache, with its owner.
type cachedTodo struct {
	Owner string `json:"owner"`
	Todo  Todo   `json:"todo"`
}

func cacheKey(id int64) string { return "item:" + strconv.FormatInt(id, 10) }

// find returns the todo id and its owner, from the cache when it holds
// them. The cache is not the source of truth: an error reading or writing
// it is logged and the database answers.
func (h *handlers) find(ctx context.Context, id int64) (Todo, string, error) {
	c, ok, err := core.GetJSON[cachedTodo](ctx, h.cache, cacheKey(id))
	if err != nil {
		h.logger.Warn("reading the todo cache failed; reading the database", "id", id, "err", err)
	}
	if ok {
		return c.Todo, c.Owner, nil
	}
	t, owner, err := h.store.find(ctx, id)
	if err != nil {
		return Todo{}, "", err
	}
	if err := core.SetJSON(ctx, h.cache, cacheKey(id), cachedTodo{Owner: owner, Todo: t}, 0); err != nil {
		h.logger.Warn("writing the todo cache failed", "id", id, "err", err)
	}
	return t, owner, nil
}

// uncache drops the todo id from the cache after it changed. A failure is
// logged: the entry then expires after todo.cache.ttl.
func (h *handlers) uncache(ctx context.Context, id int64) {
	if err := h.cache.Delete(ctx, cacheKey(id)); err != nil {
		h.logger.Warn("dropping a todo from the cache failed; it expires after todo.cache.ttl", "id", id, "err", err)
	}
}

func (h *handlers) health(w http.ResponseWriter, r *http.Request) error {
	return httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
}

// owner returns the entity ref of the calling user. Only users have todos:
// a service caller is refused with 403.
func (h *handlers) owner(r *http.Request) (string, error) {
	creds, err := h.httpAuth.Credentials(r, core.PrincipalUser)
	if err != nil {
		return "", err
	}
	info, err := h.userInfo.Get(r.Context(), creds)
	if err != nil {
		return "", err
	}
	return info.UserEntityRef, nil
}

// ownerAndID returns the calling user and the todo id of the path.
func (h *handlers) ownerAndID(r *http.Request) (string, int64, error) {
	owner, err := h.owner(r)
	if err != nil {
		return "", 0, err
	}
	id, err := todoID(r)
	return owner, id, err
}

func todoID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NewInput("invalid todo id %q, expected a positive integer", r.PathValue("id"))
	}
	return id, nil
}

func (h *handlers) list(w http.ResponseWriter, r *http.Request) error {
	owner, err := h.owner(r)
	if err != nil {
		return err
	}
	todos, err := h.store.list(r.Context(), owner)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, map[string][]Todo{"items": todos})
}

func (h *handlers) create(w http.ResponseWriter, r *http.Request) error {
	owner, err := h.owner(r)
	if err != nil {
		return err
	}
	var req createRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if req.Title, err = normalizeTitle(req.Title); err != nil {
		return err
	}
	if err := validate(r.Context(), h.validators, Candidate{Owner: owner, Title: req.Title}); err != nil {
		return err
	}
	t, err := h.store.create(r.Context(), owner, req.Title, req.Done)
	if err != nil {
		return err
	}
	h.logger.Info("todo created", "id", t.ID, "owner", owner)
	return httpjson.Write(w, http.StatusCreated, t)
}

func (h *handlers) get(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := h.ownerAndID(r)
	if err != nil {
		return err
	}
	t, tOwner, err := h.find(r.Context(), id)
	if err != nil {
		return err
	}
	if tOwner != owner {
		// Another user's todo is answered exactly like a missing one.
		return errs.NewNotFound("todo %d not found", id)
	}
	return httpjson.Write(w, http.StatusOK, t)
}

func (h *handlers) update(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := h.ownerAndID(r)
	if err != nil {
		return err
	}
	var req updateRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if req.Title != nil {
		t, err := normalizeTitle(*req.Title)
		if err != nil {
			return err
		}
		if err := validate(r.Context(), h.validators, Candidate{Owner: owner, ID: id, Title: t}); err != nil {
			return err
		}
		req.Title = &t
	}
	t, err := h.store.update(r.Context(), owner, id, req.Title, req.Done)
	h.uncache(r.Context(), id) // also after an error: the update may have committed
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, t)
}

// delete deletes a todo if the permissions service allows the caller to:
// with the default policy, its owner or a member of an admin group. Every
// attempt is audited, with its outcome. A caller who may not delete a todo
// they do not own gets 404, as for a missing todo, so that nobody learns
// which ids exist; the owner denied by a policy gets 403.
func (h *handlers) delete(w http.ResponseWriter, r *http.Request) (err error) {
	ctx := r.Context()
	ev, err := h.auditor.CreateEvent(ctx, core.AuditEventOptions{
		EventID:  AuditDelete,
		Severity: core.SeverityMedium,
		Request:  r,
		Meta:     map[string]any{"id": r.PathValue("id")},
	})
	if err != nil {
		return err
	}
	var owner string
	defer func() {
		if err != nil {
			ev.Fail(ctx, err, nil)
		} else {
			ev.Success(ctx, map[string]any{"owner": owner})
		}
	}()
	creds, err := h.httpAuth.Credentials(r, core.PrincipalUser)
	if err != nil {
		return err
	}
	caller, err := h.userInfo.Get(ctx, creds)
	if err != nil {
		return err
	}
	id, err := todoID(r)
	if err != nil {
		return err
	}
	_, owner, err = h.find(ctx, id)
	if err != nil {
		return err
	}
	decisions, err := h.perms.Authorize(ctx, creds, core.PermissionRequest{
		Permission:  DeletePermission,
		ResourceRef: ResourceType + ":" + strconv.FormatInt(id, 10),
	})
	if err != nil {
		return fmt.Errorf("deciding whether %s may delete todo %d: %w", caller.UserEntityRef, id, err)
	}
	allowed, err := decisions[0].Allowed(func(rule string, params map[string]any) (bool, error) {
		return applyRule(rule, params, owner)
	})
	if err != nil {
		return fmt.Errorf("deciding whether %s may delete todo %d: %w", caller.UserEntityRef, id, err)
	}
	switch {
	case !allowed && owner == caller.UserEntityRef:
		return errs.NewNotAllowed("%s may not delete todo %d", caller.UserEntityRef, id)
	case !allowed:
		return errs.NewNotFound("todo %d not found", id)
	}
	err = h.store.delete(ctx, owner, id)
	h.uncache(ctx, id)
	if err != nil {
		return err
	}
	h.logger.Info("todo deleted", "id", id, "owner", owner, "by", caller.UserEntityRef)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// applyRule evaluates a permission rule of the todo-item resource type on
// a todo owned by owner. The only rule is core.IsOwnerRule, whose "claims"
// parameter lists entity refs.
func applyRule(rule string, params map[string]any, owner string) (bool, error) {
	if rule != core.IsOwnerRule {
		return false, fmt.Errorf("the %s resource type has no rule %q; it knows %s", ResourceType, rule, core.IsOwnerRule)
	}
	var claims []string
	switch c := params["claims"].(type) {
	case []string:
		claims = c
	case []any: // decoded from JSON
		for _, v := range c {
			s, ok := v.(string)
			if !ok {
				return false, fmt.Errorf("rule %s: claims must be entity refs (strings), got %T", rule, v)
			}
			claims = append(claims, s)
		}
	default:
		return false, fmt.Errorf("rule %s: the claims parameter must be a list of entity refs, got %T", rule, params["claims"])
	}
	return slices.Contains(claims, owner), nil
}
