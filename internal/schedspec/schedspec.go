package schedspec

import (
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/greenroom-dev/greenroom/core"
)

// MaxIDLength is the longest task ID, in bytes.
const MaxIDLength = 255

// MinInterval is the shortest interval of core.Every.
const MinInterval = time.Millisecond

var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// utc is a schedule whose expression has no zone of its own: it is read in
// UTC. robfig/cron reads such an expression in the zone of the time given
// to Next, so Next is given UTC times; the result is in UTC.
type utc struct{ cron.Schedule }

func (s utc) Next(t time.Time) time.Time { return s.Schedule.Next(t.UTC()).UTC() }

// ParseCron parses a cron expression: five fields (minute hour
// day-of-month month day-of-week), six with seconds first, or a descriptor
// such as @hourly, optionally preceded by CRON_TZ=<zone>. Without a zone
// the expression is in UTC. The times Next returns are in UTC.
func ParseCron(expr string) (cron.Schedule, error) {
	s, err := parser.Parse(expr)
	if err != nil {
		return nil, err
	}
	return utc{s}, nil
}

// Spec is a validated task's schedule.
type Spec struct {
	// Every is the interval of a core.Every task; zero otherwise.
	Every time.Duration
	// Cron is the schedule of a core.Cron task; nil otherwise.
	Cron cron.Schedule
}

// Validate checks t against the contract of core.Task and returns its
// schedule. The error says what is wrong and how to fix it, without
// naming the task or the plugin: callers prefix it and make it an
// errs.Input error. An empty Scope is valid (it means global).
func Validate(t core.Task) (Spec, error) {
	var spec Spec
	switch {
	case t.ID == "":
		return spec, fmt.Errorf("the ID is empty; give every task a non-empty ID of at most %d bytes", MaxIDLength)
	case len(t.ID) > MaxIDLength:
		return spec, fmt.Errorf("the ID is %d bytes long; use at most %d", len(t.ID), MaxIDLength)
	case t.Fn == nil:
		return spec, errors.New("Fn is nil; set the function that does the work")
	case t.Frequency.IsZero():
		return spec, errors.New("the frequency is not set; use core.Every, core.Cron or core.Manual")
	case t.Timeout <= 0:
		return spec, fmt.Errorf("the timeout %v is not positive; set Timeout to bound one run", t.Timeout)
	case t.InitialDelay < 0:
		return spec, fmt.Errorf("the initial delay %v is negative; use zero or a positive duration", t.InitialDelay)
	}
	switch t.Scope {
	case "", core.ScopeGlobal, core.ScopeLocal:
	default:
		return spec, fmt.Errorf("the scope %q is unknown; use %q or %q", t.Scope, core.ScopeGlobal, core.ScopeLocal)
	}
	if d, ok := t.Frequency.Interval(); ok {
		if d <= 0 {
			return spec, fmt.Errorf("the interval %v is not positive; use core.Every with a positive duration", d)
		}
		if d < MinInterval {
			return spec, fmt.Errorf("the interval %v is shorter than a millisecond; use at least %v", d, MinInterval)
		}
		spec.Every = d
	}
	if expr, ok := t.Frequency.CronExpr(); ok {
		sched, err := ParseCron(expr)
		if err != nil {
			return spec, fmt.Errorf("the cron expression %q cannot be parsed: %w; use five fields (minute hour day-of-month month day-of-week), six with seconds first, or a descriptor such as @hourly", expr, err)
		}
		spec.Cron = sched
	}
	return spec, nil
}
