package auditor

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/auditspec"
)

// Options configure an [Auditor].
type Options struct {
	// PluginID is the plugin whose events these are.
	PluginID string
	// Logger receives the records; required. It is the plugin's logger,
	// whose records carry plugin=<pluginId>; the auditor does not add the
	// attribute again.
	Logger core.Logger
	// HTTPAuth reads the actor of an event that has a request and no
	// credentials; without it such an actor is none.
	HTTPAuth core.HTTPAuth
}

// Auditor is the production [core.Auditor] of one plugin.
type Auditor struct {
	o Options
}

var _ core.Auditor = (*Auditor)(nil)

// New returns the auditor of a plugin. [Factory] makes one per plugin; New
// is for code that builds one by hand.
func New(o Options) (*Auditor, error) {
	if o.Logger == nil {
		return nil, errors.New("auditor: New needs Options.Logger")
	}
	return &Auditor{o: o}, nil
}

// Factory returns the factory of the core.auditor service: an [Auditor]
// per plugin over its logger and core.httpAuth.
func Factory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(core.AuditorRef, func(ctx context.Context, d struct {
		Logger   core.Logger
		HTTPAuth core.HTTPAuth
		Plugin   core.PluginMetadata
	}) (core.Auditor, error) {
		return New(Options{PluginID: d.Plugin.ID(), Logger: d.Logger, HTTPAuth: d.HTTPAuth})
	})
}

// CreateEvent implements [core.Auditor]: it logs the "initiated" record.
func (a *Auditor) CreateEvent(ctx context.Context, opts core.AuditEventOptions) (core.AuditEvent, error) {
	sev, err := auditspec.Validate(a.o.PluginID, opts)
	if err != nil {
		return nil, err
	}
	actor := auditspec.Actor(opts, a.o.HTTPAuth)
	attrs := []any{
		slog.Bool("isAuditEvent", true),
		slog.String("eventId", opts.EventID),
		slog.String("severityLevel", string(sev)),
		slog.Group("actor", slog.String("subject", auditspec.ActorSubject(actor)), slog.String("type", string(actor.Type))),
	}
	if opts.Request != nil {
		attrs = append(attrs, slog.Group("request", slog.String("method", opts.Request.Method), slog.String("url", auditspec.RequestURL(opts.Request))))
	}
	// A copy: the caller may change its map after CreateEvent returns.
	meta := auditspec.Merge(nil, opts.Meta)
	e := &event{a: a, id: opts.EventID, sev: sev, attrs: attrs, meta: meta}
	e.log(auditspec.StatusInitiated, nil, meta)
	return e, nil
}

// event is an audit event in progress.
type event struct {
	a     *Auditor
	id    string
	sev   core.AuditSeverity
	attrs []any
	meta  map[string]any
	once  sync.Once
}

func (e *event) Success(ctx context.Context, meta map[string]any) {
	e.once.Do(func() { e.log(auditspec.StatusSucceeded, nil, auditspec.Merge(e.meta, meta)) })
}

func (e *event) Fail(ctx context.Context, err error, meta map[string]any) {
	e.once.Do(func() {
		if err == nil {
			err = errors.New("unknown error (Fail was called with a nil error)")
		}
		e.log(auditspec.StatusFailed, err, auditspec.Merge(e.meta, meta))
	})
}

func (e *event) log(status string, err error, meta map[string]any) {
	args := make([]any, 0, len(e.attrs)+3)
	args = append(args, e.attrs...)
	if meta == nil {
		meta = map[string]any{}
	}
	args = append(args, slog.Any("meta", meta), slog.String("status", status))
	if err != nil {
		args = append(args, slog.String("error", err.Error()))
	}
	msg := e.id + " " + status
	switch e.sev {
	case core.SeverityHigh, core.SeverityCritical:
		e.a.o.Logger.Warn(msg, args...)
	default:
		e.a.o.Logger.Info(msg, args...)
	}
}
