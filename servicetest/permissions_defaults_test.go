package servicetest_test

import (
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auditor"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/defaults/permissions"
	"github.com/greenroom-dev/greenroom/servicetest"
)

func TestPermissions(t *testing.T) {
	t.Parallel()
	servicetest.TestPermissions(t, func(t *testing.T, policy core.PermissionPolicy) core.Permissions {
		env := productionAuthEnv(t)
		p, err := permissions.New(permissions.Options{PluginID: "todo", Policy: policy, UserInfo: env.UserInfo()})
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}

func TestAuditor(t *testing.T) {
	t.Parallel()
	servicetest.TestAuditor(t, func(t *testing.T, pluginID string) (core.Auditor, func() []servicetest.AuditRecord) {
		var buf syncBuffer
		root, err := logger.NewFromConfig(mustConfig(t, map[string]any{
			"backend": map[string]any{"logging": map[string]any{"level": "info", "format": "json"}},
		}), logger.Writer(&buf))
		if err != nil {
			t.Fatal(err)
		}
		env := productionAuthEnv(t)
		a, err := auditor.New(auditor.Options{PluginID: pluginID, Logger: root.With("plugin", pluginID), HTTPAuth: env.HTTPAuth(env.Auth(pluginID))})
		if err != nil {
			t.Fatal(err)
		}
		return a, func() []servicetest.AuditRecord { return auditRecords(t, buf.records(t)) }
	})
}

// auditRecords reads the audit records among the production logger's JSON
// records.
func auditRecords(t *testing.T, records []map[string]any) []servicetest.AuditRecord {
	t.Helper()
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	var out []servicetest.AuditRecord
	for _, m := range records {
		if m["isAuditEvent"] != true {
			continue
		}
		actor, _ := m["actor"].(map[string]any)
		req, _ := m["request"].(map[string]any)
		meta, _ := m["meta"].(map[string]any)
		out = append(out, servicetest.AuditRecord{
			Plugin: str(m, "plugin"), EventID: str(m, "eventId"), Severity: str(m, "severityLevel"),
			ActorSubject: str(actor, "subject"), ActorType: str(actor, "type"),
			Method: str(req, "method"), URL: str(req, "url"),
			Meta: meta, Status: str(m, "status"), Error: str(m, "error"),
		})
	}
	return out
}
