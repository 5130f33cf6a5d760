package scheduler

import (
	"net/http"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/httpjson"
)

// TasksResponse is the body of GET [TasksPath].
type TasksResponse struct {
	Tasks []TaskJSON `json:"tasks"`
}

// TaskJSON is one task in a [TasksResponse]. Times are RFC 3339, omitted
// when unknown.
type TaskJSON struct {
	ID                  string  `json:"id"`
	Scope               string  `json:"scope"`
	Frequency           string  `json:"frequency"`
	TimeoutSeconds      float64 `json:"timeoutSeconds"`
	InitialDelaySeconds float64 `json:"initialDelaySeconds"`
	Running             bool    `json:"running"`
	NextRunAt           string  `json:"nextRunAt,omitempty"`
	LastRunStartedAt    string  `json:"lastRunStartedAt,omitempty"`
	LastRunEndedAt      string  `json:"lastRunEndedAt,omitempty"`
	LastError           string  `json:"lastError,omitempty"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Handler serves the plugin's tasks as a [TasksResponse] to service
// callers only: a user is refused 403, a caller without credentials 401.
func (s *Scheduler) Handler(httpAuth core.HTTPAuth) http.Handler {
	return httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := httpAuth.Credentials(r, core.PrincipalService); err != nil {
			return err
		}
		states, err := s.Tasks(r.Context())
		if err != nil {
			return err
		}
		body := TasksResponse{Tasks: make([]TaskJSON, 0, len(states))}
		for _, st := range states {
			body.Tasks = append(body.Tasks, TaskJSON{
				ID: st.ID, Scope: string(st.Scope), Frequency: st.Frequency.String(),
				TimeoutSeconds: st.Timeout.Seconds(), InitialDelaySeconds: st.InitialDelay.Seconds(),
				Running: st.Running, NextRunAt: rfc3339(st.NextRunAt),
				LastRunStartedAt: rfc3339(st.LastRunStartedAt), LastRunEndedAt: rfc3339(st.LastRunEndedAt),
				LastError: st.LastError,
			})
		}
		return httpjson.Write(w, http.StatusOK, body)
	})
}
