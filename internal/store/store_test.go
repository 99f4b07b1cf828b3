package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

// each runs fn on a fresh store of every backend, in parallel.
func each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	eachWithClock(t, func(t *testing.T, s *store.Store, _ *clock) { fn(t, s) })
}

// eachWithClock is each with a store whose clock fn sets.
func eachWithClock(t *testing.T, fn func(t *testing.T, s *store.Store, clk *clock)) {
	t.Helper()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			fn(t, storetest.OpenWith(t, b, store.Options{Now: clk.Now}), clk)
		})
	}
}

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	// Nanoseconds and a zone other than UTC, which the store must drop.
	return &clock{t: time.Date(2025, 3, 1, 13, 4, 5, 123456789, time.FixedZone("CET", 3600))}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// stored is how t reads back: UTC, to the microsecond.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenTwiceKeepsData(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s1, err := store.Open(ctx, b.DSN, store.Options{})
			must(t, err)
			if got := s1.Dialect(); string(got) != b.Name {
				t.Errorf("Dialect() = %q, want %q", got, b.Name)
			}
			_, err = s1.CreateConnection(ctx, store.Connection{Name: "prod", Host: "cloud.getdbt.com", AccountID: 1, SealedToken: []byte("x"), KeyID: "k"})
			must(t, err)
			must(t, s1.Close())

			s2 := storetest.Open(t, b) // migrations already applied: a no-op
			if _, err := s2.GetConnection(ctx, "prod"); err != nil {
				t.Fatalf("after reopening: %v", err)
			}
			must(t, s2.Ping(ctx))
		})
	}
}

func TestOpenConcurrentlyMigratesOnce(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					s, err := store.Open(t.Context(), b.DSN, store.Options{})
					if err == nil {
						err = s.Close()
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for _, err := range errs {
				must(t, err)
			}
		})
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s, err := store.Open(ctx, b.DSN, store.Options{})
			must(t, err)
			// What a future dbtlink's migration 99999 would leave.
			_, err = s.DB().ExecContext(ctx, `INSERT INTO dbtlink_schema_version (version_id, is_applied) VALUES (99999, TRUE)`)
			must(t, err)
			must(t, s.Close())

			_, err = store.Open(ctx, b.DSN, store.Options{})
			if err == nil || !strings.Contains(err.Error(), "upgrade dbtlink") || !strings.Contains(err.Error(), "99999") {
				t.Fatalf("Open of a newer schema: err = %v, want a refusal saying to upgrade dbtlink", err)
			}
		})
	}
}

func TestOpenSQLiteFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "dbtlink.db")
	for _, dsn := range []string{path, "sqlite:" + path, "file:" + path, "sqlite://" + path} {
		s, err := store.Open(t.Context(), dsn, store.Options{})
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		must(t, s.Close())
	}
	for p, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600} {
		fi, err := os.Stat(p)
		must(t, err)
		if fi.Mode() != want {
			t.Errorf("mode of %s = %v, want %v", p, fi.Mode(), want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	notDB := filepath.Join(t.TempDir(), "notes.txt")
	must(t, os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 512)), 0o600))

	tests := []struct {
		name, dsn, want string
	}{
		{"not SQLite", notDB, "is not a SQLite database"},
		{"empty", "", "no database given"},
		{"memory", ":memory:", "in-memory"},
		{"query string", "sqlite:" + filepath.Join(t.TempDir(), "x.db") + "?mode=ro", "only the file path"},
		{"keyword DSN", "host=localhost dbname=dbtlink", "postgres://USER:PASSWORD@HOST"},
		{"host in sqlite URL", "sqlite://relative.db", "names a host"},
		{"bad postgres URL", "postgres://user@localhost:notaport/db", "invalid PostgreSQL DSN"},
		{"unreachable postgres", "postgres://user@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", "cannot connect to PostgreSQL at 127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := store.Open(t.Context(), tt.dsn, store.Options{})
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%q) succeeded", tt.dsn)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open(%q) = %v, want an error containing %q", tt.dsn, err, tt.want)
			}
		})
	}
}

func TestOpenNeverShowsThePostgresPassword(t *testing.T) {
	t.Parallel()
	const pw = "Pa55w0rdSecret"
	dsns := []string{
		"postgres://dbtlink:" + pw + "@127.0.0.1:1/db?sslmode=disable",
		"postgresql://dbtlink:" + pw + "%21%40@127.0.0.1:1/db?sslmode=disable",
		"postgres://127.0.0.1:1/db?sslmode=disable&password=" + pw,
		"postgres://dbtlink:" + pw + "@127.0.0.1:notaport/db",
		"postgres://dbtlink:" + pw + "@[::1/db",
		"postgres://dbtlink:" + pw + "@127.0.0.1:1/db?sslmode=nonsense",
	}
	if dsn := os.Getenv(storetest.EnvPostgres); dsn != "" {
		// A reachable server, asked for a database it does not have.
		u, err := url.Parse(dsn)
		must(t, err)
		u.User = url.UserPassword(cmp.Or(u.User.Username(), "postgres"), pw)
		u.Path = "/no_such_database"
		dsns = append(dsns, u.String())
	}
	for _, dsn := range dsns {
		s, err := store.Open(t.Context(), dsn, store.Options{})
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("Open(%q) error shows the password: %v", dsn, err)
		}
	}
}

func TestInTx(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		boom := errors.New("boom")

		err := s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.CreateRun(ctx, newRun("rolled-back")); err != nil {
				return err
			}
			return boom
		})
		wantErr(t, err, boom)

		func() {
			defer func() { _ = recover() }()
			_ = s.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.CreateRun(ctx, newRun("panicked")); err != nil {
					return err
				}
				panic("boom")
			})
		}()

		var id int64
		must(t, s.InTx(ctx, func(tx *store.Tx) error {
			r, err := tx.CreateRun(ctx, newRun("committed"))
			if err != nil {
				return err
			}
			id = r.ID
			// The raw transaction sees the uncommitted run: it is the same.
			var n int
			if err := tx.SQL().QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM runs WHERE id = %d`, r.ID)).Scan(&n); err != nil || n != 1 {
				return fmt.Errorf("count through SQL(): %d, %v", n, err)
			}
			_, err = tx.PutArtifact(ctx, r.ID, "manifest.json", strings.NewReader(`{}`))
			return err
		}))

		runs, err := s.ListRuns(ctx, store.RunFilter{})
		must(t, err)
		if len(runs) != 1 || runs[0].ID != id || runs[0].Marker != "committed" {
			t.Fatalf("runs after the transactions = %+v, want only the committed one", runs)
		}
		arts, err := s.ListArtifacts(ctx, id)
		must(t, err)
		if len(arts) != 1 {
			t.Fatalf("artifacts = %+v, want the one put in the transaction", arts)
		}
	})
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := s.GetRun(ctx, 1)
		wantErr(t, err, context.Canceled)
	})
}
