package server

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Webhook delivery outcomes counted besides the WebhookOutcome values:
// deliveries refused before they reach the backend.
const (
	deliveryBadSignature      = "bad_signature"
	deliveryUnknownConnection = "unknown_connection"
	deliveryBadPayload        = "bad_payload"
)

// Metrics are the server's Prometheus metrics. The tracker registers its
// own (runs, dbt Cloud calls, poll lag) on the same registry, which
// /metrics serves whole.
type Metrics struct {
	// Requests counts answered requests by route pattern and status code.
	// The label is the pattern ("GET /api/v1/runs/{id}"), never the path,
	// so that ids do not multiply the series.
	Requests *prometheus.CounterVec
	// Duration observes the time to answer, by route pattern.
	Duration *prometheus.HistogramVec
	// WebhookDeliveries counts webhook deliveries by outcome: applied,
	// recorded, duplicate, bad_signature, unknown_connection, bad_payload.
	WebhookDeliveries *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg. A metric that
// reg already holds (a second server on the same registry, as in tests)
// is reused rather than refused.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbtlink_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dbtlink_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern. Long polls (?wait=) last up to their wait.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		WebhookDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbtlink_webhook_deliveries_total",
			Help: "dbt Cloud webhook deliveries, by outcome.",
		}, []string{"outcome"}),
	}
	var err error
	if m.Requests, err = register(reg, m.Requests); err != nil {
		return nil, err
	}
	if m.Duration, err = register(reg, m.Duration); err != nil {
		return nil, err
	}
	if m.WebhookDeliveries, err = register(reg, m.WebhookDeliveries); err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	var zero C
	return zero, err
}
