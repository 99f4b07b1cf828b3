// Command catalogbench times issue 8's catalog targets on SQLite and
// PostgreSQL:
//
//   - (a) the first sync of a 100 MB manifest (bench/manifestgen) with a
//     catalog.json and a run_results.json of the same nodes, through
//     catalog.Service.Upload: read, build, match, write and search refresh,
//     everything a user waits for (target: under 5 s);
//   - (b) a re-sync of the same files (the fingerprint skip; under 1 s);
//   - (c) a re-sync with the run_results changed (a real rewrite);
//   - (d) search over 50,000 table documents, N queries of typical words
//     and prefixes (p95 under 20 ms).
//
// The warehouse is not crawled: the manifest's relations are written as
// tables with store.ApplyCrawl, so that matching has work to do. (a) is
// also broken down by phase, timed by calling the same steps one by one on
// a fresh database. Every figure is the median of -reps runs, each on a
// fresh database; wall and CPU time (this process's; PostgreSQL's server
// time is not in it) are given with the load average, and on PostgreSQL
// the CPU time of its backends ("db cpu", read from /proc when the server
// runs on this machine).
//
//	go run ./bench/manifestgen -in lineage/testdata/hubspot_v12.json -size 100MB -o /tmp/m.json
//	go run ./bench/catalogbench -manifest /tmp/m.json
//	go run ./bench/catalogbench -manifest /tmp/m.json -backends sqlite -reps 1 -cpuprofile /tmp/cpu.out
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create and drop the schema

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
)

const warehouseName = "benchwh"

func main() {
	manifestPath := flag.String("manifest", "", "manifest.json to sync (from bench/manifestgen); required")
	dsn := flag.String("dsn", os.Getenv("DBTLINK_TEST_POSTGRES"), "PostgreSQL URL (default $DBTLINK_TEST_POSTGRES); each run uses its own schema, dropped after")
	backends := flag.String("backends", "sqlite,postgres", "backends to time, comma-separated")
	reps := flag.Int("reps", 3, "runs of each measurement (the median is reported)")
	searchTables := flag.Int("search-tables", 50000, "table documents for the search benchmark")
	queries := flag.Int("queries", 200, "search queries")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the first syncs to this file")
	flag.Parse()
	if *manifestPath == "" {
		fail("-manifest is required: generate one with go run ./bench/manifestgen -in lineage/testdata/hubspot_v12.json -size 100MB -o /tmp/m.json")
	}
	if *reps < 1 || *queries < 1 || *searchTables < 1 {
		fail("-reps, -queries and -search-tables must be at least 1")
	}
	manifest, err := os.ReadFile(*manifestPath)
	if err != nil {
		fail("read the manifest: %v", err)
	}
	fx, err := newFixture(manifest)
	if err != nil {
		fail("derive catalog.json and run_results.json from %s: %v", *manifestPath, err)
	}
	fmt.Printf("manifest %s: %.1f MB, %d relations (models, seeds, snapshots, sources), catalog.json %.1f MB, run_results.json %.1f MB\n",
		*manifestPath, mb(len(manifest)), len(fx.tables), mb(len(fx.catalog)), mb(len(fx.results)))
	fmt.Printf("load average at start: %s\n", loadavg())

	var profile *os.File
	if *cpuprofile != "" {
		if profile, err = os.Create(*cpuprofile); err != nil {
			fail("%v", err)
		}
	}
	var all []result
	allPass := true
	for _, name := range strings.Split(*backends, ",") {
		b := backend{name: strings.TrimSpace(name), pgURL: *dsn}
		if b.name != "sqlite" && b.name != "postgres" {
			fail("unknown backend %q: use sqlite or postgres", b.name)
		}
		if b.name == "postgres" && b.pgURL == "" {
			fmt.Println("postgres: skipped, set DBTLINK_TEST_POSTGRES or -dsn to a PostgreSQL URL")
			continue
		}
		rs, err := runBackend(b, fx, *reps, *searchTables, *queries, profile)
		if err != nil {
			fail("%s: %v", b.name, err)
		}
		all = append(all, rs...)
	}
	if profile != nil {
		_ = profile.Close()
	}

	fmt.Println()
	fmt.Printf("%-9s %-44s %10s %10s %10s %10s %8s  %s\n", "backend", "measurement", "median", "min", "cpu", "db cpu", "target", "")
	for _, r := range all {
		verdict := ""
		if r.target > 0 {
			verdict = "PASS"
			if r.median >= r.target {
				verdict, allPass = "FAIL", false
			}
		}
		tgt := ""
		if r.target > 0 {
			tgt = "<" + fmtDur(r.target)
		}
		cpu := ""
		if r.cpu > 0 {
			cpu = fmtDur(r.cpu)
		}
		db := ""
		if r.dbCPU > 0 {
			db = fmtDur(r.dbCPU)
		}
		fmt.Printf("%-9s %-44s %10s %10s %10s %10s %8s  %s %s\n", r.backend, r.what, fmtDur(r.median), fmtDur(r.min), cpu, db, tgt, verdict, r.note)
	}
	fmt.Printf("\npeak RSS %s; load average at end: %s\n", peakRSS(), loadavg())
	if !allPass {
		os.Exit(1)
	}
}

type result struct {
	backend, what, note string
	median, min, cpu    time.Duration
	dbCPU               time.Duration // PostgreSQL's backends; 0 on SQLite
	target              time.Duration
}

type backend struct {
	name  string
	pgURL string
}

// open returns a fresh, migrated store and a function that closes it and
// drops its database.
func (b backend) open(ctx context.Context) (*store.Store, func(), error) {
	if b.name == "sqlite" {
		dir, err := os.MkdirTemp("", "catalogbench")
		if err != nil {
			return nil, nil, err
		}
		s, err := store.Open(ctx, filepath.Join(dir, "dbtlink.db"), store.Options{})
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, nil, err
		}
		return s, func() { _ = s.Close(); _ = os.RemoveAll(dir) }, nil
	}
	u, err := url.Parse(b.pgURL)
	if err != nil {
		return nil, nil, fmt.Errorf("the PostgreSQL URL does not parse; write it as postgres://USER@HOST:5432/DATABASE")
	}
	rnd := make([]byte, 6)
	_, _ = rand.Read(rnd)
	schema := "dbtlink_catalogbench_" + hex.EncodeToString(rnd)
	admin, err := sql.Open("pgx", b.pgURL)
	if err != nil {
		return nil, nil, err
	}
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		_ = admin.Close()
		return nil, nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	// The server's CPU time is read from /proc for the backends of this
	// store's connections, found by their application name: under load a
	// wall time says little, and without it PostgreSQL's work is unseen.
	appName := "catalogbench_" + hex.EncodeToString(rnd)
	dbCPU = func() time.Duration { return backendCPU(admin, appName) }
	drop := func() {
		dbCPU = nil
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			fmt.Fprintf(os.Stderr, "catalogbench: drop schema %s: %v\n", schema, err)
		}
		_ = admin.Close()
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", appName)
	u.RawQuery = q.Encode()
	s, err := store.Open(ctx, u.String(), store.Options{})
	if err != nil {
		drop()
		return nil, nil, err
	}
	return s, func() { _ = s.Close(); drop() }, nil
}

// seedWarehouse writes the fixture's tables as a crawl of warehouseName.
func seedWarehouse(ctx context.Context, s *store.Store, tables []store.CatalogTable) error {
	_, err := s.ApplyCrawl(ctx, store.ApplyCrawlParams{Warehouse: warehouseName, CrawledAt: time.Now(), Tables: tables})
	return err
}

// profiled says a profile was taken.
var profiled bool

func runBackend(b backend, fx *fixture, reps, searchTables, queries int, profile *os.File) ([]result, error) {
	ctx := context.Background()
	var (
		first, resync, rewrite         []sample
		phRead, phBuild, phMatch       []sample
		phWrite, phSearch, phBreakdown []sample
	)
	upload := func(svc *catalog.Service, results []byte, force bool) (catalog.SyncResult, error) {
		return svc.Upload(ctx, "bench", []catalog.UploadFile{
			{Name: "manifest.json", R: bytes.NewReader(fx.manifest)},
			{Name: "catalog.json", R: bytes.NewReader(fx.catalog)},
			{Name: "run_results.json", R: bytes.NewReader(results)},
		}, catalog.SyncOptions{Force: force}, nil)
	}
	var lastRes catalog.SyncResult
	for i := range reps {
		fmt.Printf("%s: run %d of %d (load %s)\n", b.name, i+1, reps, loadavg())
		s, closeStore, err := b.open(ctx)
		if err != nil {
			return nil, err
		}
		if err := seedWarehouse(ctx, s, fx.tables); err != nil {
			closeStore()
			return nil, fmt.Errorf("seed the warehouse tables: %w", err)
		}
		svc := &catalog.Service{Store: s}
		if profile != nil && i == 0 && !profiled {
			// One profile: the first sync of the first backend.
			_ = pprof.StartCPUProfile(profile)
			profiled = true
		}
		m := measure()
		res, err := upload(svc, fx.results, false)
		first = append(first, m.done())
		pprof.StopCPUProfile()
		if err != nil {
			closeStore()
			return nil, fmt.Errorf("first sync: %w", err)
		}
		if res.Status != store.SyncOK {
			closeStore()
			return nil, fmt.Errorf("first sync ended %s: %s", res.Status, res.Error)
		}
		lastRes = res
		m = measure()
		res, err = upload(svc, fx.results, false)
		resync = append(resync, m.done())
		if err != nil || res.Status != store.SyncUnchanged {
			closeStore()
			return nil, fmt.Errorf("re-sync: status %q, error %v (want unchanged)", res.Status, err)
		}
		m = measure()
		res, err = upload(svc, fx.results2, false)
		rewrite = append(rewrite, m.done())
		if err != nil || res.Status != store.SyncOK {
			closeStore()
			return nil, fmt.Errorf("re-sync with new run_results: status %q, error %v", res.Status, err)
		}
		closeStore()

		// The same first sync, step by step, on a fresh database.
		s, closeStore, err = b.open(ctx)
		if err != nil {
			return nil, err
		}
		if err := seedWarehouse(ctx, s, fx.tables); err != nil {
			closeStore()
			return nil, err
		}
		ph, err := phases(ctx, s, fx)
		closeStore()
		if err != nil {
			return nil, fmt.Errorf("phases: %w", err)
		}
		phRead, phBuild, phMatch = append(phRead, ph[0]), append(phBuild, ph[1]), append(phMatch, ph[2])
		phWrite, phSearch, phBreakdown = append(phWrite, ph[3]), append(phSearch, ph[4]), append(phBreakdown, ph[5])
	}
	note := ""
	if lastRes.Report != nil {
		note = fmt.Sprintf("(%d nodes, %d tests, %d of %d relations matched)", lastRes.Nodes, lastRes.Tests, lastRes.Report.Counts.Matched, lastRes.Report.Counts.Relations)
	}
	out := []result{
		summarize(b.name, "(a) first sync via Upload", first, 5*time.Second, note),
		summarize(b.name, "    read (InputsFromFiles)", phRead, 0, ""),
		summarize(b.name, "    build (BuildSnapshot)", phBuild, 0, ""),
		summarize(b.name, "    match", phMatch, 0, ""),
		summarize(b.name, "    write (WriteSnapshot)", phWrite, 0, ""),
		summarize(b.name, "    search refresh", phSearch, 0, ""),
		summarize(b.name, "    sum of the phases", phBreakdown, 0, ""),
		summarize(b.name, "(b) re-sync, same files", resync, time.Second, ""),
		summarize(b.name, "(c) re-sync, run_results changed", rewrite, 0, ""),
	}
	srch, err := searchBench(ctx, b, searchTables, queries, reps)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return append(out, srch...), nil
}

// phases runs the steps of Service.Upload one by one (the write as
// Service.write does it, in one transaction with the search refresh, but
// timed apart) and returns read, build, match, write, search refresh and
// their sum.
func phases(ctx context.Context, s *store.Store, fx *fixture) ([6]sample, error) {
	var out [6]sample
	m := measure()
	in, err := catalog.InputsFromFiles(
		catalog.UploadFile{Name: "manifest.json", R: bytes.NewReader(fx.manifest)},
		catalog.UploadFile{Name: "catalog.json", R: bytes.NewReader(fx.catalog)},
		catalog.UploadFile{Name: "run_results.json", R: bytes.NewReader(fx.results)})
	if err != nil {
		return out, err
	}
	out[0] = m.done()
	scope := catalog.UploadScope("bench")
	scope.Fingerprint = in.Fingerprint
	m = measure()
	snap, err := catalog.BuildSnapshot(scope, in, catalog.BuildOptions{})
	if err != nil {
		return out, err
	}
	out[1] = m.done()
	m = measure()
	refs, err := s.CatalogTableKeys(ctx, warehouseName)
	if err != nil {
		return out, err
	}
	cands := make([]catalog.TableCandidate, 0, len(refs))
	for _, r := range refs {
		cands = append(cands, catalog.TableCandidate{ID: r.ID, Database: r.Database, Schema: r.Schema, Name: r.Name})
	}
	catalog.Match(in.Manifest.Metadata.AdapterType, snap.Nodes, cands)
	snap.Scope.Warehouse = warehouseName
	out[2] = m.done()
	err = s.InTx(ctx, func(tx *store.Tx) error {
		m := measure()
		sc, err := tx.WriteSnapshot(ctx, snap)
		if err != nil {
			return err
		}
		out[3] = m.done()
		m = measure()
		var ids []int64
		var docs []store.SearchDoc
		after := int64(0)
		for {
			page, err := tx.ListNodes(ctx, store.ListNodesParams{ScopeID: sc.ID, WithColumns: true, Limit: 1000, AfterID: after})
			if err != nil {
				return err
			}
			for _, n := range page {
				switch {
				case n.TableID != 0:
					ids = append(ids, n.TableID)
				case n.ResourceType != "group":
					docs = append(docs, store.SearchDoc{Kind: store.SearchNode, Ref: n.ID, Name: n.Name + " " + n.UniqueID, Description: n.Description})
				}
			}
			if len(page) < 1000 {
				break
			}
			after = page[len(page)-1].ID
		}
		if err := tx.PutSearchDocs(ctx, docs); err != nil {
			return err
		}
		slices.Sort(ids)
		if err := tx.RefreshTableSearch(ctx, slices.Compact(ids)); err != nil {
			return err
		}
		out[4] = m.done()
		return nil
	})
	if err != nil {
		return out, err
	}
	for _, p := range out[:5] {
		out[5].wall += p.wall
		out[5].cpu += p.cpu
		out[5].db += p.db
	}
	return out, nil
}

var searchWords = []string{"customer", "order", "payment", "invoice", "contact", "company", "deal", "ticket", "event",
	"session", "product", "account", "campaign", "email", "subscription", "refund", "shipment", "inventory", "user", "revenue"}

// searchBench creates n table documents and times queries searches of
// typical words and prefixes, reps times over.
func searchBench(ctx context.Context, b backend, n, queries, reps int) ([]result, error) {
	s, closeStore, err := b.open(ctx)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	tables := make([]store.CatalogTable, n)
	for i := range tables {
		w1, w2 := searchWords[i%len(searchWords)], searchWords[(i/len(searchWords))%len(searchWords)]
		tables[i] = store.CatalogTable{
			TableKey: store.TableKey{Database: "analytics", Schema: fmt.Sprintf("%s_%d", w2, i%50), Name: fmt.Sprintf("fct_%s_%s_%d", w1, w2, i)},
			Kind:     "table", Comment: fmt.Sprintf("One row per %s and %s, from the %s source", w1, w2, searchWords[(i*7)%len(searchWords)]),
			Columns: []store.CatalogColumn{
				{Name: w1 + "_id", Position: 1, DataType: "bigint"},
				{Name: w2 + "_name", Position: 2, DataType: "text"},
				{Name: "created_at", Position: 3, DataType: "timestamp"},
			},
		}
	}
	start := time.Now()
	if _, err := s.ApplyCrawl(ctx, store.ApplyCrawlParams{Warehouse: "searchwh", CrawledAt: time.Now(), Tables: tables}); err != nil {
		return nil, err
	}
	refs, err := s.CatalogTableKeys(ctx, "searchwh")
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	m := measure()
	if err := s.RefreshTableSearch(ctx, ids); err != nil {
		return nil, err
	}
	refresh := m.done()
	fmt.Printf("%s: %d table documents created in %s (RefreshTableSearch %s)\n", b.name, n, fmtDur(time.Since(start)), fmtDur(refresh.wall))

	qs := make([]string, queries)
	for i := range qs {
		w := searchWords[i%len(searchWords)]
		switch i % 4 {
		case 0:
			qs[i] = w
		case 1:
			qs[i] = w[:4] // a prefix as typed
		case 2:
			qs[i] = w + " " + searchWords[(i*3+1)%len(searchWords)]
		default:
			qs[i] = fmt.Sprintf("%s_%d", w, i%50)
		}
	}
	var p50s, p95s, maxs []sample
	hits := 0
	for range reps {
		lat := make([]time.Duration, 0, len(qs))
		for _, q := range qs {
			t := time.Now()
			h, err := s.Search(ctx, store.SearchParams{Query: q})
			if err != nil {
				return nil, fmt.Errorf("search %q: %w", q, err)
			}
			lat = append(lat, time.Since(t))
			hits += len(h)
		}
		slices.Sort(lat)
		p50s = append(p50s, sample{wall: lat[len(lat)/2]})
		p95s = append(p95s, sample{wall: lat[int(math.Ceil(0.95*float64(len(lat))))-1]})
		maxs = append(maxs, sample{wall: lat[len(lat)-1]})
	}
	if hits == 0 {
		return nil, fmt.Errorf("no query found anything among %d tables", n)
	}
	what := fmt.Sprintf("(d) search, %d tables, %d queries", n, queries)
	return []result{
		{backend: b.name, what: "    RefreshTableSearch of all of them", median: refresh.wall, min: refresh.wall, cpu: refresh.cpu},
		summarize(b.name, what+" p50", p50s, 0, ""),
		summarize(b.name, what+" p95", p95s, 20*time.Millisecond, fmt.Sprintf("(%.1f hits/query)", float64(hits)/float64(reps*len(qs)))),
		summarize(b.name, what+" max", maxs, 0, ""),
	}, nil
}

// sample is a wall and CPU time.
type sample struct{ wall, cpu, db time.Duration }

type meter struct {
	start   time.Time
	cpu, db time.Duration
}

// dbCPU, when set, reads the CPU time of the PostgreSQL backends serving
// the open store.
var dbCPU func() time.Duration

func measure() meter {
	m := meter{start: time.Now(), cpu: cpuTime()}
	if dbCPU != nil {
		m.db = dbCPU()
	}
	return m
}

func (m meter) done() sample {
	s := sample{wall: time.Since(m.start), cpu: cpuTime() - m.cpu}
	if dbCPU != nil {
		s.db = dbCPU() - m.db
	}
	return s
}

// backendCPU sums the user and system CPU time of the PostgreSQL backends
// whose application_name is app, from /proc/PID/stat: the server runs on
// this machine in the bench's setting; elsewhere it reads 0.
func backendCPU(admin *sql.DB, app string) time.Duration {
	rows, err := admin.Query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		return 0
	}
	defer rows.Close()
	var total time.Duration
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			return 0
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces) in parentheses;
		// utime and stime are the 14th and 15th fields, in clock ticks
		// (100 a second on Linux).
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		var ut, st int64
		fmt.Sscan(f[11], &ut)
		fmt.Sscan(f[12], &st)
		total += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return total
}

func summarize(backend, what string, ss []sample, target time.Duration, note string) result {
	walls := make([]time.Duration, len(ss))
	cpus := make([]time.Duration, len(ss))
	dbs := make([]time.Duration, len(ss))
	for i, s := range ss {
		walls[i], cpus[i], dbs[i] = s.wall, s.cpu, s.db
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	slices.Sort(dbs)
	return result{backend: backend, what: what, median: walls[len(walls)/2], min: walls[0], cpu: cpus[len(cpus)/2], dbCPU: dbs[len(dbs)/2], target: target, note: note}
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
}

func mb(n int) float64 { return float64(n) / (1 << 20) }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

// peakRSS is VmHWM from /proc/self/status (Linux), or "n/a".
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "catalogbench: "+format+"\n", args...)
	os.Exit(1)
}
