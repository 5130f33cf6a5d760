package scheduler

import (
	"fmt"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/schedspec"
)

// TaskSchedule is a task's schedule read from configuration by
// [ReadTaskSchedule]. Apply it to a task with [TaskSchedule.Apply].
type TaskSchedule struct {
	Frequency    core.Frequency
	Timeout      time.Duration
	InitialDelay time.Duration
	Scope        core.TaskScope
}

// Apply returns t with the schedule's frequency, timeout, initial delay and
// scope.
func (ts TaskSchedule) Apply(t core.Task) core.Task {
	t.Frequency, t.Timeout, t.InitialDelay, t.Scope = ts.Frequency, ts.Timeout, ts.InitialDelay, ts.Scope
	return t
}

// ReadTaskSchedule reads the schedule at key of cfg:
//
//	schedule:
//	  frequency: { every: 1h }    # or { cron: "0 3 * * *" } or { manual: true }
//	  timeout: 10m
//	  initialDelay: 1m            # optional
//	  scope: global               # optional: global (default) or local
//
// Durations are Go durations ("1h30m") or whole seconds. Errors name the
// config key and say what is allowed.
func ReadTaskSchedule(cfg core.Config, key string) (TaskSchedule, error) {
	var ts TaskSchedule
	sub, err := cfg.Sub(key)
	if err != nil {
		return ts, err
	}
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("config key %q: %s", key+"."+field, fmt.Sprintf(format, args...))
	}
	freq, err := sub.Sub("frequency")
	if err != nil {
		return ts, fmt.Errorf("%w; set frequency to {every: <duration>}, {cron: <expression>} or {manual: true}", err)
	}
	set := 0
	if d, ok, err := freq.OptionalDuration("every"); err != nil {
		return ts, err
	} else if ok {
		if d <= 0 {
			return ts, fail("frequency.every", "the interval %v is not positive; use a positive duration such as 1h", d)
		}
		ts.Frequency = core.Every(d)
		set++
	}
	if expr, ok, err := freq.OptionalString("cron"); err != nil {
		return ts, err
	} else if ok {
		if _, err := schedspec.ParseCron(expr); err != nil {
			return ts, fail("frequency.cron", "the cron expression %q cannot be parsed: %v", expr, err)
		}
		ts.Frequency = core.Cron(expr)
		set++
	}
	if manual, ok, err := freq.OptionalBool("manual"); err != nil {
		return ts, err
	} else if ok {
		if !manual {
			return ts, fail("frequency.manual", "only true is allowed; remove the key for a scheduled task")
		}
		ts.Frequency = core.Manual()
		set++
	}
	if set != 1 {
		return ts, fail("frequency", "set exactly one of every, cron and manual (found %d)", set)
	}
	if ts.Timeout, err = sub.Duration("timeout"); err != nil {
		return ts, err
	}
	if ts.Timeout <= 0 {
		return ts, fail("timeout", "the timeout %v is not positive; use a positive duration such as 10m", ts.Timeout)
	}
	if d, ok, err := sub.OptionalDuration("initialDelay"); err != nil {
		return ts, err
	} else if ok {
		if d < 0 {
			return ts, fail("initialDelay", "the initial delay %v is negative; use zero or a positive duration", d)
		}
		ts.InitialDelay = d
	}
	scope, ok, err := sub.OptionalString("scope")
	if err != nil {
		return ts, err
	}
	switch {
	case !ok || scope == string(core.ScopeGlobal):
		ts.Scope = core.ScopeGlobal
	case scope == string(core.ScopeLocal):
		ts.Scope = core.ScopeLocal
	default:
		return ts, fail("scope", "Only \"global\" or \"local\" are allowed for scope, but got: %s", scope)
	}
	return ts, nil
}

// settingsFromConfig reads backend.scheduler.leaseDuration and
// backend.scheduler.pollInterval.
func settingsFromConfig(cfg core.Config) (lease, poll time.Duration, err error) {
	lease, ok, err := cfg.OptionalDuration("backend.scheduler.leaseDuration")
	if err != nil {
		return 0, 0, err
	}
	if ok && lease < time.Second {
		return 0, 0, fmt.Errorf("config key %q: the lease %v is too short; use at least 1s (default %v)", "backend.scheduler.leaseDuration", lease, DefaultLeaseDuration)
	}
	poll, ok, err = cfg.OptionalDuration("backend.scheduler.pollInterval")
	if err != nil {
		return 0, 0, err
	}
	if ok && poll <= 0 {
		return 0, 0, fmt.Errorf("config key %q: the interval %v is not positive; use a positive duration (default %v)", "backend.scheduler.pollInterval", poll, DefaultPollInterval)
	}
	return lease, poll, nil
}
