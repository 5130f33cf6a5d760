package auditor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auditor"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

// exampleLogger writes JSON records without their time, for a
// deterministic output.
func exampleLogger() core.Logger {
	h := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}})
	return logger.New(h).With("plugin", "todo")
}

func ExampleNew() {
	a, err := auditor.New(auditor.Options{PluginID: "todo", Logger: exampleLogger()})
	if err != nil {
		fmt.Println(err)
		return
	}
	alice := mockcreds.User("user:default/alice").Credentials()
	ev, _ := a.CreateEvent(context.Background(), core.AuditEventOptions{EventID: "todo-delete", Severity: core.SeverityHigh, Credentials: &alice,
		Meta: map[string]any{"id": "42"}})
	ev.Fail(context.Background(), errors.New("item 42 is locked"), nil)
	// Output:
	// {"level":"WARN","msg":"todo-delete initiated","plugin":"todo","isAuditEvent":true,"eventId":"todo-delete","severityLevel":"high","actor":{"subject":"user:default/alice","type":"user"},"meta":{"id":"42"},"status":"initiated"}
	// {"level":"WARN","msg":"todo-delete failed","plugin":"todo","isAuditEvent":true,"eventId":"todo-delete","severityLevel":"high","actor":{"subject":"user:default/alice","type":"user"},"meta":{"id":"42"},"status":"failed","error":"item 42 is locked"}
}

func ExampleAuditor_CreateEvent() {
	a, _ := auditor.New(auditor.Options{PluginID: "todo", Logger: exampleLogger()})
	_, err := a.CreateEvent(context.Background(), core.AuditEventOptions{EventID: "Todo Delete"})
	fmt.Println(err)
	// Output: InputError: auditor: plugin 'todo': the audit event ID "Todo Delete" is not kebab-case; use lower-case letters and digits separated by single hyphens, such as "todo-delete"
}

func ExampleFactory() {
	// The factory is among defaults.Factories; a test backend has the
	// mockservices.Auditor fake instead, unless given this factory.
	fmt.Println(auditor.Factory().Ref())
	// Output: serviceRef{core.auditor}
}
