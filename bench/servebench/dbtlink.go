package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// buildDbtlink builds the dbtlink command into dir, from the module the
// working directory is in.
func buildDbtlink(dir string) (string, error) {
	bin := filepath.Join(dir, "dbtlink")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/dbtlink/dbtlink/cmd/dbtlink")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/dbtlink: %w (run the bench from the repository, or give a binary with -bin)", err)
	}
	return bin, nil
}

// childEnv is this process's environment without dbtlink's and dbt
// Cloud's variables, plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DBTLINK_") || strings.HasPrefix(kv, "DBT_CLOUD_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// apiRun is the part of the server's run JSON the bench reads.
type apiRun struct {
	ID             int64      `json:"id"`
	JobID          int64      `json:"job_id"`
	State          string     `json:"state"`
	DbtRunID       *int64     `json:"dbt_run_id"`
	DbtCreatedAt   *time.Time `json:"dbt_created_at"`
	FinishedAt     *time.Time `json:"finished_at"`
	SettledAt      *time.Time `json:"settled_at"`
	ArtifactsState string     `json:"artifacts_state"`
	Error          string     `json:"error"`
}

// api is a client of the dbtlink server's HTTP API.
type api struct {
	base, token string
	hc          *http.Client
}

func (a *api) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// metrics scrapes /metrics into "name{labels}" -> value.
func (a *api) metrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// sumPrefix adds every series whose key starts with prefix.
func sumPrefix(m map[string]float64, prefix string) float64 {
	var s float64
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			s += v
		}
	}
	return s
}

var activeStates = []string{"pending", "queued", "starting", "running"}
var endStates = []string{"success", "error", "cancelled", "failed"}

func runCount(m map[string]float64, states []string) int {
	n := 0
	for _, s := range states {
		n += int(m[`dbtlink_runs{state="`+s+`"}`])
	}
	return n
}

// server is a running `dbtlink serve`.
type server struct {
	cmd     *exec.Cmd
	api     *api
	logPath string
	exited  chan struct{}
}

func startServer(cfg *config, bin, dir, dsn string) (*server, error) {
	home := filepath.Join(dir, "home")
	env := childEnv("DBTLINK_HOME=" + home)
	out, err := runCmd(env, bin, "token", "create", "--name", "servebench", "--scope", "admin", "--db", dsn)
	if err != nil {
		return nil, fmt.Errorf("dbtlink token create: %w", err)
	}
	token := strings.TrimSpace(out)
	logPath := filepath.Join(dir, "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", dsn,
		"--poll-min", cfg.real(cfg.PollMin).String(), "--poll-max", cfg.real(cfg.PollMax).String(),
		"--requests-per-minute", strconv.Itoa(cfg.realRPM()), "--workers", strconv.Itoa(cfg.Workers),
		"--log-format", "json"}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "servebench: %s %s\n", bin, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "export DBTLINK_SERVER="); ok {
				urlc <- v
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	select {
	case u := <-urlc:
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 128
		s.api = &api{base: u, token: token, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("dbtlink serve exited before listening; see %s", logPath)
	case <-time.After(2 * time.Minute):
		s.stop()
		return nil, fmt.Errorf("dbtlink serve did not print DBTLINK_SERVER within 2 minutes; see %s", logPath)
	}
}

func runCmd(env []string, bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	return out.String(), nil
}

// stop interrupts the server (a graceful shutdown) and waits for it.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// listAllRuns pages through GET /api/v1/runs.
func (a *api) listAllRuns(ctx context.Context) ([]apiRun, error) {
	var all []apiRun
	before := int64(0)
	for {
		path := "/api/v1/runs?limit=100"
		if before > 0 {
			path += "&before=" + strconv.FormatInt(before, 10)
		}
		var page struct {
			Runs       []apiRun `json:"runs"`
			NextBefore *int64   `json:"next_before"`
		}
		if _, err := a.do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Runs...)
		if page.NextBefore == nil {
			return all, nil
		}
		before = *page.NextBefore
	}
}

// runDbtlink is the main side: one `dbtlink serve` watching every run.
func runDbtlink(ctx context.Context, cfg *config, bin string, ps []plan) (*sideResult, error) {
	dir, err := os.MkdirTemp("", "svbench-")
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep && !cfg.Keep {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintf(os.Stderr, "servebench: kept %s (server log: serve.log)\n", dir)
		}
	}()
	dsn := cfg.DB
	if dsn == "" {
		dsn = filepath.Join(dir, "server.db")
	}

	em, err := startEmulator(ps, cfg.Speed, cfg.behind())
	if err != nil {
		return nil, err
	}
	defer em.close()

	srv, err := startServer(cfg, bin, dir, dsn)
	if err != nil {
		keep = true
		return nil, err
	}
	defer srv.stop()
	a := srv.api

	m0, err := a.metrics(ctx)
	if err != nil {
		keep = true
		return nil, err
	}
	if n := runCount(m0, append(activeStates, endStates...)); n > 0 {
		return nil, fmt.Errorf("the database %s already holds %d runs; give an empty one", dsn, n)
	}
	if _, err := a.do(ctx, http.MethodPost, "/api/v1/connections", map[string]any{
		"name": "bench", "host": em.url, "account_id": accountID, "token": benchToken, "default": true,
	}, nil); err != nil {
		keep = true
		return nil, err
	}
	sampler := sampleProc(srv.cmd.Process.Pid, 200*time.Millisecond)
	cpu0, _ := readCPU(srv.cmd.Process.Pid)
	setup := em.count.snapshot()
	benchCPU0 := selfCPU()

	res := &sideResult{Name: "dbtlink serve", Runs: len(ps), Interval: cfg.PollMax.Seconds(),
		IntervalNote: fmt.Sprintf("--poll-min %s --poll-max %s emulated (%s/%s real)", cfg.PollMin, cfg.PollMax, cfg.real(cfg.PollMin), cfg.real(cfg.PollMax))}

	// Create every run through the API, a bounded number at a time.
	fmt.Fprintf(os.Stderr, "servebench: dbtlink: creating %d runs through POST /api/v1/runs, %d at a time\n", len(ps), cfg.CreateConc)
	start := time.Now()
	var next atomic.Int64
	var createErrs atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range cfg.CreateConc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ps) || ctx.Err() != nil {
					return
				}
				body := map[string]any{"job_id": ps[i].JobID, "artifacts": []string{}}
				var run apiRun
				if _, err := a.do(ctx, http.MethodPost, "/api/v1/runs", body, &run); err != nil {
					createErrs.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	created := time.Now()
	res.Create = phaseFigures{RealSeconds: created.Sub(start).Seconds(), Errors: int(createErrs.Load())}
	res.Create.PerSecond = float64(len(ps)-res.Create.Errors) / res.Create.RealSeconds
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "servebench: dbtlink: %d run creations failed; first: %v\n", res.Create.Errors, firstErr)
	}
	afterCreate := em.count.snapshot()
	fmt.Fprintf(os.Stderr, "servebench: dbtlink: created %d runs in %.1fs real (%.0f runs/s)\n",
		len(ps)-res.Create.Errors, res.Create.RealSeconds, res.Create.PerSecond)

	// Follow the server until every run has settled.
	deadline := start.Add(cfg.phaseTimeout())
	var allTriggered time.Time
	lastLog := time.Time{}
	var m map[string]float64
	for {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		m, err = a.metrics(ctx)
		if err != nil {
			fmt.Fprintf(os.Stderr, "servebench: dbtlink: scrape: %v\n", err)
		}
		ended := runCount(m, endStates)
		trig := int(m["dbtlink_runs_triggered_total"])
		if allTriggered.IsZero() && trig >= len(ps)-res.Create.Errors {
			allTriggered = time.Now()
		}
		if time.Since(lastLog) >= 15*time.Second || ended >= len(ps)-res.Create.Errors {
			fmt.Fprintf(os.Stderr, "servebench: dbtlink: +%s real (+%s emulated): triggered %d, in flight %d, ended %d; dbt Cloud calls %d; server RSS %.0f MB\n",
				time.Since(start).Round(time.Second), cfg.emu(time.Since(start)).Round(time.Second), trig,
				runCount(m, activeStates), ended, em.count.total.Load(), sampler.currentMB())
			lastLog = time.Now()
		}
		if ended >= len(ps)-res.Create.Errors {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "servebench: dbtlink: giving up after %s: %d runs never settled\n", cfg.phaseTimeout(), len(ps)-ended)
			keep = true
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if !allTriggered.IsZero() {
		res.TriggerRealSeconds = allTriggered.Sub(start).Seconds()
	}

	// Let what follows a settlement (the failure summary of failed runs)
	// finish: wait until dbt Cloud has heard nothing for a while.
	quiet := max(3*time.Second, 2*cfg.real(cfg.PollMax))
	waitQuiet(ctx, em.count, quiet, time.Minute)

	final, err := a.metrics(ctx)
	if err != nil {
		return nil, err
	}
	stats := sampler.finish()
	cpu1, _ := readCPU(srv.cmd.Process.Pid)
	stats.CPUSeconds = cpu1 - cpu0
	res.Proc = stats
	runs, err := a.listAllRuns(ctx)
	if err != nil {
		return nil, err
	}
	total := em.count.snapshot()
	infos := em.e.Runs()
	res.ClockDriftEmuSeconds = em.cmap.drift(em.clock).Seconds()
	srv.stop()

	// The end of each run as the server recorded it.
	settledAt := map[int64]time.Time{}
	finalized := 0
	for _, r := range runs {
		if r.DbtRunID != nil && r.SettledAt != nil {
			settledAt[*r.DbtRunID] = *r.SettledAt
		}
		if r.ArtifactsState != "" {
			finalized++
		}
	}
	res.Finalized = finalized
	res.fill(cfg, em.cmap, infos, settledAt, start)
	res.PollPasses = int(final["dbtlink_poll_passes_total"])
	res.PollErrors = int(final["dbtlink_poll_errors_total"])
	res.passIntervals(cfg, em.count.passStarts())
	for _, t := range em.count.passStarts() {
		res.PassStartsReal = append(res.PassStartsReal, math.Round(t.Sub(start).Seconds()*1000)/1000)
	}
	res.splitLag(cfg, em.cmap, infos, settledAt, em.count.passStarts(), em.count)
	res.BenchCPUSeconds = selfCPU() - benchCPU0
	res.TCPConnections = int(em.count.conns.Load())

	// Calls: the emulator's count, cut into phases, and the server's own.
	work := total.minus(setup)
	before, after := em.count.runGetsAround(settledAt)
	res.Calls = callFigures{
		Setup:           setup.total(),
		Total:           work.total(),
		ByCategory:      work.byCategory(),
		Status429:       work.withStatus(http.StatusTooManyRequests),
		Create:          work.cat(catJob) + work.cat(catJobList),
		Trigger:         work.cat(catTrigger) + work.cat(catListOther),
		Watch:           work.cat(catListInflight) + work.cat(catListFinished) + before,
		Finalize:        after + work.cat(catArtifact),
		DuringCreation:  afterCreate.minus(setup).total(),
		ServerCounted:   int(sumPrefix(final, "dbtlink_dbtcloud_requests_total")),
		EmulatorCounted: total.total(),
	}
	res.Calls.derive(res.Runs, res.RunMinutes)
	res.Notes = append(res.Notes,
		fmt.Sprintf("server's own count of dbt Cloud calls (dbtlink_dbtcloud_requests_total): %d; the emulator's, setup included: %d", res.Calls.ServerCounted, res.Calls.EmulatorCounted))
	if res.Finalized < len(runs) {
		res.Notes = append(res.Notes, fmt.Sprintf("%d of %d runs not finalized (artifacts_state empty) when measured", len(runs)-res.Finalized, len(runs)))
	}
	return res, nil
}

// waitQuiet returns once the counter has not moved for quiet, or after at
// most limit.
func waitQuiet(ctx context.Context, c *counter, quiet, limit time.Duration) {
	end := time.Now().Add(limit)
	last, since := c.total.Load(), time.Now()
	for time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
		if n := c.total.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= quiet {
			return
		}
	}
}

func (s *procSampler) currentMB() float64 {
	rss, _, err := readMem(s.pid)
	if err != nil {
		return 0
	}
	return float64(rss) / 1024
}
