//go:build !unix

package sqlitefake

import "errors"

// makeProcessDir reports that databases are not recycled on systems
// without flock: a pool directory could not be told from a dead process's.
func makeProcessDir() (string, error) {
	return "", errors.New("mockservices: databases are recycled on unix systems only")
}
