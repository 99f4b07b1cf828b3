//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package connection

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockPoll is how often a waiting process retries the lock. flock has no
// timeout of its own, and a plain blocking flock would hang forever behind a
// stuck process, so we poll with LOCK_NB up to the store's lock timeout.
const lockPoll = 25 * time.Millisecond

// lockFile takes an exclusive advisory lock on path, creating it if needed.
// flock locks belong to the open file description, so two Stores in one
// process exclude each other just as two processes do.
func lockFile(path string, timeout time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				// Closing the file releases the lock; unlock first so the
				// release does not depend on the close succeeding.
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			_ = f.Close()
			return nil, &LockedError{Path: path, Waited: timeout}
		}
		time.Sleep(lockPoll)
	}
}
