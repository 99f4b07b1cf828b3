package tracker

import (
	"testing"
	"time"
)

// TestLineageTimeout: the delivery job has its own timeout, longer than
// the server-wide one any default --rescue-after gives, and River uses it.
func TestLineageTimeout(t *testing.T) {
	w := &lineageWorker{}
	if got := w.Timeout(nil); got != lineageTimeout || got <= jobTimeout(2*time.Minute) {
		t.Errorf("lineage job timeout %s, want %s (above the default %s)", got, lineageTimeout, jobTimeout(2*time.Minute))
	}
}
