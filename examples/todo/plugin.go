package todo

import (
	"context"
	"embed"
	"fmt"
	"net/http"
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
var Plugin = backend.NewPlugin(PluginID, backend.Init(initPlugin))

type deps struct {
	Config    core.RootConfig
	Router    core.HTTPRouter
	Logger    core.Logger
	Database  core.Database
	HTTPAuth  core.HTTPAuth
	UserInfo  core.UserInfo
	Scheduler core.Scheduler
}

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

func initPlugin(ctx context.Context, d deps) error {
	purge, err := readPurgeConfig(d.Config)
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
	h := &handlers{
		store:    &store{db: db, dialect: d.Database.Dialect(), now: time.Now},
		logger:   d.Logger,
		httpAuth: d.HTTPAuth,
		userInfo: d.UserInfo,
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
	n, err := h.store.purgeCompleted(ctx, cutoff)
	if err != nil {
		return err
	}
	h.logger.Info("purged completed todos", "count", n, "completedBefore", cutoff.UTC().Format(time.RFC3339))
	return nil
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
	t, err := h.store.get(r.Context(), owner, id)
	if err != nil {
		return err
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
		req.Title = &t
	}
	t, err := h.store.update(r.Context(), owner, id, req.Title, req.Done)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, t)
}

func (h *handlers) delete(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := h.ownerAndID(r)
	if err != nil {
		return err
	}
	if err := h.store.delete(r.Context(), owner, id); err != nil {
		return err
	}
	h.logger.Info("todo deleted", "id", id, "owner", owner)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
