package tracker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// stuckJob is a catalog sync and crawl that never end by themselves: it
// reports, once, the deadline its context had and why it was stopped.
type stuckJob struct {
	seen chan stopped
}

type stopped struct {
	budget time.Duration // deadline minus start
	cause  error
}

func (s *stuckJob) wait(ctx context.Context) error {
	started := time.Now()
	dl, ok := ctx.Deadline()
	<-ctx.Done()
	st := stopped{cause: context.Cause(ctx)}
	if ok {
		st.budget = dl.Sub(started)
	}
	select {
	case s.seen <- st:
	default:
	}
	return ctx.Err()
}

func (s *stuckJob) SyncConnection(ctx context.Context, conn, reason string) error { return s.wait(ctx) }
func (s *stuckJob) CrawlWarehouses(ctx context.Context) error                     { return s.wait(ctx) }

// TestCatalogJobTimeout: scheduled catalog syncs and crawls run under
// Config.CatalogJobTimeout, not the short timeout of the other jobs (3/4
// of RescueAfter, 2.25s here), and are stopped with a cause that names the
// flag to raise.
func TestCatalogJobTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 4 * time.Second
	for _, kind := range []string{"sync", "crawl"} {
		for _, be := range storetest.Backends(t) {
			t.Run(kind+"/"+be.Name, func(t *testing.T) {
				t.Parallel()
				job := &stuckJob{seen: make(chan stopped, 1)}
				setup(t, be, func(c *tracker.Config) {
					c.CatalogJobTimeout = timeout
					if kind == "sync" {
						c.CatalogSyncer, c.CatalogSyncInterval = job, 50*time.Millisecond
					} else {
						c.CatalogCrawler, c.CatalogCrawlInterval = job, 50*time.Millisecond
					}
				})
				var got stopped
				select {
				case got = <-job.seen:
				case <-time.After(30 * time.Second):
					t.Fatalf("the catalog %s was not stopped within 30s", kind)
				}
				// The budget is measured from inside the job, a little
				// after its context was made.
				if got.budget > timeout || got.budget < timeout-time.Second {
					t.Errorf("the %s ran with a deadline %s away, want about %s", kind, got.budget, timeout)
				}
				if got.cause == nil || !strings.Contains(got.cause.Error(), "--catalog-job-timeout") {
					t.Errorf("the %s was stopped with cause %v; want one naming --catalog-job-timeout", kind, got.cause)
				}
			})
		}
	}
}

func TestCatalogJobTimeoutRefusesTooShort(t *testing.T) {
	t.Parallel()
	be := storetest.Backends(t)[0]
	keys, err := connection.NewStore(t.TempDir(), connection.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tracker.New(context.Background(), tracker.Config{Store: storetest.Open(t, be), Keys: keys, CatalogJobTimeout: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "catalog job timeout") {
		t.Fatalf("a 1ms catalog job timeout: err = %v, want it refused", err)
	}
}
