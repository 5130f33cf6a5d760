package scheduler

import "time"

// WithClock sets the instance's local clock, which coordination must never
// depend on; tests skew it.
func WithClock(o Options, clock func() time.Time) Options {
	o.clock = clock
	return o
}

// SanitizeError is the cleaning of a run's error text before it is stored.
var SanitizeError = sanitizeError
