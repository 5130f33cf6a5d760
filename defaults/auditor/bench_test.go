package auditor_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auditor"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

// BenchmarkAuditEvent measures one audited action (CreateEvent and
// Success: two JSON records) with given credentials and a request, the
// records written to io.Discard.
func BenchmarkAuditEvent(b *testing.B) {
	a, err := auditor.New(auditor.Options{PluginID: "todo", Logger: logger.New(slog.NewJSONHandler(io.Discard, nil)).With("plugin", "todo")})
	if err != nil {
		b.Fatal(err)
	}
	alice := mockcreds.User("user:default/alice").Credentials()
	req := httptest.NewRequest("DELETE", "/api/todo/items/42?page=2", nil)
	ctx := context.Background()
	opts := core.AuditEventOptions{EventID: "todo-delete", Credentials: &alice, Request: req, Meta: map[string]any{"id": "42"}}
	b.ReportAllocs()
	for b.Loop() {
		ev, err := a.CreateEvent(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		ev.Success(ctx, nil)
	}
}
