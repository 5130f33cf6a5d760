package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/greenroom-dev/greenroom/core"
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
	sent := time.Now()
	claimed, err := s.store.claim(ctx, p.ID, ticket, s.instance, s.lease)
	cancel()
	if err != nil || !claimed {
		return 0, err
	}
	s.runGlobal(p, ticket, sent)
	return 0, nil
}

// runGlobal runs a claimed task and releases it. The lease is renewed
// every third of it from the claim (at claimed, this instance's monotonic
// clock before the claim's query) until the release is done: also past the
// task's timeout and after a shutdown cancelled the run, for as long as the
// function takes to return, so that no other instance runs the task while
// this one still does.
func (s *Scheduler) runGlobal(p *task, ticket string, claimed time.Time) {
	log := s.logger.With("task", p.ID)
	runCtx, cancelRun := context.WithCancelCause(s.base)
	defer cancelRun(nil)
	timeoutCtx, cancelTimeout := context.WithTimeout(runCtx, p.Timeout)
	defer cancelTimeout()
	h := &holder{s: s, id: p.ID, ticket: ticket, last: claimed, fence: cancelRun, log: log,
		done: make(chan struct{}), stopped: make(chan struct{})}
	go h.renew()
	err := call(timeoutCtx, p.Fn)
	// A run that returned nil did its work, even if a shutdown began
	// meanwhile: only a failed run cancelled by the shutdown is run again.
	interrupted := err != nil && errors.Is(context.Cause(runCtx), errShutdown)
	var msg string
	switch {
	case interrupted:
		msg = fmt.Sprintf("interrupted: instance %s shut down", s.instance)
	case err != nil:
		msg = err.Error()
		log.Error("scheduler: task failed", "error", err)
	}
	held, rerr := s.release(p, ticket, sanitizeError(msg), interrupted, h)
	close(h.done)
	<-h.stopped
	switch {
	case rerr != nil:
		log.Error("scheduler: could not release a run; another instance runs it again when its lease expires", "error", rerr)
	case !held:
		log.Warn("scheduler: a run ended after this instance had lost its claim on it", "instance", s.instance)
	}
}

// release releases the run, retrying with backoff while the holder keeps
// the lease, so that a short database outage at the end of a run does not
// make another instance run the same period again. It gives up when the
// lease is about to run out (the holder could not renew it), when the claim
// is lost, or after releaseTimeout.
func (s *Scheduler) release(p *task, ticket, msg string, interrupted bool, h *holder) (bool, error) {
	deadline := time.Now().Add(releaseTimeout)
	backoff := s.lease / 20
	for {
		ctx, cancel := context.WithTimeout(context.Background(), min(s.lease/3, time.Until(deadline)))
		held, err := s.store.release(ctx, p, ticket, msg, interrupted)
		cancel()
		if err == nil {
			return held, nil
		}
		if h.lost() || h.expiring(backoff) || time.Now().Add(backoff).After(deadline) {
			return false, err
		}
		s.logger.With("task", p.ID).Warn("scheduler: could not release a run; retrying", "error", err)
		time.Sleep(backoff)
		backoff = min(2*backoff, s.lease/3)
	}
}

// holder renews the lease of one run until done is closed, and fences the
// run (cancels it with errLostClaim) when it lost the claim or could not
// renew it for so long that the lease may expire on the database's clock:
// another instance may then take the run over.
type holder struct {
	s       *Scheduler
	id      string
	ticket  string
	fence   context.CancelCauseFunc
	log     core.Logger
	done    chan struct{} // closed when the run is released
	stopped chan struct{} // closed when renew returns

	mu       sync.Mutex
	last     time.Time // when the last successful renewal (or the claim) was sent
	lostFlag bool
}

// margin is how long before the lease expires, on this instance's
// monotonic clock, a run that could not renew is fenced.
func (h *holder) margin() time.Duration { return h.s.lease / 3 }

// expiring reports whether the lease may run out within d plus the margin.
func (h *holder) expiring(d time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Since(h.last)+d > h.s.lease-h.margin()
}

func (h *holder) lost() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lostFlag
}

func (h *holder) renew() {
	defer close(h.stopped)
	lease := h.s.lease
	timer := time.NewTimer(lease / 3)
	defer timer.Stop()
	fenced := false
	for {
		select {
		case <-h.done:
			return
		case <-timer.C:
		}
		sent := time.Now()
		// A renewal that takes longer than a third of the lease is given
		// up, so that the fence below is checked in time.
		ctx, cancel := context.WithTimeout(context.Background(), lease/3)
		ok, err := h.s.store.renew(ctx, h.id, h.ticket, lease)
		cancel()
		switch {
		case err == nil && ok:
			h.mu.Lock()
			h.last = sent
			h.mu.Unlock()
			timer.Reset(lease / 3)
			continue
		case err == nil:
			h.log.Error("scheduler: lost the claim on a run of the task (its lease expired and another instance took it over, or its row changed); cancelling the run",
				"instance", h.s.instance)
			h.mu.Lock()
			h.lostFlag = true
			h.mu.Unlock()
			h.fence(errLostClaim)
			return
		}
		h.log.Warn("scheduler: could not renew the lease of a run", "error", err)
		if !fenced && h.expiring(0) {
			fenced = true
			h.log.Error("scheduler: could not renew the lease of a run in time: cancelling the run, which another instance may take over when the lease expires",
				"instance", h.s.instance, "error", err)
			h.fence(errLostClaim)
		}
		// Retry sooner than the regular period.
		timer.Reset(lease / 10)
	}
}

// maxErrorBytes bounds the last error stored in the task's row.
const maxErrorBytes = 8 << 10

// sanitizeError makes a run's error text acceptable to every database:
// valid UTF-8 without NUL bytes (refused by PostgreSQL and MySQL's utf8mb4)
// and at most maxErrorBytes long (MySQL's TEXT holds 64 KiB), cut on a
// rune boundary with a marker.
func sanitizeError(msg string) string {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	msg = strings.ReplaceAll(msg, "\x00", "")
	if len(msg) <= maxErrorBytes {
		return msg
	}
	const marker = " … (truncated)"
	cut := maxErrorBytes - len(marker)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + marker
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
