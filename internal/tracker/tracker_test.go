package tracker_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

type bundle struct {
	emu *emulator.Server
	st  *store.Store
	tr  *tracker.Tracker
}

// speed makes the emulator's minutes pass in about half a real second.
const speed = 120

// setup builds a started tracker over the emulator; opts change its
// Config before New.
func setup(t *testing.T, b storetest.Backend, opts ...func(*tracker.Config)) *bundle {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Clock: emulator.NewRealClock(speed), WebhookRetryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	st := storetest.Open(t, b)
	keys, err := connection.NewStore(t.TempDir(), connection.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := tracker.Config{
		Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler),
		PollMin: 20 * time.Millisecond, PollMax: 200 * time.Millisecond, RescueAfter: 3 * time.Second,
		FetchInterval: 20 * time.Millisecond,
		ClientOptions: []dbtcloud.Option{dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})},
	}
	for _, o := range opts {
		o(&cfg)
	}
	tr, err := tracker.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.AddConnection(ctx, tracker.NewConnection{Name: "emu", Host: emu.URL, AccountID: emu.AccountID, Token: emu.Token, Default: true}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tr.Stop(sctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return &bundle{emu: emu, st: st, tr: tr}
}

// waitEnd waits for a run to end and for its finalize step to finish.
func (b *bundle) waitEnd(t *testing.T, id int64) store.Run {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r, err := b.tr.WaitRun(context.Background(), id, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if r.State.Terminal() && (r.ArtifactsState != "" || r.State == store.RunFailed) {
			return r
		}
	}
	r, _ := b.tr.GetRun(context.Background(), id)
	t.Fatalf("run %d did not end in time: %+v", id, r)
	return r
}

func TestTrackerRuns(t *testing.T) {
	t.Parallel()
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, be)
			ctx := context.Background()

			t.Run("success with artifacts by the job's settings", func(t *testing.T) {
				r, err := b.tr.CreateRun(ctx, tracker.RunRequest{Project: "analytics", Environment: "Production", Job: "docs build"})
				if err != nil {
					t.Fatal(err)
				}
				if r.State != store.RunPending || r.Marker == "" {
					t.Fatalf("created run: %+v", r)
				}
				got := b.waitEnd(t, r.ID)
				if got.State != store.RunSuccess || got.DbtRunID == 0 || got.FinishedAt.IsZero() || got.SettledAt.IsZero() {
					t.Fatalf("ended run: %+v", got)
				}
				if got.ArtifactsState != "stored" {
					t.Fatalf("artifacts state %q", got.ArtifactsState)
				}
				arts, err := b.tr.ListArtifacts(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, a := range arts {
					names = append(names, a.Path)
				}
				if strings.Join(names, ",") != "catalog.json,manifest.json,run_results.json,sources.json" {
					t.Fatalf("artifacts %v", names)
				}
				_, rc, err := b.tr.OpenArtifact(ctx, r.ID, "run_results.json")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(rc)
				rc.Close()
				if !strings.Contains(string(body), `"results"`) {
					t.Fatalf("run_results.json: %.200s", body)
				}
				var steps []tracker.Step
				if err := json.Unmarshal(got.Steps, &steps); err != nil || len(steps) == 0 {
					t.Fatalf("steps %s: %v", got.Steps, err)
				}
				if n := b.emu.TriggerCount(emulator.DemoDocsJobID); n != 1 {
					t.Fatalf("emulator saw %d triggers, want 1", n)
				}
			})

			t.Run("failure is rerun from failure", func(t *testing.T) {
				// The emulator's retry reruns the failed nodes, which pass.
				r, err := b.tr.CreateRun(ctx, tracker.RunRequest{JobID: emulator.DemoFailingJobID, MaxRetries: 1, Artifacts: []string{}})
				if err != nil {
					t.Fatal(err)
				}
				got := b.waitEnd(t, r.ID)
				if got.State != store.RunSuccess || got.Retries != 1 {
					t.Fatalf("run: state %s retries %d error %q", got.State, got.Retries, got.Error)
				}
				var attempts []int64
				_ = json.Unmarshal(got.Attempts, &attempts)
				if len(attempts) != 2 || attempts[1] != got.DbtRunID {
					t.Fatalf("attempts %v, dbt run %d", attempts, got.DbtRunID)
				}
				if got.ArtifactsState != "none" {
					t.Fatalf("artifacts state %q with an empty list", got.ArtifactsState)
				}
			})

			t.Run("failure that cannot be rerun keeps its failing nodes", func(t *testing.T) {
				// dbt 1.5 cannot retry, so the policy stops with a reason.
				r, err := b.tr.CreateRun(ctx, tracker.RunRequest{JobID: emulator.DemoLegacyJobID, MaxRetries: 2})
				if err != nil {
					t.Fatal(err)
				}
				got := b.waitEnd(t, r.ID)
				if got.State != store.RunError || got.Retries != 0 || !strings.Contains(got.Error, "RETRY_UNSUPPORTED_VERSION") {
					t.Fatalf("run: state %s retries %d error %q", got.State, got.Retries, got.Error)
				}
				var nodes []tracker.FailingNode
				if err := json.Unmarshal(got.FailingNodes, &nodes); err != nil {
					t.Fatalf("failing nodes %s: %v", got.FailingNodes, err)
				}
				if len(nodes) == 0 || nodes[0].Status != "error" || nodes[0].UniqueID == "" {
					t.Fatalf("failing nodes: %s", got.FailingNodes)
				}
				if !strings.Contains(got.Error, "failed at step") {
					t.Fatalf("error does not say where the run failed: %q", got.Error)
				}
			})

			t.Run("cancel", func(t *testing.T) {
				r, err := b.tr.CreateRun(ctx, tracker.RunRequest{JobID: emulator.DemoSlowJobID, Artifacts: []string{}})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := b.tr.CancelRun(ctx, r.ID); err != nil {
					t.Fatal(err)
				}
				got := b.waitEnd(t, r.ID)
				if got.State != store.RunCancelled || got.DbtRunID == 0 {
					t.Fatalf("run %+v", got)
				}
				if _, err := b.tr.CancelRun(ctx, r.ID); err == nil {
					t.Fatal("cancelling an ended run succeeded")
				}
			})

			t.Run("deadline cancels", func(t *testing.T) {
				r, err := b.tr.CreateRun(ctx, tracker.RunRequest{JobID: emulator.DemoSlowJobID, Artifacts: []string{},
					Deadline: time.Second, CancelAtDeadline: true})
				if err != nil {
					t.Fatal(err)
				}
				got := b.waitEnd(t, r.ID)
				if got.State != store.RunCancelled || !strings.Contains(got.Error, "deadline") {
					t.Fatalf("run: %s %q", got.State, got.Error)
				}
			})

			t.Run("bad requests", func(t *testing.T) {
				for _, req := range []tracker.RunRequest{
					{},
					{JobID: 999999},
					{Project: "analytics", Environment: "Production", Job: "nope"},
					{JobID: 301, MaxRetries: 99},
					{JobID: 301, Artifacts: []string{"../etc/passwd"}},
				} {
					_, err := b.tr.CreateRun(ctx, req)
					var ie *tracker.InputError
					var nf *tracker.NotFoundError
					if !errorsAs(err, &ie) && !errorsAs(err, &nf) {
						t.Errorf("%+v: err = %v, want an InputError or a NotFoundError", req, err)
					}
				}
			})
		})
	}
}

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }
