package connection

import "time"

// LockFile takes an exclusive advisory lock on path (created 0600 if
// missing), waiting up to timeout, and returns the function that releases
// it. A lock held elsewhere gives a *LockedError. `dbtlink serve` uses it so
// that one process alone owns a SQLite database.
func LockFile(path string, timeout time.Duration) (unlock func(), err error) {
	return lockFile(path, timeout)
}
