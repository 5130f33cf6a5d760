package schedspec_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/schedspec"
)

func ExampleValidate() {
	spec, err := schedspec.Validate(core.Task{ID: "nightly", Frequency: core.Cron("0 3 * * *"), Timeout: time.Minute,
		Fn: func(context.Context) error { return nil }})
	if err != nil {
		panic(err)
	}
	fmt.Println(spec.Cron.Next(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)))
	_, err = schedspec.Validate(core.Task{ID: "fast", Frequency: core.Every(time.Microsecond), Timeout: time.Minute,
		Fn: func(context.Context) error { return nil }})
	fmt.Println(err)
	// Output:
	// 2026-01-02 03:00:00 +0000 UTC
	// the interval 1µs is shorter than a millisecond; use at least 1ms
}

func ExampleParseCron() {
	s, err := schedspec.ParseCron("CRON_TZ=Asia/Tokyo 0 3 * * *")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Next(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)))
	// Output: 2026-01-01 18:00:00 +0000 UTC
}

// A cron expression without a zone is in UTC whatever the local zone; the
// test re-runs itself with TZ set.
func TestCronIsUTCWhateverTheLocalZone(t *testing.T) {
	t.Parallel()
	if os.Getenv("SCHEDSPEC_TZ_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCronIsUTCWhateverTheLocalZone$")
		cmd.Env = append(os.Environ(), "TZ=Asia/Tokyo", "SCHEDSPEC_TZ_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("with TZ=Asia/Tokyo: %v\n%s", err, out)
		}
		return
	}
	s, err := schedspec.ParseCron("0 3 * * *")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, in := range []time.Time{from, from.Local(), from.In(time.FixedZone("X", -5*3600))} {
		if got, want := s.Next(in), time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Next(%v) = %v (local zone %v), want %v", in, got, time.Local, want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	fn := func(context.Context) error { return nil }
	ok := core.Task{ID: "t", Fn: fn, Frequency: core.Every(time.Millisecond), Timeout: time.Second}
	if _, err := schedspec.Validate(ok); err != nil {
		t.Errorf("Validate(Every(1ms)) = %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*core.Task)
		want string
	}{
		{"empty ID", func(t *core.Task) { t.ID = "" }, "ID is empty"},
		{"long ID", func(t *core.Task) { t.ID = strings.Repeat("x", 256) }, "at most 255"},
		{"nil Fn", func(t *core.Task) { t.Fn = nil }, "Fn is nil"},
		{"no frequency", func(t *core.Task) { t.Frequency = core.Frequency{} }, "frequency is not set"},
		{"zero timeout", func(t *core.Task) { t.Timeout = 0 }, "timeout"},
		{"negative delay", func(t *core.Task) { t.InitialDelay = -1 }, "initial delay"},
		{"unknown scope", func(t *core.Task) { t.Scope = "cluster" }, "scope"},
		{"zero interval", func(t *core.Task) { t.Frequency = core.Every(-time.Second) }, "not positive"},
		{"sub-millisecond interval", func(t *core.Task) { t.Frequency = core.Every(500 * time.Microsecond) }, "at least 1ms"},
		{"bad cron", func(t *core.Task) { t.Frequency = core.Cron("61 * * * *") }, "cannot be parsed"},
	} {
		task := ok
		c.edit(&task)
		if _, err := schedspec.Validate(task); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
