package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestServeTriggerAndWait drives `dbtlink serve` as a client would: a
// token made with the binary, a connection and a run created through the
// API, a long poll until the run ends, and its artifacts listed and
// downloaded. It also checks that the API refuses requests without a
// token and writes with a read token.
func TestServeTriggerAndWait(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t)
	e := newServeEnv(t, "")
	admin := e.token(t, "admin", "admin")
	reader := e.token(t, "reader", "read")
	srv := startServe(t, e, "server", "--poll-min", "250ms", "--poll-max", "2s")
	api := apiClient{url: srv.URL, token: admin}

	api.addConnection(t, emu)
	start := time.Now()
	var created apiRun
	api.must(t, "POST", "/api/v1/runs", map[string]any{"job_id": emulator.DemoDailyJobID}, &created, http.StatusCreated)
	if created.State != "pending" || created.ID == 0 {
		t.Fatalf("created run: %+v", created)
	}
	r, err := api.waitDone(created.ID, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if r.State != "success" || r.DbtRunID == nil || *r.DbtRunID == 0 || len(r.Steps) == 0 || r.ArtifactsState != "stored" {
		t.Fatalf("ended run: %+v", r)
	}
	t.Logf("run %d done in %s: %s, dbt run %d, %d steps, artifacts %s", r.ID, time.Since(start).Round(time.Millisecond), r.State, *r.DbtRunID, len(r.Steps), r.ArtifactsState)
	for _, s := range r.Steps {
		if s.Name == "" || s.Status != "success" {
			t.Errorf("step %+v", s)
		}
	}
	if n := emu.TriggerCount(emulator.DemoDailyJobID); n != 1 {
		t.Errorf("the emulator saw %d triggers of job %d, want 1", n, emulator.DemoDailyJobID)
	}

	var arts struct {
		Artifacts []struct {
			Path   string `json:"path"`
			Size   int64  `json:"size"`
			SHA256 string `json:"sha256"`
		} `json:"artifacts"`
	}
	api.must(t, "GET", fmt.Sprintf("/api/v1/runs/%d/artifacts", r.ID), nil, &arts, http.StatusOK)
	var paths []string
	for _, a := range arts.Artifacts {
		paths = append(paths, a.Path)
	}
	if strings.Join(paths, ",") != "manifest.json,run_results.json" {
		t.Fatalf("stored artifacts %v, want the default manifest.json and run_results.json", paths)
	}
	a := arts.Artifacts[0]
	req, err := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/runs/%d/artifacts/%s", srv.URL, r.ID, a.Path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+reader)
	resp, err := apiHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body) // streamed, never held whole
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download %s: status %d, %v", a.Path, resp.StatusCode, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 || n != a.Size || n == 0 {
		t.Errorf("downloaded %s: %d bytes with sha256 %s; the listing says %d bytes, %s", a.Path, n, got, a.Size, a.SHA256)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.FormatInt(a.Size, 10) {
		t.Errorf("Content-Length %q, want %d", cl, a.Size)
	}

	anon := apiClient{url: srv.URL}
	anon.must(t, "GET", "/api/v1/runs", nil, nil, http.StatusUnauthorized)
	anon.must(t, "POST", "/api/v1/runs", map[string]any{"job_id": emulator.DemoDailyJobID}, nil, http.StatusUnauthorized)
	ro := apiClient{url: srv.URL, token: reader}
	ro.must(t, "POST", "/api/v1/runs", map[string]any{"job_id": emulator.DemoDailyJobID}, nil, http.StatusForbidden)
	ro.must(t, "GET", fmt.Sprintf("/api/v1/runs/%d", r.ID), nil, nil, http.StatusOK)
	if n := emu.TriggerCount(emulator.DemoDailyJobID); n != 1 {
		t.Errorf("refused requests triggered job %d: %d triggers", emulator.DemoDailyJobID, n)
	}
}

// TestServeWebhookSettlesRun shows that a webhook, not polling, settles a
// run: the server polls every 10 minutes, so a run that outlives its first
// poll (made at once when it is triggered) can only end within seconds
// through dbt Cloud's webhook.
func TestServeWebhookSettlesRun(t *testing.T) {
	t.Parallel()
	seed := emulator.DefaultSeed()
	// Job 301 lasts 5 emulated minutes: 3 real seconds at this speed, so
	// it is still queued or running when it is first polled.
	seed.Accounts[0].Projects[0].Environments[0].Jobs[0].Behaviour.StepSeconds = []float64{300}
	emu := startEmulatorWith(t, seed, speed)
	e := newServeEnv(t, "")
	admin := e.token(t, "admin", "admin")
	reader := e.token(t, "metrics", "read")
	srv := startServe(t, e, "server", "--poll-min", "10m", "--poll-max", "10m")
	api := apiClient{url: srv.URL, token: admin}
	api.addConnection(t, emu)

	r := run(t, e.env, "", "webhook", "subscribe", "emu", "--url", srv.URL+"/webhooks/dbt-cloud/emu", "--db", e.db)
	mustExit(t, r, 0, "webhook subscribe")
	if id := strings.TrimSpace(r.stdout); !strings.HasPrefix(id, "wsu_") {
		t.Fatalf("webhook subscribe printed %q, want the subscription id", r.stdout)
	}

	start := time.Now()
	var created apiRun
	api.must(t, "POST", "/api/v1/runs", map[string]any{"job_id": emulator.DemoDailyJobID, "artifacts": []string{}}, &created, http.StatusCreated)
	var got apiRun
	for {
		// Answers at once when the run ends, or after the wait.
		api.must(t, "GET", fmt.Sprintf("/api/v1/runs/%d?wait=15s", created.ID), nil, &got, http.StatusOK)
		if got.terminal() || time.Since(start) > 15*time.Second {
			break
		}
	}
	took := time.Since(start)
	t.Logf("run %d: %s after %s", got.ID, got.State, took.Round(time.Millisecond))
	if got.State != "success" || took > 15*time.Second {
		t.Fatalf("run %+v after %s; a webhook should have settled it within seconds", got, took)
	}
	if took < 2*time.Second {
		t.Errorf("the run ended after %s, before the emulator could have finished it: the test's premise is broken", took)
	}

	deliveries := metric(t, apiClient{url: srv.URL, token: reader}, `dbtlink_webhook_deliveries_total{outcome="applied"}`)
	if deliveries < 1 {
		t.Errorf("dbtlink_webhook_deliveries_total{outcome=\"applied\"} = %v, want > 0", deliveries)
	}
}

// metric reads one sample of the server's /metrics.
func metric(t *testing.T, api apiClient, series string) float64 {
	t.Helper()
	req, err := http.NewRequest("GET", api.url+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+api.token)
	resp, err := apiHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %q", series, v)
			}
			return f
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("/metrics has no %s", series)
	return 0
}
