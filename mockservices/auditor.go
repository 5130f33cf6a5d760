package mockservices

import (
	"context"
	"slices"
	"sync"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/auditspec"
)

// AuditStatus is the status of a recorded [AuditRecord].
type AuditStatus string

const (
	// AuditOpen: the event was created and neither Success nor Fail was
	// called yet.
	AuditOpen      AuditStatus = "open"
	AuditSucceeded AuditStatus = "succeeded"
	AuditFailed    AuditStatus = "failed"
)

// AuditRecord is one audit event recorded by an [AuditorService], as it
// stands: its status changes when Success or Fail is called.
type AuditRecord struct {
	PluginID string
	EventID  string
	Severity core.AuditSeverity
	// Actor is the principal as the production auditor determines it:
	// the event's credentials, else the request's caller, else none.
	Actor core.Principal
	// ActorSubject is the user's entity ref or the service's subject.
	ActorSubject string
	// Method and URL are those of the event's request, if any; the URL is
	// the path and query without parameters that may carry credentials.
	Method, URL string
	// Meta is the event's meta merged with that of Success or Fail.
	Meta   map[string]any
	Status AuditStatus
	// Err is the error given to Fail.
	Err error
}

// AuditorService is a fake [core.Auditor] that records events for
// assertions instead of logging them. It validates events as production
// does (an EventID in kebab-case, a known severity: else errs.Input) and
// determines the actor and the request's URL the same way. One fake can
// serve every plugin of a backend, through [AuditorFactory] or
// [AuditorService.ForPlugin].
type AuditorService struct {
	mu     sync.Mutex
	events []*AuditRecord
}

// Auditor returns a fake auditor.
func Auditor() *AuditorService { return &AuditorService{} }

// Events returns a copy of the events recorded so far, in the order they
// were created.
func (a *AuditorService) Events() []AuditRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]AuditRecord, len(a.events))
	for i, e := range a.events {
		out[i] = *e
	}
	return out
}

// EventsWithID returns the recorded events whose EventID is id.
func (a *AuditorService) EventsWithID(id string) []AuditRecord {
	return slices.DeleteFunc(a.Events(), func(e AuditRecord) bool { return e.EventID != id })
}

// CreateEvent implements [core.Auditor] for a plugin with the id "test",
// reading the actor of a request with an [HTTPAuth] fake.
func (a *AuditorService) CreateEvent(ctx context.Context, opts core.AuditEventOptions) (core.AuditEvent, error) {
	return a.ForPlugin("test").CreateEvent(ctx, opts)
}

// ForPlugin returns the auditor that the plugin pluginID sees, reading the
// actor of a request with an [HTTPAuth] fake.
func (a *AuditorService) ForPlugin(pluginID string) core.Auditor {
	return pluginAuditor{a: a, pluginID: pluginID, httpAuth: HTTPAuth(Auth(pluginID))}
}

type pluginAuditor struct {
	a        *AuditorService
	pluginID string
	httpAuth core.HTTPAuth
}

func (v pluginAuditor) CreateEvent(ctx context.Context, opts core.AuditEventOptions) (core.AuditEvent, error) {
	sev, err := auditspec.Validate(v.pluginID, opts)
	if err != nil {
		return nil, err
	}
	actor := auditspec.Actor(opts, v.httpAuth)
	r := &AuditRecord{PluginID: v.pluginID, EventID: opts.EventID, Severity: sev, Actor: actor,
		ActorSubject: auditspec.ActorSubject(actor), Meta: auditspec.Merge(nil, opts.Meta), Status: AuditOpen}
	if opts.Request != nil {
		r.Method, r.URL = opts.Request.Method, auditspec.RequestURL(opts.Request)
	}
	v.a.mu.Lock()
	v.a.events = append(v.a.events, r)
	v.a.mu.Unlock()
	return &auditEvent{a: v.a, r: r}, nil
}

type auditEvent struct {
	a *AuditorService
	r *AuditRecord
}

func (e *auditEvent) Success(ctx context.Context, meta map[string]any) {
	e.end(AuditSucceeded, nil, meta)
}

func (e *auditEvent) Fail(ctx context.Context, err error, meta map[string]any) {
	e.end(AuditFailed, err, meta)
}

func (e *auditEvent) end(status AuditStatus, err error, meta map[string]any) {
	e.a.mu.Lock()
	defer e.a.mu.Unlock()
	if e.r.Status != AuditOpen {
		return // only the first of Success and Fail counts
	}
	e.r.Status, e.r.Err, e.r.Meta = status, err, auditspec.Merge(e.r.Meta, meta)
}

// AuditorFactory returns a factory of the core.auditor service that gives
// each plugin a view of a bound to its id, reading the actor of a request
// with the plugin's core.httpAuth. With a nil a, each backend gets a fake
// of its own, made when a plugin first depends on it: that is the factory
// of [DefaultFactories]. A test that reads the events passes its own.
func AuditorFactory(a *AuditorService) *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.AuditorRef,
		func(context.Context, struct{}) (*AuditorService, error) {
			if a == nil {
				return Auditor(), nil
			}
			return a, nil
		},
		func(ctx context.Context, a *AuditorService, d struct {
			Plugin   core.PluginMetadata
			HTTPAuth core.HTTPAuth
		}) (core.Auditor, error) {
			return pluginAuditor{a: a, pluginID: d.Plugin.ID(), httpAuth: d.HTTPAuth}, nil
		})
}
