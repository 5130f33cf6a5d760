// Package auditor is the production auditor service ("core.auditor"): it
// writes each audit event through the plugin's logger as structured
// records, one when the action begins (status "initiated") and one when it
// ends ("succeeded" or "failed", with the error).
//
// Every record has isAuditEvent=true, eventId, severityLevel, plugin, actor
// {subject, type}, request {method, url} (when the event has a request; the
// URL is its path and query, without host, user info or query parameters
// that may carry credentials), meta and status. Severities map to log
// levels: low and medium are logged at info, high and critical at warn, so
// that a deployment can route the serious ones with the logger's level
// alone.
package auditor
