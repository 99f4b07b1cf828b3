package openlineage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// Config says where a run's events go and how they are named. Both URL and
// File may be set: events then go to both.
type Config struct {
	// URL is the receiver (Marquez: http://host:5000, events are posted to
	// /api/v1/lineage); empty for none.
	URL    string
	APIKey APIKey
	// File, if set, gets each event as a line of JSON.
	File string
	// JobNamespace defaults to "dbt"; DatasetNamespace overrides the one
	// derived from the adapter (see DatasetNamespace).
	JobNamespace     string
	DatasetNamespace string
	// Producer defaults to DefaultProducer.
	Producer string
	// ColumnLineage, if set, fills outputs' columnLineage facets (see
	// ColumnLineager); dbtlink's commands set a SQLColumnLineage.
	ColumnLineage ColumnLineager
	// Warehouses remembers connections' dataset namespaces across runs;
	// NewRouter sets one shared by all its targets. nil: a lookup per run.
	Warehouses *Warehouses
}

// String shows c with any password in the URL masked (the key is an
// APIKey, which never shows).
func (c Config) String() string {
	return fmt.Sprintf("{URL:%s File:%s JobNamespace:%s DatasetNamespace:%s APIKey set:%t}",
		redactURL(c.URL), c.File, c.JobNamespace, c.DatasetNamespace, !c.APIKey.IsZero())
}

// LogValue logs c as String does.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// The environment variables ConfigFromEnv reads.
const (
	EnvURL              = "DBTLINK_OPENLINEAGE_URL"
	EnvAPIKey           = "DBTLINK_OPENLINEAGE_API_KEY"
	EnvFile             = "DBTLINK_OPENLINEAGE_FILE"
	EnvNamespace        = "DBTLINK_OPENLINEAGE_NAMESPACE"
	EnvDatasetNamespace = "DBTLINK_OPENLINEAGE_DATASET_NAMESPACE"
)

// ConfigFromEnv reads the DBTLINK_OPENLINEAGE_* variables; flags given on
// the command line override them field by field.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{URL: getenv(EnvURL), APIKey: NewAPIKey(getenv(EnvAPIKey)), File: getenv(EnvFile),
		JobNamespace: getenv(EnvNamespace), DatasetNamespace: getenv(EnvDatasetNamespace)}
}

// Enabled reports whether events go anywhere.
func (c Config) Enabled() bool { return c.URL != "" || c.File != "" }

// Options are the naming options of c.
func (c Config) Options() Options {
	return Options{Producer: c.Producer, JobNamespace: c.JobNamespace, DatasetNamespace: c.DatasetNamespace, ColumnLineage: c.ColumnLineage,
		Warehouses: c.Warehouses}
}

// Sink is one destination of events with the key that names it in a
// delivery's progress (Target.SendRun): "http " and the endpoint (without
// user info or query), or "file " and the absolute path. A changed URL or path is a
// new sink, which gets every event.
type Sink struct {
	Key       string
	Transport Transport
}

// sinkURL is an endpoint without user info or query, which may carry
// credentials: the key is stored in River's job metadata and logged.
func sinkURL(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// Sinks builds the destinations of c, the receiver first; http (nil:
// defaults) tunes the HTTP one.
func (c Config) Sinks(http *HTTPOptions) ([]Sink, error) {
	var out []Sink
	if c.URL != "" {
		o := HTTPOptions{}
		if http != nil {
			o = *http
		}
		o.APIKey = c.APIKey
		t, err := NewHTTPTransport(c.URL, o)
		if err != nil {
			return nil, err
		}
		out = append(out, Sink{Key: "http " + sinkURL(t.Endpoint()), Transport: t})
	}
	if c.File != "" {
		t, err := NewFileTransport(c.File)
		if err != nil {
			return nil, err
		}
		key := c.File
		if abs, err := filepath.Abs(c.File); err == nil {
			key = abs
		}
		out = append(out, Sink{Key: "file " + key, Transport: t})
	}
	if len(out) == 0 {
		return nil, errors.New("OpenLineage: neither a URL nor a file is configured")
	}
	return out, nil
}

// Transport builds the transport of c: its one sink, or a Multi of both.
func (c Config) Transport(http *HTTPOptions) (Transport, error) {
	sinks, err := c.Sinks(http)
	if err != nil {
		return nil, err
	}
	if len(sinks) == 1 {
		return sinks[0].Transport, nil
	}
	m := make(Multi, len(sinks))
	for i, s := range sinks {
		m[i] = s.Transport
	}
	return m, nil
}

// Target is a configured destination with its sinks; Transport sends to
// all of them.
type Target struct {
	Config    Config
	Transport Transport
	Sinks     []Sink
}

// NewTarget checks c and builds its sinks.
func NewTarget(c Config, http *HTTPOptions) (*Target, error) {
	sinks, err := c.Sinks(http)
	if err != nil {
		return nil, err
	}
	t, err := c.Transport(http)
	if err != nil {
		return nil, err
	}
	return &Target{Config: c, Transport: t, Sinks: sinks}, nil
}

// SendRun builds the events of a finished dbt Cloud run and sends them in
// order to each sink, synchronously: the server calls it from a River job,
// which is what makes delivery durable (a failed job is retried later).
//
// sent is the delivery's progress, events taken by sink key; SendRun skips
// what a sink already took and counts up as it sends, so that a retry
// resumes each sink where it stopped and a file beside a failing receiver
// gets no duplicate lines. A sink stops at its first undeliverable event
// (order matters to receivers); the other sinks go on. Progress is by
// count, which works because a finished run's events are the same, in the
// same order, every time they are built. nil sent starts afresh. Build
// warnings are logged. It returns the number of events of the run.
func (t *Target) SendRun(ctx context.Context, log *slog.Logger, client *dbtcloud.Client, accountID, runID int64, sent map[string]int) (int, error) {
	res, err := FromCloud(ctx, client, accountID, runID, t.Config.Options())
	if err != nil {
		return 0, err
	}
	for _, w := range res.Warnings {
		log.Info("OpenLineage: "+w, "dbt_run", runID)
	}
	if sent == nil {
		sent = map[string]int{}
	}
	sinks := t.Sinks
	if len(sinks) == 0 && t.Transport != nil {
		sinks = []Sink{{Key: "transport", Transport: t.Transport}}
	}
	var errs []error
	for _, s := range sinks {
		for i := sent[s.Key]; i < len(res.Events); i++ {
			ev := res.Events[i]
			if err := s.Transport.Send(ctx, ev); err != nil {
				errs = append(errs, fmt.Errorf("OpenLineage event %d of %d of dbt Cloud run %d (%s %s) to %s: %w", i+1, len(res.Events), runID, ev.EventType, ev.Job.Name, s.Key, err))
				break
			}
			sent[s.Key] = i + 1
		}
	}
	return len(res.Events), errors.Join(errs...)
}

// Router picks a connection's target: its own when it has one, else the
// server-wide one. A connection routed to "off" gets none.
type Router struct {
	Default      *Target
	ByConnection map[string]*Target
	Log          *slog.Logger
}

// ParseConnectionURLs reads the per-connection settings of dbtlink
// serve into configs based on base (the server-wide naming and key):
// routes are --openlineage-connection NAME=URL values (URL "off": no
// events for that connection, a nil config), namespaces
// --openlineage-connection-dataset-namespace NAME=NS values, for
// connections whose warehouses differ. A connection with only a namespace
// keeps the server-wide destination.
func ParseConnectionURLs(routes, namespaces []string, base Config) (map[string]*Config, error) {
	out := map[string]*Config{}
	parse := func(flag, v, example string) (string, string, error) {
		name, val, ok := strings.Cut(v, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok || name == "" || val == "" {
			return "", "", fmt.Errorf("--%s %q: want NAME=VALUE, e.g. %s", flag, redactURL(v), example)
		}
		return name, val, nil
	}
	for _, v := range routes {
		name, u, err := parse("openlineage-connection", v, "prod=http://marquez:5000 (or prod=off)")
		if err != nil {
			return nil, err
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--openlineage-connection: connection %q given twice", name)
		}
		if u == "off" {
			out[name] = nil
			continue
		}
		c := base
		c.URL, c.File = u, ""
		out[name] = &c
	}
	seen := map[string]bool{}
	for _, v := range namespaces {
		name, ns, err := parse("openlineage-connection-dataset-namespace", v, "prod=postgres://db.internal:5432")
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("--openlineage-connection-dataset-namespace: connection %q given twice", name)
		}
		seen[name] = true
		c, routed := out[name]
		switch {
		case routed && c == nil:
			continue // off
		case !routed:
			if !base.Enabled() {
				return nil, fmt.Errorf("--openlineage-connection-dataset-namespace %s: its events go nowhere; give --openlineage-url or --openlineage-file, or --openlineage-connection %s=URL", name, name)
			}
			cc := base
			c = &cc
			out[name] = c
		}
		c.DatasetNamespace = ns
	}
	return out, nil
}

// For returns the target of conn, nil when its events go nowhere.
func (r *Router) For(conn string) *Target {
	if t, ok := r.ByConnection[conn]; ok {
		return t
	}
	return r.Default
}

// EmitRun sends the events of a finished run of connection conn, resuming
// from and updating sent (see Target.SendRun); it does nothing when the
// connection has no target.
func (r *Router) EmitRun(ctx context.Context, conn string, client *dbtcloud.Client, accountID, runID int64, sent map[string]int) error {
	t := r.For(conn)
	if t == nil {
		return nil
	}
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	n, err := t.SendRun(ctx, log, client, accountID, runID, sent)
	if err != nil {
		return err
	}
	log.Info("OpenLineage events sent", "connection", conn, "dbt_run", runID, "events", n)
	return nil
}

// Enabled reports whether any connection's events go anywhere.
func (r *Router) Enabled() bool {
	if r == nil {
		return false
	}
	if r.Default != nil {
		return true
	}
	for _, t := range r.ByConnection {
		if t != nil {
			return true
		}
	}
	return false
}

// NewRouter builds the server's router: base is the server-wide config
// (its target is nil when it sends nowhere), routes and namespaces the
// per-connection values ParseConnectionURLs reads.
func NewRouter(base Config, routes, namespaces []string, http *HTTPOptions, log *slog.Logger) (*Router, error) {
	r := &Router{ByConnection: map[string]*Target{}, Log: log}
	if base.Warehouses == nil {
		base.Warehouses = &Warehouses{}
	}
	if base.Enabled() {
		t, err := NewTarget(base, http)
		if err != nil {
			return nil, err
		}
		r.Default = t
	}
	cs, err := ParseConnectionURLs(routes, namespaces, base)
	if err != nil {
		return nil, err
	}
	for name, c := range cs {
		if c == nil {
			r.ByConnection[name] = nil
			continue
		}
		t, err := NewTarget(*c, http)
		if err != nil {
			return nil, fmt.Errorf("--openlineage-connection %s: %w", name, err)
		}
		r.ByConnection[name] = t
	}
	return r, nil
}
