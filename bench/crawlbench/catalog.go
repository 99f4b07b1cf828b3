package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

// storeDatabase is the PostgreSQL database the catalog is written to when
// the bench times a crawl into a PostgreSQL store; it is made afresh.
const storeDatabase = "dbtlink_crawlbench_store"

// crawlIntoStores times what a user of `dbtlink warehouse crawl` waits for:
// the warehouse read and the catalog write (ApplyCrawl with its search
// documents), on a SQLite store and on a PostgreSQL one, first into an
// empty catalog (every table new) and then again (nothing new).
func crawlIntoStores(ctx context.Context, conn *pgx.Conn, dsn string, cfg warehouse.Config, target time.Duration) bool {
	ok := true
	for _, backend := range []string{"sqlite", "postgres"} {
		storeDSN, cleanup, err := storeFor(ctx, conn, dsn, backend)
		if err != nil {
			fail("%s store: %v", backend, err)
		}
		st, err := store.Open(ctx, storeDSN, store.Options{})
		if err != nil {
			cleanup()
			fail("open the %s store: %v", backend, err)
		}
		svc := &catalog.Service{Store: st}
		for _, run := range []string{"first crawl", "re-crawl"} {
			start := time.Now()
			cr, err := svc.Crawl(ctx, cfg, os.Getenv("PGPASSWORD"), nil)
			if err != nil {
				fail("%s into %s: %v", run, backend, err)
			}
			d := time.Since(start)
			verdict := "PASS"
			if d >= target {
				verdict, ok = "FAIL", false
			}
			fmt.Printf("  %-8s %-11s %7s  (%d added, %d changed, %d removed)  %s < %s\n", backend, run, d.Round(time.Millisecond), cr.Added, cr.Changed, cr.Removed, verdict, target)
		}
		_ = st.Close()
		cleanup()
	}
	return ok
}

// storeFor returns a fresh, empty store of the backend and what removes it.
func storeFor(ctx context.Context, conn *pgx.Conn, dsn, backend string) (string, func(), error) {
	if backend == "sqlite" {
		dir, err := os.MkdirTemp("", "crawlbench")
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, "dbtlink.db"), func() { _ = os.RemoveAll(dir) }, nil
	}
	drop := func() {
		_, _ = conn.Exec(context.Background(), `DROP DATABASE IF EXISTS `+storeDatabase+` WITH (FORCE)`)
	}
	drop()
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+storeDatabase); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + storeDatabase
	return u.String(), drop, nil
}
