package store_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
)

func newRun(marker string) store.Run {
	return store.Run{Connection: "prod", AccountID: 42, JobID: 7, Marker: marker, Cause: "test"}
}

func ptr[T any](v T) *T { return &v }

func TestRunRoundTrip(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		// Nanoseconds and a non-UTC zone: read back in UTC, to the µs.
		at := time.Date(2025, 2, 3, 4, 5, 6, 789123456, time.FixedZone("EST", -5*3600))
		full := store.Run{
			Connection: "prod", AccountID: 42, JobID: 7, Marker: "dbtlink:abc", Cause: "nightly",
			Request:    []byte(`{"cause":"nightly","steps_override":["dbt build"]}`),
			DeadlineAt: at, CancelAtDeadline: true, MaxRetries: 2, Retries: 1,
			Artifacts: []string{"manifest.json", "run_results.json"},
			State:     store.RunRunning, DbtRunID: 9001, DbtStatus: 3, StatusMessage: "Running", Href: "https://x/9001",
			TriggerAttemptedAt: at.Add(time.Second), DbtCreatedAt: at.Add(2 * time.Second),
			StartedAt: at.Add(3 * time.Second), FinishedAt: at.Add(4 * time.Second), SettledAt: at.Add(5 * time.Second),
			Steps: []byte(`[{"name":"dbt build"}]`), FailingNodes: []byte(`[]`), Attempts: []byte(`[9001]`),
			ArtifactsState: "stored", Error: "none", ErrorCode: store.RunErrTriggerRefused,
		}
		created, err := s.CreateRun(ctx, full)
		must(t, err)
		want := full
		want.ID = created.ID
		for _, p := range []*time.Time{&want.DeadlineAt, &want.TriggerAttemptedAt, &want.DbtCreatedAt, &want.StartedAt, &want.FinishedAt, &want.SettledAt} {
			*p = stored(*p)
		}
		want.CreatedAt, want.UpdatedAt = stored(clk.Now()), stored(clk.Now())
		if diff := cmp.Diff(want, created); diff != "" {
			t.Errorf("CreateRun returned (-want +got):\n%s", diff)
		}
		got, err := s.GetRun(ctx, created.ID)
		must(t, err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetRun (-want +got):\n%s", diff)
		}
		if got.StartedAt.Location() != time.UTC || got.StartedAt.Nanosecond()%1000 != 0 {
			t.Errorf("StartedAt = %v, want UTC to the microsecond", got.StartedAt)
		}

		// Zero values: zero times are NULL, no artifacts list means "per
		// the job", an empty one means none.
		minimal, err := s.CreateRun(ctx, newRun("minimal"))
		must(t, err)
		empty := newRun("empty-artifacts")
		empty.Artifacts = []string{}
		emptyRun, err := s.CreateRun(ctx, empty)
		must(t, err)
		if minimal.State != store.RunPending || minimal.Artifacts != nil || emptyRun.Artifacts == nil || len(emptyRun.Artifacts) != 0 {
			t.Errorf("minimal = %+v, empty-artifacts = %+v", minimal, emptyRun)
		}
		var nulls int
		must(t, s.DB().QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM runs WHERE id = %d
			AND deadline_at IS NULL AND started_at IS NULL AND settled_at IS NULL
			AND dbt_run_id IS NULL AND request IS NULL AND artifacts IS NULL`, minimal.ID)).Scan(&nulls))
		if nulls != 1 {
			t.Error("zero times, ids and bytes of a run are not stored as NULL")
		}
		if !minimal.DeadlineAt.IsZero() || minimal.DbtRunID != 0 || minimal.Request != nil {
			t.Errorf("NULLs read back as %+v", minimal)
		}

		_, err = s.CreateRun(ctx, newRun("dbtlink:abc"))
		wantErr(t, err, store.ErrExists)
		if _, err := s.CreateRun(ctx, newRun("")); err == nil {
			t.Error("CreateRun without a marker succeeded")
		}
		_, err = s.GetRun(ctx, 999999)
		wantErr(t, err, store.ErrNotFound)
	})
}

func TestRunByDbtID(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		var newest store.Run
		for i, m := range []string{"a", "b"} {
			r := newRun(m)
			r.DbtRunID = 500
			created, err := s.CreateRun(ctx, r)
			must(t, err)
			if i == 1 {
				newest = created
			}
		}
		other := newRun("other-account")
		other.AccountID, other.DbtRunID = 43, 500
		_, err := s.CreateRun(ctx, other)
		must(t, err)

		got, err := s.RunByDbtID(ctx, 42, 500)
		must(t, err)
		if got.ID != newest.ID {
			t.Errorf("RunByDbtID = run %d, want the newest, %d", got.ID, newest.ID)
		}
		_, err = s.RunByDbtID(ctx, 42, 501)
		wantErr(t, err, store.ErrNotFound)
	})
}

func TestListRuns(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		// ids[i] is the run created i-th.
		var ids []int64
		add := func(conn string, job int64, state store.RunState, dbtRunID int64) {
			r := newRun(fmt.Sprintf("m%d", len(ids)))
			r.Connection, r.JobID, r.State, r.DbtRunID = conn, job, state, dbtRunID
			created, err := s.CreateRun(ctx, r)
			must(t, err)
			ids = append(ids, created.ID)
		}
		add("prod", 1, store.RunPending, 0)     // 0
		add("prod", 1, store.RunRunning, 100)   // 1
		add("dev", 2, store.RunSuccess, 101)    // 2
		add("prod", 2, store.RunFailed, 0)      // 3
		add("dev", 1, store.RunQueued, 102)     // 4
		add("prod", 1, store.RunCancelled, 103) // 5

		tests := []struct {
			name string
			f    store.RunFilter
			want []int // indexes into ids, newest first
		}{
			{"all", store.RunFilter{}, []int{5, 4, 3, 2, 1, 0}},
			{"connection", store.RunFilter{Connection: "dev"}, []int{4, 2}},
			{"job", store.RunFilter{JobID: 2}, []int{3, 2}},
			{"dbt run id", store.RunFilter{DbtRunID: 102}, []int{4}},
			{"dbt run id unknown", store.RunFilter{DbtRunID: 999}, []int{}},
			{"states", store.RunFilter{States: store.ActiveStates}, []int{4, 1, 0}},
			{"one state", store.RunFilter{States: []store.RunState{store.RunFailed}}, []int{3}},
			{"triggered", store.RunFilter{OnlyTriggered: true}, []int{5, 4, 2, 1}},
			{"combined", store.RunFilter{Connection: "prod", JobID: 1, OnlyTriggered: true, States: []store.RunState{store.RunRunning, store.RunCancelled}}, []int{5, 1}},
			{"limit", store.RunFilter{Limit: 2}, []int{5, 4}},
			{"before", store.RunFilter{BeforeID: ids[4], Limit: 2}, []int{3, 2}},
			{"before and filter", store.RunFilter{BeforeID: ids[2], Connection: "prod"}, []int{1, 0}},
			{"none", store.RunFilter{Connection: "nope"}, []int{}},
		}
		for _, tt := range tests {
			runs, err := s.ListRuns(ctx, tt.f)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			got := []int64{}
			for _, r := range runs {
				got = append(got, r.ID)
			}
			want := []int64{}
			for _, i := range tt.want {
				want = append(want, ids[i])
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: ids (-want +got):\n%s", tt.name, diff)
			}
		}
	})
}

func TestListRunsLimits(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		must(t, s.InTx(ctx, func(tx *store.Tx) error {
			for i := range 1005 {
				if _, err := tx.CreateRun(ctx, newRun(fmt.Sprint(i))); err != nil {
					return err
				}
			}
			return nil
		}))
		for _, tt := range []struct{ limit, want int }{{0, 100}, {-1, 100}, {5, 5}, {1000, 1000}, {5000, 1000}} {
			runs, err := s.ListRuns(ctx, store.RunFilter{Limit: tt.limit})
			must(t, err)
			if len(runs) != tt.want {
				t.Errorf("Limit %d: %d runs, want %d", tt.limit, len(runs), tt.want)
			}
		}
	})
}

func TestUpdateRun(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		r, err := s.CreateRun(ctx, newRun("m"))
		must(t, err)

		clk.Advance(time.Second)
		started := clk.Now().Add(-time.Millisecond)
		got, updated, err := s.UpdateRun(ctx, r.ID, store.RunUpdate{
			State: ptr(store.RunRunning), DbtRunID: ptr(int64(77)), DbtStatus: ptr(3), StatusMessage: ptr("Running"),
			Href: ptr("https://x/77"), StartedAt: ptr(started), Steps: []byte(`[1]`), Retries: ptr(1),
			Error: ptr("refused"), ErrorCode: ptr(store.RunErrTriggerAuth), IfActive: true,
		})
		must(t, err)
		want := r
		want.State, want.DbtRunID, want.DbtStatus, want.StatusMessage = store.RunRunning, 77, 3, "Running"
		want.Href, want.StartedAt, want.Steps, want.Retries = "https://x/77", stored(started), []byte(`[1]`), 1
		want.Error, want.ErrorCode = "refused", store.RunErrTriggerAuth
		want.UpdatedAt = stored(clk.Now())
		if diff := cmp.Diff(want, got); !updated || diff != "" {
			t.Errorf("UpdateRun: updated = %v, run (-want +got):\n%s", updated, diff)
		}

		// An empty update only touches UpdatedAt; nil fields stay.
		clk.Advance(time.Second)
		got, updated, err = s.UpdateRun(ctx, r.ID, store.RunUpdate{})
		must(t, err)
		want.UpdatedAt = stored(clk.Now())
		if diff := cmp.Diff(want, got); !updated || diff != "" {
			t.Errorf("empty UpdateRun: updated = %v, run (-want +got):\n%s", updated, diff)
		}

		// Settle it, then a late answer with IfActive changes nothing.
		clk.Advance(time.Second)
		settled, updated, err := s.UpdateRun(ctx, r.ID, store.RunUpdate{
			State: ptr(store.RunSuccess), FinishedAt: ptr(clk.Now()), SettledAt: ptr(clk.Now()), IfActive: true,
		})
		must(t, err)
		if !updated || settled.State != store.RunSuccess {
			t.Fatalf("settling: updated = %v, state %s", updated, settled.State)
		}
		clk.Advance(time.Second)
		got, updated, err = s.UpdateRun(ctx, r.ID, store.RunUpdate{State: ptr(store.RunRunning), StatusMessage: ptr("late"), IfActive: true})
		must(t, err)
		if diff := cmp.Diff(settled, got); updated || diff != "" {
			t.Errorf("late IfActive update: updated = %v, run (-want +got):\n%s", updated, diff)
		}
		got, err = s.GetRun(ctx, r.ID)
		must(t, err)
		if diff := cmp.Diff(settled, got); diff != "" {
			t.Errorf("the late update changed the stored run (-want +got):\n%s", diff)
		}

		// Without IfActive the update applies to a terminal run.
		got, updated, err = s.UpdateRun(ctx, r.ID, store.RunUpdate{ArtifactsState: ptr("stored"), DbtRunID: ptr(int64(0))})
		must(t, err)
		if !updated || got.ArtifactsState != "stored" || got.DbtRunID != 0 {
			t.Errorf("plain update of a settled run: updated = %v, %+v", updated, got)
		}

		for _, ifActive := range []bool{false, true} {
			_, _, err = s.UpdateRun(ctx, 999999, store.RunUpdate{State: ptr(store.RunError), IfActive: ifActive})
			wantErr(t, err, store.ErrNotFound)
		}
	})
}

func TestRunCountsAndActiveConnections(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		for i, r := range []struct {
			conn  string
			state store.RunState
		}{
			{"b", store.RunRunning}, {"a", store.RunPending}, {"a", store.RunQueued},
			{"c", store.RunSuccess}, {"d", store.RunFailed}, {"c", store.RunSuccess},
		} {
			run := newRun(fmt.Sprint(i))
			run.Connection, run.State = r.conn, r.state
			_, err := s.CreateRun(ctx, run)
			must(t, err)
		}
		counts, err := s.CountRunsByState(ctx)
		must(t, err)
		want := map[store.RunState]int64{
			store.RunPending: 1, store.RunQueued: 1, store.RunStarting: 0, store.RunRunning: 1,
			store.RunSuccess: 2, store.RunError: 0, store.RunCancelled: 0, store.RunFailed: 1,
		}
		if diff := cmp.Diff(want, counts); diff != "" {
			t.Errorf("CountRunsByState (-want +got):\n%s", diff)
		}
		active, err := s.ActiveConnections(ctx)
		must(t, err)
		if diff := cmp.Diff([]string{"a", "b"}, active); diff != "" {
			t.Errorf("ActiveConnections (-want +got):\n%s", diff)
		}
	})
}

// TestConcurrentCreateRuns has ten goroutines write at once: on SQLite the
// single connection queues them, and none may fail with SQLITE_BUSY.
func TestConcurrentCreateRuns(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() {
				r, err := s.CreateRun(ctx, newRun(fmt.Sprintf("concurrent-%d", i)))
				if err == nil {
					_, _, err = s.UpdateRun(ctx, r.ID, store.RunUpdate{State: ptr(store.RunQueued), IfActive: true})
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
		}
		runs, err := s.ListRuns(ctx, store.RunFilter{})
		must(t, err)
		if len(runs) != len(errs) {
			t.Errorf("%d runs stored, want %d", len(runs), len(errs))
		}
	})
}

// TestConcurrentSQLiteProcesses has two Stores on one file, as two
// processes would: busy_timeout and immediate transactions make each wait
// for the other's write lock instead of failing.
func TestConcurrentSQLiteProcesses(t *testing.T) {
	t.Parallel()
	b := storetest.Backend{Name: "sqlite", DSN: filepath.Join(t.TempDir(), "shared.db")}
	stores := []*store.Store{storetest.Open(t, b), storetest.Open(t, b)}
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			s := stores[i%2]
			errs[i] = s.InTx(ctx, func(tx *store.Tx) error {
				// Read, then write: the pattern a deferred transaction
				// cannot upgrade when the other process wrote meanwhile.
				if _, err := tx.ListRuns(ctx, store.RunFilter{Limit: 1}); err != nil {
					return err
				}
				_, err := tx.CreateRun(ctx, newRun(fmt.Sprintf("p%d", i)))
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}
