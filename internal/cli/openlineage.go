package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/openlineage"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// openLineageFlags are the --openlineage-* flags of `serve` and of the
// commands that wait for a run: `job run --wait`, `run watch` and
// `run retry --wait`.
// Each falls back to its DBTLINK_OPENLINEAGE_* variable; the API key is
// only read from DBTLINK_OPENLINEAGE_API_KEY, never a flag, so that it
// does not show in process lists or shell history.
type openLineageFlags struct {
	URL, File, Namespace, DatasetNamespace string
	// Connections are serve's NAME=URL routes, ConnectionNamespaces its
	// NAME=NS dataset namespaces.
	Connections, ConnectionNamespaces []string
	// Timeout bounds how long a waiting command waits for delivery after
	// the run.
	Timeout time.Duration
}

const openLineageEnvHelp = `OpenLineage (see the README): events for the dbt Cloud run, one job per
model, seed and snapshot plus test results, in the shape of the OpenLineage
dbt integration. Each --openlineage-* flag defaults to its variable:
  DBTLINK_OPENLINEAGE_URL                receiver, e.g. Marquez http://marquez:5000
  DBTLINK_OPENLINEAGE_API_KEY            bearer key for the receiver (no flag)
  DBTLINK_OPENLINEAGE_FILE               file to append events to as JSON lines
  DBTLINK_OPENLINEAGE_NAMESPACE          job namespace (default dbt)
  DBTLINK_OPENLINEAGE_DATASET_NAMESPACE  dataset namespace, e.g. postgres://db:5432
                                         (default: from the dbt Cloud connection)`

func addOpenLineageFlags(fl *pflag.FlagSet, o *openLineageFlags, serve bool) {
	fl.StringVar(&o.URL, "openlineage-url", "", "send OpenLineage events of finished runs to this receiver (Marquez: http://host:5000, posted to /api/v1/lineage); default $"+openlineage.EnvURL)
	fl.StringVar(&o.File, "openlineage-file", "", "append OpenLineage events of finished runs to this file as JSON lines; default $"+openlineage.EnvFile)
	fl.StringVar(&o.Namespace, "openlineage-namespace", "", "OpenLineage job namespace; default $"+openlineage.EnvNamespace+", else \"dbt\"")
	fl.StringVar(&o.DatasetNamespace, "openlineage-dataset-namespace", "", "OpenLineage namespace of the warehouse's datasets, e.g. postgres://db.internal:5432 or snowflake://myorg-myaccount (default $"+openlineage.EnvDatasetNamespace+", else built from the dbt Cloud connection's details)")
	if serve {
		fl.StringArrayVar(&o.Connections, "openlineage-connection", nil, "NAME=URL: send the events of connection NAME's runs to URL instead (NAME=off: none); repeat for several")
		fl.StringArrayVar(&o.ConnectionNamespaces, "openlineage-connection-dataset-namespace", nil, "NAME=NS: dataset namespace of connection NAME's warehouse, e.g. prod=snowflake://xy12345; repeat for several")
	} else {
		fl.DurationVar(&o.Timeout, "openlineage-timeout", 30*time.Second, "how long to wait for OpenLineage delivery once the run ended")
	}
}

// given reports whether a destination was given by flag (the environment
// alone does not count: it may be set for the server).
func (o *openLineageFlags) given() bool { return o.URL != "" || o.File != "" }

// checkWaiting checks the flags of a command that waits for a run: the
// server sends its runs' events itself, events need the finished run, and
// a destination that cannot work is refused before the run starts rather
// than after it ended.
func (o *openLineageFlags) checkWaiting(getenv func(string) string, waits, server bool) error {
	switch {
	case server && o.given():
		return usageError("--openlineage-url and --openlineage-file cannot be used with --server: the server sends the events of the runs it follows (see dbtlink serve --openlineage-url)")
	case !waits && o.given():
		return usageError("--openlineage-url and --openlineage-file need --wait: events are made from the finished run")
	case waits && !server:
		return o.check(getenv)
	}
	return nil
}

// lineageWait is the one path by which the commands that wait for a run
// (job run --wait, run watch, run retry --wait) send its OpenLineage
// events: wait, then, once the run ended, emit (see emitRunLineage).
type lineageWait struct {
	IO     *IOStreams
	Flags  *openLineageFlags
	Getenv func(string) string
}

// wait follows run with w and sends the events of the run it ended as.
func (l lineageWait) wait(ctx context.Context, w *waiter, run *dbtcloud.Run) (*dbtcloud.Run, error) {
	final, err := w.wait(ctx, run)
	if l.Flags != nil {
		emitRunLineage(ctx, l.IO, l.Flags, l.Getenv, w.Client, w.AccountID, final)
	}
	return final, err
}

// config merges the flags over the environment.
func (o *openLineageFlags) config(getenv func(string) string) openlineage.Config {
	c := openlineage.ConfigFromEnv(getenv)
	for dst, v := range map[*string]string{&c.URL: o.URL, &c.File: o.File, &c.JobNamespace: o.Namespace, &c.DatasetNamespace: o.DatasetNamespace} {
		if v != "" {
			*dst = v
		}
	}
	c.Producer = openlineage.DefaultProducer + "/tree/" + Version
	// Column lineage from the compiled SQL; one for all of a server's
	// connections, as it remembers only the last few manifests.
	c.ColumnLineage = &openlineage.SQLColumnLineage{}
	return c
}

// check refuses a receiver URL or file that cannot work, before the run
// is triggered rather than after it ended.
func (o *openLineageFlags) check(getenv func(string) string) error {
	cfg := o.config(getenv)
	if !cfg.Enabled() {
		return nil
	}
	if _, err := cfg.Transport(nil); err != nil {
		return usageError("%v (set by --openlineage-url/--openlineage-file or $%s/$%s)", err, openlineage.EnvURL, openlineage.EnvFile)
	}
	return nil
}

// serveLineage builds the server's emitter; nil (a nil interface, not a
// nil *Router) when no connection's events go anywhere.
func serveLineage(o *openLineageFlags, getenv func(string) string, log *slog.Logger) (tracker.LineageEmitter, error) {
	r, err := openlineage.NewRouter(o.config(getenv), o.Connections, o.ConnectionNamespaces, nil, log)
	if err != nil {
		return nil, usageError("%v", err)
	}
	if !r.Enabled() {
		return nil, nil
	}
	return r, nil
}

// emitRunLineage sends the events of a finished run through a bounded
// background queue and waits at most o.Timeout for them. It never changes
// the command's outcome: problems are warnings on stderr.
func emitRunLineage(ctx context.Context, ios *IOStreams, o *openLineageFlags, getenv func(string) string,
	client *dbtcloud.Client, acct int64, run *dbtcloud.Run) {
	cfg := o.config(getenv)
	if !cfg.Enabled() || run == nil || !run.Status.Terminal() {
		return
	}
	warn := func(format string, args ...any) {
		fmt.Fprintf(ios.ErrOut, "warning: OpenLineage: "+format+"\n", args...)
	}
	t, err := cfg.Transport(nil)
	if err != nil {
		warn("%v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(o.Timeout, time.Second))
	defer cancel()
	res, err := openlineage.FromCloud(ctx, client, acct, run.ID, cfg.Options())
	if err != nil {
		warn("no events for run %d: %v", run.ID, err)
		return
	}
	for _, w := range res.Warnings {
		warn("%s", w)
	}
	e := openlineage.NewEmitter(t, openlineage.EmitterOptions{QueueSize: len(res.Events) + 1,
		Logger: slog.New(slog.NewTextHandler(ios.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	for _, ev := range res.Events {
		e.Emit(ev)
	}
	st := e.Close(ctx)
	if st.Failed > 0 || st.Dropped > 0 {
		warn("%d of %d events of run %d delivered (%d failed, %d not sent within --openlineage-timeout)", st.Sent, len(res.Events), run.ID, st.Failed, st.Dropped)
	}
}
