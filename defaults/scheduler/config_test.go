package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/scheduler"
)

func TestReadTaskSchedule(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		schedule map[string]any
		want     scheduler.TaskSchedule
		wantErr  string
	}{
		{"every", map[string]any{"frequency": map[string]any{"every": "1h"}, "timeout": "10m", "initialDelay": "1m"},
			scheduler.TaskSchedule{Frequency: core.Every(time.Hour), Timeout: 10 * time.Minute, InitialDelay: time.Minute, Scope: core.ScopeGlobal}, ""},
		{"cron local", map[string]any{"frequency": map[string]any{"cron": "*/30 * * * * *"}, "timeout": 60, "scope": "local"},
			scheduler.TaskSchedule{Frequency: core.Cron("*/30 * * * * *"), Timeout: time.Minute, Scope: core.ScopeLocal}, ""},
		{"manual", map[string]any{"frequency": map[string]any{"manual": true}, "timeout": "1m", "scope": "global"},
			scheduler.TaskSchedule{Frequency: core.Manual(), Timeout: time.Minute, Scope: core.ScopeGlobal}, ""},
		{"bad scope", map[string]any{"frequency": map[string]any{"every": "1h"}, "timeout": "1m", "scope": "x"}, scheduler.TaskSchedule{},
			`config key "s.scope": Only "global" or "local" are allowed for scope, but got: x`},
		{"two frequencies", map[string]any{"frequency": map[string]any{"every": "1h", "manual": true}, "timeout": "1m"}, scheduler.TaskSchedule{},
			`config key "s.frequency": set exactly one of every, cron and manual (found 2)`},
		{"bad cron", map[string]any{"frequency": map[string]any{"cron": "nope"}, "timeout": "1m"}, scheduler.TaskSchedule{},
			`config key "s.frequency.cron": the cron expression "nope" cannot be parsed`},
		{"no timeout", map[string]any{"frequency": map[string]any{"every": "1h"}}, scheduler.TaskSchedule{}, "s.timeout"},
		{"zero interval", map[string]any{"frequency": map[string]any{"every": "0s"}, "timeout": "1m"}, scheduler.TaskSchedule{},
			`config key "s.frequency.every": the interval 0s is not positive`},
		{"negative delay", map[string]any{"frequency": map[string]any{"every": "1h"}, "timeout": "1m", "initialDelay": "-1s"}, scheduler.TaskSchedule{},
			`config key "s.initialDelay": the initial delay -1s is negative`},
		{"manual false", map[string]any{"frequency": map[string]any{"manual": false}, "timeout": "1m"}, scheduler.TaskSchedule{},
			`config key "s.frequency.manual": only true is allowed`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.FromMap(map[string]any{"s": c.schedule})
			if err != nil {
				t.Fatal(err)
			}
			got, err := scheduler.ReadTaskSchedule(cfg, "s")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			task := got.Apply(core.Task{ID: "x"})
			if task.Frequency != c.want.Frequency || task.Timeout != c.want.Timeout || task.Scope != c.want.Scope {
				t.Errorf("Apply = %+v", task)
			}
		})
	}
}
