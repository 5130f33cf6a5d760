package core

import (
	"context"
	"net/http"
)

// AuditorRef is the reference of the auditor service (plugin scope).
var AuditorRef = NewServiceRef[Auditor]("core.auditor")

// AuditSeverity ranks audit events.
type AuditSeverity string

const (
	SeverityLow      AuditSeverity = "low"
	SeverityMedium   AuditSeverity = "medium"
	SeverityHigh     AuditSeverity = "high"
	SeverityCritical AuditSeverity = "critical"
)

// AuditEventOptions describe an audited action as it begins.
type AuditEventOptions struct {
	// EventID names the action in kebab-case, such as "todo-delete";
	// required.
	EventID string
	// Severity defaults to SeverityLow.
	Severity AuditSeverity
	// Request is the HTTP request that asked for the action, if any: the
	// event records its method and URL, and, unless Credentials is set,
	// its caller (as core.httpAuth reads it) as the actor.
	Request *http.Request
	// Credentials are the actor's, when there is no request or the caller
	// is already known.
	Credentials *Credentials
	// Meta holds attributes of the action, such as the resource's id.
	// Values must encode as JSON.
	Meta map[string]any
}

// AuditEvent is an audited action in progress. Exactly one of Success and
// Fail should be called once it ends; later calls are ignored.
type AuditEvent interface {
	// Success records that the action succeeded, with meta merged into
	// the event's.
	Success(ctx context.Context, meta map[string]any)
	// Fail records that the action failed with err, with meta merged
	// into the event's.
	Fail(ctx context.Context, err error, meta map[string]any)
}

// Auditor records audit events (service "core.auditor"): who did what,
// when, from which request, and whether it succeeded. The production
// auditor writes each event through the plugin's logger as a structured
// record with isAuditEvent=true, eventId, severityLevel, plugin, actor
// (the principal's subject and type), request (method and URL), meta,
// status ("initiated", "succeeded" or "failed") and, on failure, the error.
type Auditor interface {
	// CreateEvent records that an action began and returns the event to
	// close with Success or Fail. An event without EventID or with an
	// unknown severity is an errs.Input error.
	CreateEvent(ctx context.Context, opts AuditEventOptions) (AuditEvent, error)
}
