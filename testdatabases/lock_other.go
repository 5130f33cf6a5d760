//go:build !unix

package testdatabases

// Without flock, run directories are only removed by the run's own reaper.
func lockDir(string) error  { return nil }
func dirIsDead(string) bool { return false }
