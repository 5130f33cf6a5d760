package testdatabases

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// dropAll drops every database but kept ones exactly once, even when some
// workers cannot connect, and reports every failed drop by name.
func TestDropAllDropsEachOnceAndReportsFailures(t *testing.T) {
	t.Parallel()
	var names []string
	for i := range 10 {
		names = append(names, fmt.Sprintf("greenroom_test_x_%d", i))
	}
	kept := map[string]bool{"greenroom_test_x_3": true}
	var (
		mu      sync.Mutex
		dropped []string
		opens   int
	)
	open := func() (func(string) error, func(), error) {
		mu.Lock()
		defer mu.Unlock()
		opens++
		if opens%2 == 0 {
			return nil, nil, errors.New("connection refused")
		}
		return func(n string) error {
			mu.Lock()
			defer mu.Unlock()
			dropped = append(dropped, n)
			if n == "greenroom_test_x_7" {
				return errors.New("permission denied")
			}
			return nil
		}, func() {}, nil
	}
	err := dropAll(names, kept, open)
	if err == nil || !strings.Contains(err.Error(), "dropping greenroom_test_x_7: permission denied") {
		t.Fatalf("dropAll = %v, want the failed drop of greenroom_test_x_7 reported", err)
	}
	if strings.Contains(err.Error(), "connection refused") {
		t.Errorf("dropAll = %v: a worker that could not connect is not a failure while others could", err)
	}
	slices.Sort(dropped)
	var want []string
	for _, n := range names {
		if !kept[n] {
			want = append(want, n)
		}
	}
	slices.Sort(want)
	if !slices.Equal(dropped, want) {
		t.Errorf("dropped %v, want each of %v once", dropped, want)
	}

	// No worker connects: the connection errors are the result.
	err = dropAll(names, nil, func() (func(string) error, func(), error) {
		return nil, nil, errors.New("connection refused")
	})
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("dropAll with no connection = %v, want the connection error", err)
	}
}
