package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// releaseTimeout bounds the release of a run's lease, which happens also
// during shutdown, after the run's context is done.
const releaseTimeout = 10 * time.Second

// globalWorker claims and runs a global task's due runs until shutdown
// begins. Each wait ends at the next time it knows of (the due time, or
// the expiry of another instance's lease), at most PollInterval later.
func (s *Scheduler) globalWorker(p *task) {
	defer s.wg.Done()
	log := s.logger.With("task", p.ID)
	// A trigger on this instance ends the initial delay early.
	if !s.sleep(p.InitialDelay, p.wake) {
		return
	}
	failures := 0
	for !s.shuttingDown() {
		wait, err := s.globalStep(p)
		if err != nil {
			failures++
			log.Warn("scheduler: task worker failed; retrying", "error", err, "attempt", failures)
			wait = min(s.poll, time.Duration(failures)*time.Second)
		} else {
			failures = 0
		}
		if !s.sleep(wait, p.wake) {
			return
		}
	}
}

// globalStep runs the task if it is due and can be claimed, and returns
// how long to wait before looking again.
func (s *Scheduler) globalStep(p *task) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(s.base, releaseTimeout)
	r, ok, err := s.store.get(ctx, p.ID)
	if err != nil {
		cancel()
		return 0, err
	}
	if !ok {
		// The row was deleted: write it again.
		err := s.store.persist(ctx, p)
		cancel()
		return s.poll, err
	}
	if r.running() {
		cancel()
		return min(s.poll, time.Duration(r.leaseExpiresAt.Int64-r.now+1)*time.Millisecond), nil
	}
	if !r.nextRunAt.Valid {
		cancel()
		return s.poll, nil
	}
	if due := r.nextRunAt.Int64 - r.now; due > 0 {
		cancel()
		return min(s.poll, time.Duration(due)*time.Millisecond), nil
	}
	ticket := randomHex(16)
	claimed, err := s.store.claim(ctx, p.ID, ticket, s.instance, s.lease)
	cancel()
	if err != nil || !claimed {
		return 0, err
	}
	s.runGlobal(p, ticket)
	return 0, nil
}

// runGlobal runs a claimed task, renewing its lease every third of it
// until the run ends or its timeout passes, then releases it.
func (s *Scheduler) runGlobal(p *task, ticket string) {
	log := s.logger.With("task", p.ID)
	runCtx, cancelRun := context.WithCancelCause(s.base)
	timeoutCtx, cancelTimeout := context.WithTimeout(runCtx, p.Timeout)
	defer cancelTimeout()
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		tick := time.NewTicker(s.lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-timeoutCtx.Done():
				// Past the timeout (or cancelled): stop renewing, so that
				// a function that ignores its context can be taken over
				// once the lease expires.
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), s.lease)
			ok, err := s.store.renew(ctx, p.ID, ticket, s.lease)
			cancel()
			if err != nil {
				log.Warn("scheduler: could not renew the lease of a run", "error", err)
				continue
			}
			if !ok {
				log.Error("scheduler: lost the claim on a run of the task (its lease expired and another instance took it over, or its row changed); cancelling the run",
					"instance", s.instance)
				cancelRun(errLostClaim)
				return
			}
		}
	}()
	err := call(timeoutCtx, p.Fn)
	// Read before anything else: a shutdown that begins after the function
	// returned did not interrupt this run.
	interrupted := errors.Is(context.Cause(runCtx), errShutdown)
	close(done)
	<-renewed
	cancelRun(nil)
	var msg string
	switch {
	case interrupted:
		msg = fmt.Sprintf("interrupted: instance %s shut down", s.instance)
	case err != nil:
		msg = err.Error()
		log.Error("scheduler: task failed", "error", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	held, rerr := s.store.release(ctx, p, ticket, msg, interrupted)
	switch {
	case rerr != nil:
		log.Error("scheduler: could not release a run; another instance takes it over when its lease expires", "error", rerr)
	case !held:
		log.Warn("scheduler: a run ended after this instance had lost its claim on it", "instance", s.instance)
	}
}

// localFirst is the first due time of a local task; zero for a manual one.
func (s *Scheduler) localFirst(p *task) time.Time {
	now := s.clock()
	switch {
	case p.every > 0:
		return now.Add(p.InitialDelay)
	case p.cron != nil:
		return p.cron.Next(now.Add(p.InitialDelay))
	}
	return time.Time{}
}

// localWorker runs a local task on this instance, never two runs at once.
func (s *Scheduler) localWorker(p *task) {
	defer s.wg.Done()
	log := s.logger.With("task", p.ID)
	for {
		p.mu.Lock()
		next := p.next
		p.mu.Unlock()
		wait := s.poll
		if !next.IsZero() {
			wait = next.Sub(s.clock())
		}
		if wait > 0 {
			if !s.sleep(wait, p.wake) {
				return
			}
			continue // re-read next: a trigger may have changed it
		}
		if s.shuttingDown() {
			return
		}
		p.mu.Lock()
		p.running, p.started = true, s.clock()
		p.mu.Unlock()
		ctx, cancel := context.WithTimeout(s.base, p.Timeout)
		err := call(ctx, p.Fn)
		cancel()
		if err != nil {
			log.Error("scheduler: task failed", "error", err)
		}
		p.mu.Lock()
		p.running, p.ended, p.lastErr = false, s.clock(), ""
		if err != nil {
			p.lastErr = err.Error()
		}
		switch {
		case p.every > 0:
			p.next = p.started.Add(p.every)
		case p.cron != nil:
			p.next = p.cron.Next(p.ended)
		default:
			p.next = time.Time{}
		}
		p.mu.Unlock()
	}
}
