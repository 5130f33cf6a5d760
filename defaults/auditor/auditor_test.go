package auditor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auditor"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// todo is a plugin whose DELETE /items/{id} is audited.
var todo = backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d struct {
	Router  core.HTTPRouter
	Auditor core.Auditor
}) error {
	d.Router.HandleFunc("DELETE /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		ev, err := d.Auditor.CreateEvent(r.Context(), core.AuditEventOptions{EventID: "todo-delete", Severity: core.SeverityHigh, Request: r,
			Meta: map[string]any{"id": r.PathValue("id")}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if r.PathValue("id") == "0" {
			ev.Fail(r.Context(), errors.New("item 0 not found"), nil)
			w.WriteHeader(http.StatusNotFound)
			return
		}
		ev.Success(r.Context(), nil)
		w.WriteHeader(http.StatusNoContent)
	})
	return nil
}))

func TestFactory(t *testing.T) {
	t.Parallel()
	log := mockservices.Logger(t)
	tb := testbackend.Start(t, todo, auditor.Factory(), mockservices.RootLoggerFactory(log))
	tb.Delete("/api/todo/items/42?token=secret&page=2").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusNoContent)
	tb.Delete("/api/todo/items/0").AsService("plugin:catalog").Do(t).ExpectStatus(t, http.StatusNotFound)

	common := []any{"isAuditEvent", true, "eventId", "todo-delete", "severityLevel", "high", "plugin", "todo"}
	want := []struct {
		msg  string
		args []any
	}{
		{"todo-delete initiated", []any{"status", "initiated", "actor.subject", "user:default/alice", "actor.type", "user",
			"request.method", "DELETE", "request.url", "/api/todo/items/42?page=2"}},
		{"todo-delete succeeded", []any{"status", "succeeded", "actor.subject", "user:default/alice"}},
		{"todo-delete failed", []any{"status", "failed", "actor.subject", "plugin:catalog", "actor.type", "service",
			"error", "item 0 not found", "request.url", "/api/todo/items/0"}},
	}
	for _, w := range want {
		if !log.Contains(w.msg, append(append([]any{}, common...), w.args...)...) {
			t.Errorf("no record %q with %v among:\n%v", w.msg, w.args, log.Records())
		}
	}
	for _, r := range log.Filter(func(r mockservices.LogRecord) bool { return r.Attrs["isAuditEvent"] == true }) {
		if id := r.Attrs["meta"].(map[string]any)["id"]; id != "42" && id != "0" {
			t.Errorf("record %q: meta %v, want the item's id", r.Message, r.Attrs["meta"])
		}
		if r.Level != slog.LevelWarn {
			t.Errorf("record %q of a high event at %v, want WARN", r.Message, r.Level)
		}
	}
}

func TestSeverityLevels(t *testing.T) {
	t.Parallel()
	for sev, level := range map[core.AuditSeverity]slog.Level{
		"": slog.LevelInfo, core.SeverityLow: slog.LevelInfo, core.SeverityMedium: slog.LevelInfo,
		core.SeverityHigh: slog.LevelWarn, core.SeverityCritical: slog.LevelWarn,
	} {
		log := mockservices.Logger(t)
		a, err := auditor.New(auditor.Options{PluginID: "todo", Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := a.CreateEvent(context.Background(), core.AuditEventOptions{EventID: "todo-export", Severity: sev})
		if err != nil {
			t.Fatal(err)
		}
		ev.Fail(context.Background(), nil, nil) // a nil error still ends the event
		rs := log.Records()
		if len(rs) != 2 {
			t.Fatalf("severity %q: %d records, want 2", sev, len(rs))
		}
		for _, r := range rs {
			if r.Level != level {
				t.Errorf("severity %q: record %q at %v, want %v", sev, r.Message, r.Level, level)
			}
		}
		if rs[1].Attrs["status"] != "failed" || rs[1].Attrs["error"] == "" || rs[1].Attrs["actor.type"] != "none" {
			t.Errorf("severity %q: end record %v, want a failure with an error and actor none", sev, rs[1])
		}
	}
}

func TestNewNeedsLogger(t *testing.T) {
	t.Parallel()
	if _, err := auditor.New(auditor.Options{PluginID: "todo"}); err == nil {
		t.Error("New without a logger succeeded")
	}
}

// Regression: the auditor kept the caller's Meta map, so changing it after
// CreateEvent changed what the event recorded.
func TestMetaIsCopied(t *testing.T) {
	t.Parallel()
	log := mockservices.Logger(t)
	a, err := auditor.New(auditor.Options{PluginID: "todo", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]any{"item": "42"}
	ev, err := a.CreateEvent(t.Context(), core.AuditEventOptions{EventID: "todo-update", Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	meta["item"] = "changed"
	meta["extra"] = "added"
	end := map[string]any{"title": "new"}
	ev.Success(t.Context(), end)
	end["title"] = "changed"
	rs := log.Records()
	if len(rs) != 2 {
		t.Fatalf("%d records, want 2", len(rs))
	}
	for i, want := range []map[string]any{{"item": "42"}, {"item": "42", "title": "new"}} {
		got := rs[i].Attrs["meta"].(map[string]any)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("record %q: meta %v, want %v", rs[i].Message, got, want)
		}
	}
}
