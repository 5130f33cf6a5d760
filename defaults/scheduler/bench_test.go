package scheduler

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// benchEngines runs fn on a clone database of each engine.
func benchEngines(b *testing.B, fn func(b *testing.B, db *testdatabases.DB)) {
	set := testdatabases.New(b, testdatabases.WithMigrator(Migrations)).With(testdatabases.Clone)
	for _, id := range set.IDs() {
		b.Run(string(id), func(b *testing.B) {
			fn(b, set.Init(b, id))
		})
	}
}

// BenchmarkClaimRelease measures one claim and one release of a due
// interval task: two conditional UPDATEs on the database's clock.
func BenchmarkClaimRelease(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *testdatabases.DB) {
		ctx := context.Background()
		s, err := New(ctx, Options{DB: db.DB, Dialect: db.Dialect, PluginID: "bench", SkipMigrations: true, InstanceID: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		t, err := s.validate(core.Task{ID: "due", Fn: func(context.Context) error { return nil }, Frequency: core.Every(time.Millisecond), Timeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.store.persist(ctx, t); err != nil {
			b.Fatal(err)
		}
		due := s.store.q("UPDATE greenroom_scheduler_tasks SET next_run_at = {now} - 1000 WHERE plugin_id = 'bench' AND id = 'due'")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			// Outside the measure: make the task due again (the release
			// planned it a millisecond ahead).
			b.StopTimer()
			if _, err := db.ExecContext(ctx, due); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			ticket := randomHex(16)
			ok, err := s.store.claim(ctx, "due", ticket, s.instance, s.lease)
			if err != nil || !ok {
				b.Fatalf("claim %d: %v, %v", i, ok, err)
			}
			if ok, err := s.store.release(ctx, t, ticket, "", false); err != nil || !ok {
				b.Fatalf("release %d: %v, %v", i, ok, err)
			}
		}
	})
}

// BenchmarkDeadOwnerTakeover measures the time from a dead owner's last
// renewal (its lease written with the database's clock) until the run
// starts on the surviving instance, with a 200ms lease and a 50ms poll:
// ms/takeover is lease_ms plus the detection delay.
func BenchmarkDeadOwnerTakeover(b *testing.B) {
	const lease = 200 * time.Millisecond
	benchEngines(b, func(b *testing.B, db *testdatabases.DB) {
		ctx := context.Background()
		driver, dsn := db.DriverDSN()
		pool, err := sql.Open(driver, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		s, err := New(ctx, Options{DB: pool, Dialect: db.Dialect, PluginID: "bench", SkipMigrations: true, InstanceID: "survivor",
			LeaseDuration: lease, PollInterval: 50 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Shutdown(ctx)
		started := make(chan time.Time, 1)
		err = s.ScheduleTask(ctx, core.Task{ID: "job", Frequency: core.Manual(), Timeout: time.Hour,
			Fn: func(context.Context) error { started <- time.Now(); return nil }})
		if err != nil {
			b.Fatal(err)
		}
		st := s.store
		die := st.q("UPDATE greenroom_scheduler_tasks SET run_ticket = 'dead', run_owner = 'dead', run_started_at = {now}, lease_expires_at = {now} + ?, next_run_at = {now} WHERE plugin_id = 'bench' AND id = 'job'")
		var total time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			// Wait for the previous run's release.
			for {
				r, _, err := st.get(ctx, "job")
				if err != nil {
					b.Fatal(err)
				}
				if !r.ticket.Valid {
					break
				}
				time.Sleep(time.Millisecond)
			}
			b.StartTimer()
			if _, err := db.Exec(die, lease.Milliseconds()); err != nil {
				b.Fatal(err)
			}
			renewed := time.Now()
			select {
			case at := <-started:
				total += at.Sub(renewed)
			case <-time.After(30 * time.Second):
				b.Fatal("no takeover within 30s")
			}
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/takeover")
		b.ReportMetric(float64(lease.Milliseconds()), "lease_ms")
	})
}
