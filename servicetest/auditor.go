package servicetest

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// AuditRecord is what an auditor recorded of an event, in a form common
// to implementations: the production auditor's log records, a fake's
// recorded events.
type AuditRecord struct {
	Plugin, EventID, Severity string
	ActorSubject, ActorType   string
	Method, URL               string
	Meta                      map[string]any
	// Status is "initiated", "succeeded" or "failed".
	Status string
	// Error is the error's message for a failed event.
	Error string
}

// TestAuditor checks an implementation of [core.Auditor]: events without a
// kebab-case EventID or with an unknown severity are errs.Input errors and
// record nothing; an event is recorded as initiated at once, with its
// plugin, severity (low by default), meta, actor and request; only the
// first of Success and Fail counts; a failure records its error; the actor
// comes from the credentials, else from the request, and is none when the
// request's caller cannot be read; the URL drops query parameters that
// may carry credentials.
//
// newAuditor returns the auditor of the plugin pluginID and a function
// returning what it recorded so far, in order: any number of records per
// event, the last of which has the event's current state. A request's
// caller is read as core.httpAuth does; an "Authorization: Bearer" header
// with a token that is not one is an authentication failure.
func TestAuditor(t *testing.T, newAuditor func(t *testing.T, pluginID string) (core.Auditor, func() []AuditRecord)) {
	t.Helper()
	ctx := context.Background()
	alice := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}, time.Time{}, "")
	svc := core.NewCredentials(core.Principal{Type: core.PrincipalService, Subject: "plugin:catalog"}, time.Time{}, "")

	// last returns the last record of the event id, failing the test if
	// there is none.
	last := func(t *testing.T, records []AuditRecord, id string) AuditRecord {
		t.Helper()
		for i := len(records) - 1; i >= 0; i-- {
			if records[i].EventID == id {
				return records[i]
			}
		}
		t.Fatalf("no record of the event %q among %d records", id, len(records))
		return AuditRecord{}
	}

	t.Run("invalid events are input errors and record nothing", func(t *testing.T) {
		t.Parallel()
		a, records := newAuditor(t, "todo")
		cases := []struct {
			name string
			opts core.AuditEventOptions
		}{
			{"no EventID", core.AuditEventOptions{}},
			{"an EventID with spaces", core.AuditEventOptions{EventID: "todo delete"}},
			{"an EventID in upper case", core.AuditEventOptions{EventID: "Todo-Delete"}},
			{"an EventID with underscores", core.AuditEventOptions{EventID: "todo_delete"}},
			{"an EventID with a trailing hyphen", core.AuditEventOptions{EventID: "todo-"}},
			{"an unknown severity", core.AuditEventOptions{EventID: "todo-delete", Severity: "extreme"}},
		}
		for _, c := range cases {
			ev, err := a.CreateEvent(ctx, c.opts)
			checkErr(t, "CreateEvent with "+c.name, err, errs.Input, "")
			if ev != nil {
				t.Errorf("CreateEvent with %s returned an event along with the error", c.name)
			}
		}
		if rs := records(); len(rs) != 0 {
			t.Errorf("invalid events recorded %d records, want none: %+v", len(rs), rs)
		}
	})

	t.Run("an event is recorded as initiated at once", func(t *testing.T) {
		t.Parallel()
		a, records := newAuditor(t, "todo")
		if _, err := a.CreateEvent(ctx, core.AuditEventOptions{EventID: "todo-read", Credentials: &alice, Meta: map[string]any{"item": "42"}}); err != nil {
			t.Fatalf("CreateEvent = %v", err)
		}
		r := last(t, records(), "todo-read")
		want := AuditRecord{Plugin: "todo", EventID: "todo-read", Severity: "low", ActorSubject: "user:default/alice", ActorType: "user", Meta: map[string]any{"item": "42"}, Status: "initiated"}
		if err := sameRecord(r, want); err != nil {
			t.Error(err)
		}
		if _, err := a.CreateEvent(ctx, core.AuditEventOptions{EventID: "todo-purge", Severity: core.SeverityCritical, Credentials: &svc}); err != nil {
			t.Fatalf("CreateEvent = %v", err)
		}
		r = last(t, records(), "todo-purge")
		want = AuditRecord{Plugin: "todo", EventID: "todo-purge", Severity: "critical", ActorSubject: "plugin:catalog", ActorType: "service", Status: "initiated"}
		if err := sameRecord(r, want); err != nil {
			t.Error(err)
		}
	})

	t.Run("only the first of Success and Fail counts", func(t *testing.T) {
		t.Parallel()
		a, records := newAuditor(t, "todo")
		ok, err := a.CreateEvent(ctx, core.AuditEventOptions{EventID: "todo-update", Credentials: &alice, Meta: map[string]any{"item": "7"}})
		if err != nil {
			t.Fatalf("CreateEvent = %v", err)
		}
		ok.Success(ctx, map[string]any{"title": "new"})
		ok.Fail(ctx, errors.New("too late"), nil)
		ok.Success(ctx, map[string]any{"title": "newer"})
		bad, err := a.CreateEvent(ctx, core.AuditEventOptions{EventID: "todo-delete", Severity: core.SeverityHigh, Credentials: &alice})
		if err != nil {
			t.Fatalf("CreateEvent = %v", err)
		}
		bad.Fail(ctx, errors.New("item 9 not found"), map[string]any{"item": "9"})
		bad.Success(ctx, nil)

		rs := records()
		ends := map[string]int{}
		for _, r := range rs {
			if r.Status != "initiated" {
				ends[r.EventID]++
			}
		}
		if ends["todo-update"] != 1 || ends["todo-delete"] != 1 {
			t.Errorf("end records per event = %v, want one each", ends)
		}
		want := AuditRecord{Plugin: "todo", EventID: "todo-update", Severity: "low", ActorSubject: "user:default/alice", ActorType: "user", Meta: map[string]any{"item": "7", "title": "new"}, Status: "succeeded"}
		if err := sameRecord(last(t, rs, "todo-update"), want); err != nil {
			t.Error(err)
		}
		want = AuditRecord{Plugin: "todo", EventID: "todo-delete", Severity: "high", ActorSubject: "user:default/alice", ActorType: "user", Meta: map[string]any{"item": "9"}, Status: "failed", Error: "item 9 not found"}
		if err := sameRecord(last(t, rs, "todo-delete"), want); err != nil {
			t.Error(err)
		}
	})

	t.Run("the actor and request come from the request, safely", func(t *testing.T) {
		t.Parallel()
		a, records := newAuditor(t, "todo")
		anon := httptest.NewRequest("DELETE", "http://user:pw@example.com/api/todo/items/42?token=secret&page=2&api_key=k", nil)
		garbage := httptest.NewRequest("POST", "/api/todo/items", nil)
		garbage.Header.Set("Authorization", "Bearer not-a-token")
		// A plugin's router strips /api/<pluginId> from r.URL.Path, as
		// http.StripPrefix does; the event records the full target.
		stripped := httptest.NewRequest("PUT", "/api/todo/items/9?page=1", nil)
		stripped.URL.Path = "/items/9"
		given := httptest.NewRequest("GET", "/api/todo/items", nil)
		given.Header.Set("Authorization", "Bearer not-a-token")
		cases := []struct {
			id   string
			opts core.AuditEventOptions
			want AuditRecord
		}{
			{"anonymous", core.AuditEventOptions{Request: anon},
				AuditRecord{ActorType: "none", Method: "DELETE", URL: "/api/todo/items/42?page=2"}},
			{"unreadable-caller", core.AuditEventOptions{Request: garbage},
				AuditRecord{ActorType: "none", Method: "POST", URL: "/api/todo/items"}},
			{"stripped-path", core.AuditEventOptions{Request: stripped},
				AuditRecord{ActorType: "none", Method: "PUT", URL: "/api/todo/items/9?page=1"}},
			{"given-credentials", core.AuditEventOptions{Request: given, Credentials: &svc},
				AuditRecord{ActorSubject: "plugin:catalog", ActorType: "service", Method: "GET", URL: "/api/todo/items"}},
		}
		for _, c := range cases {
			c.opts.EventID = c.id
			if _, err := a.CreateEvent(ctx, c.opts); err != nil {
				t.Fatalf("CreateEvent(%s) = %v; an unreadable caller must not fail the audit", c.id, err)
			}
			w := c.want
			w.Plugin, w.EventID, w.Severity, w.Status = "todo", c.id, "low", "initiated"
			if err := sameRecord(last(t, records(), c.id), w); err != nil {
				t.Error(err)
			}
		}
	})
}

// sameRecord reports how got differs from want; a nil and an empty Meta
// are the same, and Error need only be contained in got's.
func sameRecord(got, want AuditRecord) error {
	var diffs []string
	check := func(field, g, w string) {
		if g != w {
			diffs = append(diffs, fmt.Sprintf("%s = %q, want %q", field, g, w))
		}
	}
	check("Plugin", got.Plugin, want.Plugin)
	check("EventID", got.EventID, want.EventID)
	check("Severity", got.Severity, want.Severity)
	check("ActorSubject", got.ActorSubject, want.ActorSubject)
	check("ActorType", got.ActorType, want.ActorType)
	check("Method", got.Method, want.Method)
	check("URL", got.URL, want.URL)
	check("Status", got.Status, want.Status)
	if (want.Error == "") != (got.Error == "") || !strings.Contains(got.Error, want.Error) {
		diffs = append(diffs, fmt.Sprintf("Error = %q, want %q", got.Error, want.Error))
	}
	if fmt.Sprint(got.Meta) != fmt.Sprint(want.Meta) && !(len(got.Meta) == 0 && len(want.Meta) == 0) {
		diffs = append(diffs, fmt.Sprintf("Meta = %v, want %v", got.Meta, want.Meta))
	}
	if diffs != nil {
		return fmt.Errorf("record of %q: %s", want.EventID, strings.Join(diffs, "; "))
	}
	return nil
}
