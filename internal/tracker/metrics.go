package tracker

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbtlink/dbtlink/internal/store"
)

type metrics struct {
	calls      *prometheus.CounterVec
	pollLag    prometheus.Histogram
	triggered  prometheus.Counter
	reruns     prometheus.Counter
	deadlines  prometheus.Counter
	polls      prometheus.Counter
	pollErrors prometheus.Counter
	artifacts  prometheus.Counter

	// The catalog's (catalogsync.go).
	catalogSyncs  *prometheus.CounterVec
	crawlDuration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, st *store.Store) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbtlink_dbtcloud_requests_total",
			Help: "Requests to dbt Cloud by HTTP status (\"error\" when no answer came).",
		}, []string{"status"}),
		pollLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dbtlink_run_settle_lag_seconds",
			Help:    "Time from a run's end in dbt Cloud (its finished_at) to dbtlink recording it.",
			Buckets: []float64{0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600},
		}),
		triggered:  prometheus.NewCounter(prometheus.CounterOpts{Name: "dbtlink_runs_triggered_total", Help: "Runs triggered in dbt Cloud."}),
		reruns:     prometheus.NewCounter(prometheus.CounterOpts{Name: "dbtlink_runs_rerun_total", Help: "Reruns from failure made by run policies."}),
		deadlines:  prometheus.NewCounter(prometheus.CounterOpts{Name: "dbtlink_run_deadlines_reached_total", Help: "Runs still in flight at their deadline."}),
		polls:      prometheus.NewCounter(prometheus.CounterOpts{Name: "dbtlink_poll_passes_total", Help: "Polling passes over an account's runs in flight."}),
		pollErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "dbtlink_poll_errors_total", Help: "Polling passes that failed and were retried."}),
		artifacts:  prometheus.NewCounter(prometheus.CounterOpts{Name: "dbtlink_artifacts_stored_total", Help: "Artifacts downloaded and stored."}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.pollLag, m.triggered, m.reruns, m.deadlines, m.polls, m.pollErrors, m.artifacts,
			&runsCollector{st: st})
	}
	newCatalogMetrics(m, reg)
	return m
}

// transport counts every request to dbt Cloud by status.
func (m *metrics) transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// The default keeps 2 idle connections per host; the workers
		// call one host concurrently and would open a new connection
		// for most calls.
		tr.MaxIdleConnsPerHost = 64
		base = tr
	}
	return countingTransport{base: base, calls: m.calls}
}

type countingTransport struct {
	base  http.RoundTripper
	calls *prometheus.CounterVec
}

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		c.calls.WithLabelValues("error").Inc()
		return resp, err
	}
	c.calls.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()
	return resp, nil
}

// runsCollector reports the runs by state from the store at each scrape,
// so every server on one database reports the same, true figure.
type runsCollector struct{ st *store.Store }

var runsDesc = prometheus.NewDesc("dbtlink_runs", "Tracked runs by state.", []string{"state"}, nil)

func (c *runsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- runsDesc }

func (c *runsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.st.CountRunsByState(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(runsDesc, err)
		return
	}
	for _, s := range []store.RunState{store.RunPending, store.RunQueued, store.RunStarting, store.RunRunning,
		store.RunSuccess, store.RunError, store.RunCancelled, store.RunFailed} {
		ch <- prometheus.MustNewConstMetric(runsDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}
