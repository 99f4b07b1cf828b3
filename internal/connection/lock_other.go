//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package connection

import (
	"fmt"
	"os"
	"time"
)

// lockFile on platforms without flock only makes sure the lock file can be
// created: dbtlink targets Unix, and concurrent writers there are protected.
// Writes stay atomic (rename), so the worst case here is a lost update, never
// a torn file.
func lockFile(path string, _ time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil
}
