// Command crawlbench times the PostgreSQL adapter's crawl of a schema of
// 20,000 tables of 20 columns each (issue 8's target: under 10 s):
//
//	go run ./bench/crawlbench                       # create, crawl 5 times, keep the schema
//	go run ./bench/crawlbench -reuse                # crawl the schema made by an earlier run
//	go run ./bench/crawlbench -drop                 # drop it
//	go run ./bench/crawlbench -tables 2000 -reps 3
//
// The schema is created with batched DDL (a few hundred CREATE TABLE and
// COMMENT statements per transaction), so setting up 20,000 tables takes
// about a minute. Column types, defaults, NOT NULL and comments vary, so
// the crawl reads every kind of field. The crawl is filtered to the
// schema, as a user would configure it; every repetition opens a new
// connection, as a scheduled crawl does.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtlink/dbtlink/internal/warehouse"
)

func main() {
	dsn := flag.String("dsn", os.Getenv("DBTLINK_TEST_POSTGRES"), "PostgreSQL URL (default $DBTLINK_TEST_POSTGRES); no password in it, use $PGPASSWORD")
	schema := flag.String("schema", "dbtlink_crawlbench", "schema to create the tables in")
	tables := flag.Int("tables", 20000, "tables to create")
	columns := flag.Int("columns", 20, "columns per table")
	reps := flag.Int("reps", 5, "crawls to time")
	reuse := flag.Bool("reuse", false, "reuse the schema when it already holds -tables tables of -columns columns")
	drop := flag.Bool("drop", false, "drop the schema and exit")
	target := flag.Duration("target", 10*time.Second, "the median crawl must take less than this")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the crawls to this file")
	intoStores := flag.Bool("catalog", true, "also time the whole `warehouse crawl` (read and catalog write) into a SQLite and a PostgreSQL store")
	flag.Parse()
	if *dsn == "" {
		fail("no -dsn and DBTLINK_TEST_POSTGRES is not set: give a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	if *tables < 1 || *columns < 1 || *reps < 1 {
		fail("-tables, -columns and -reps must be at least 1")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, *dsn)
	if err != nil {
		fail("connect: %v", err)
	}
	defer conn.Close(ctx)
	if *drop {
		if err := dropSchema(ctx, conn, *schema); err != nil {
			fail("drop schema %s: %v", *schema, err)
		}
		fmt.Printf("dropped schema %s\n", *schema)
		return
	}

	haveTables, haveColumns := count(ctx, conn, *schema)
	if *reuse && haveTables == *tables && haveColumns == *tables**columns {
		fmt.Printf("reusing schema %s: %d tables, %d columns\n", *schema, haveTables, haveColumns)
	} else {
		start := time.Now()
		if err := create(ctx, conn, *schema, *tables, *columns); err != nil {
			fail("create the tables: %v", err)
		}
		fmt.Printf("created schema %s: %d tables x %d columns in %s\n", *schema, *tables, *columns, time.Since(start).Round(time.Millisecond))
	}

	a, err := warehouse.Lookup(warehouse.Postgres)
	if err != nil {
		fail("%v", err)
	}
	cfg := warehouse.Config{Name: "crawlbench", Type: warehouse.Postgres, DSN: *dsn,
		Filter: warehouse.Filter{IncludeSchemas: []string{*schema}}}

	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	go sampleHeap(&peakHeap, stop)

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail("%v", err)
		}
		defer pprof.StopCPUProfile()
	}
	var times []time.Duration
	var gotTables, gotColumns, withComment, withDefault int
	for i := range *reps {
		gotTables, gotColumns, withComment, withDefault = 0, 0, 0, 0
		start := time.Now()
		c, err := a.Open(ctx, cfg, os.Getenv("PGPASSWORD"))
		if err != nil {
			fail("open: %v", err)
		}
		err = c.Crawl(ctx, cfg.Filter, func(t warehouse.Table) error {
			gotTables++
			gotColumns += len(t.Columns)
			if t.Comment != "" {
				withComment++
			}
			for _, col := range t.Columns {
				if col.Default != "" {
					withDefault++
				}
			}
			return nil
		})
		_ = c.Close()
		if err != nil {
			fail("crawl: %v", err)
		}
		d := time.Since(start)
		times = append(times, d)
		fmt.Printf("crawl %d: %s, %d tables, %d columns\n", i+1, d.Round(time.Millisecond), gotTables, gotColumns)
	}
	close(stop)

	slices.SortFunc(times, cmp.Compare)
	minT, median := times[0], times[len(times)/2]
	fmt.Printf("\ncrawl of %d tables x %d columns (%d repetitions)\n", *tables, *columns, *reps)
	fmt.Printf("  min %s, median %s\n", minT.Round(time.Millisecond), median.Round(time.Millisecond))
	fmt.Printf("  %.0f tables/s, %.0f columns/s (median)\n", float64(gotTables)/median.Seconds(), float64(gotColumns)/median.Seconds())
	fmt.Printf("  read %d tables, %d columns, %d table comments, %d column defaults\n", gotTables, gotColumns, withComment, withDefault)
	fmt.Printf("  peak heap %.1f MiB, peak RSS %s\n", float64(peakHeap.Load())/(1<<20), peakRSS())

	ok := true
	if gotTables != *tables || gotColumns != *tables**columns {
		fmt.Printf("FAIL: expected %d tables and %d columns\n", *tables, *tables**columns)
		ok = false
	}
	if wantComments := (*tables + 9) / 10; withComment != wantComments {
		fmt.Printf("FAIL: expected %d table comments, read %d\n", wantComments, withComment)
		ok = false
	}
	if median >= *target {
		fmt.Printf("FAIL: median %s is not under the %s target\n", median.Round(time.Millisecond), *target)
		ok = false
	}
	if *intoStores {
		fmt.Printf("\nthe whole crawl a user waits for (read + catalog write with search documents):\n")
		if !crawlIntoStores(ctx, conn, *dsn, cfg, *target) {
			ok = false
		}
	}
	if !ok {
		pprof.StopCPUProfile()
		os.Exit(1)
	}
	fmt.Printf("PASS: median %s < %s target\n", median.Round(time.Millisecond), *target)
}

// count returns the tables and columns in schema.
func count(ctx context.Context, conn *pgx.Conn, schema string) (tables, columns int) {
	err := conn.QueryRow(ctx, `SELECT count(DISTINCT c.oid), count(a.attnum)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = $1 AND c.relkind = 'r'`, schema).Scan(&tables, &columns)
	if err != nil {
		fail("count tables in %s: %v", schema, err)
	}
	return tables, columns
}

// columnTypes cycle over the columns of each table.
var columnTypes = []string{
	"bigint NOT NULL", "text", "numeric(12,2) DEFAULT 0", "timestamp with time zone DEFAULT now()",
	"boolean NOT NULL DEFAULT false", "character varying(40)", "integer", "date", "jsonb", "double precision",
}

// create makes schema afresh with n tables of cols columns, in
// transactions of batch tables each; one table in ten gets a comment and
// its first column a column comment.
func create(ctx context.Context, conn *pgx.Conn, schema string, n, cols int) error {
	ident := pgx.Identifier{schema}.Sanitize()
	if err := dropSchema(ctx, conn, schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+ident); err != nil {
		return err
	}
	const batch = 250
	var b strings.Builder
	for start := 0; start < n; start += batch {
		b.Reset()
		b.WriteString("BEGIN;\n")
		for i := start; i < min(start+batch, n); i++ {
			table := ident + `.` + pgx.Identifier{"t" + strconv.Itoa(i)}.Sanitize()
			b.WriteString("CREATE TABLE " + table + " (")
			for j := range cols {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "c%d %s", j, columnTypes[(i+j)%len(columnTypes)])
			}
			b.WriteString(");\n")
			if i%10 == 0 {
				fmt.Fprintf(&b, "COMMENT ON TABLE %s IS 'bench table %d';\n", table, i)
				fmt.Fprintf(&b, "COMMENT ON COLUMN %s.c0 IS 'first column';\n", table)
			}
		}
		b.WriteString("COMMIT;")
		if _, err := conn.Exec(ctx, b.String()); err != nil {
			return fmt.Errorf("tables %d-%d: %w", start, min(start+batch, n)-1, err)
		}
		if start > 0 && start%5000 == 0 {
			fmt.Printf("  %d tables\n", start)
		}
	}
	return nil
}

// dropSchema drops schema's tables a few hundred per transaction, then
// the schema: one DROP SCHEMA ... CASCADE of 20,000 tables needs more
// locks than the server's default max_locks_per_transaction allows.
func dropSchema(ctx context.Context, conn *pgx.Conn, schema string) error {
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition`, schema)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for batch := range slices.Chunk(tables, 250) {
		var idents []string
		for _, t := range batch {
			idents = append(idents, pgx.Identifier{schema, t}.Sanitize())
		}
		if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS `+strings.Join(idents, ", ")+` CASCADE`); err != nil {
			return err
		}
	}
	_, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
	return err
}

// sampleHeap records the largest heap in use until stop is closed.
func sampleHeap(peak *atomic.Uint64, stop <-chan struct{}) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	var ms runtime.MemStats
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}
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
	fmt.Fprintf(os.Stderr, "crawlbench: "+format+"\n", args...)
	os.Exit(1)
}
