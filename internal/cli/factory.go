package cli

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/connection"
)

// Factory supplies the dependencies of commands. Everything a command might
// not need is lazy, so `dbtlink artifacts inspect` never opens the
// connection store, and tests replace any one piece.
type Factory struct {
	IO *IOStreams
	// Getenv reads the environment; tests pass a map-backed func.
	Getenv func(string) string
	// Environ lists the environment (for AIRFLOW_CONN_* discovery).
	Environ func() []string
	// Now is the clock for elapsed times and default causes.
	Now func() time.Time

	// ConnectionName is the value of the global --connection flag.
	ConnectionName string
	// ServerFlag is the value of the global --server flag; ServerURL
	// resolves it with $DBTLINK_SERVER.
	ServerFlag string
	// ServerHTTPClient is the HTTP client of the dbtlink server client;
	// nil is a default one (tests share a transport).
	ServerHTTPClient *http.Client

	// Store opens the local connection store. Nil means the default one
	// under DBTLINK_HOME.
	Store func() (*connection.Store, error)
	// ClientOptions are added to every dbt Cloud client the factory makes
	// (tests use them for fast retries and fake clocks).
	ClientOptions []dbtcloud.Option

	// resolvedConnection is the name of the connection Client resolved,
	// for hints in error messages ("dbtlink connection test NAME").
	resolvedConnection string
}

// NewFactory returns the production wiring over io.
func NewFactory(io *IOStreams) *Factory {
	return &Factory{
		IO:      io,
		Getenv:  os.Getenv,
		Environ: os.Environ,
		Now:     time.Now,
	}
}

// OpenStore opens the connection store the commands use.
func (f *Factory) OpenStore() (*connection.Store, error) {
	if f.Store != nil {
		return f.Store()
	}
	home, err := f.home()
	if err != nil {
		return nil, err
	}
	s, err := connection.NewStore(home, connection.WithGetenv(f.Getenv))
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	return s, nil
}

// ServerURL is the dbtlink server the commands talk to: --server, else
// $DBTLINK_SERVER; "" means none (commands act locally).
func (f *Factory) ServerURL() string {
	if f.ServerFlag != "" {
		return f.ServerFlag
	}
	return strings.TrimSpace(f.Getenv(EnvServer))
}

// Server returns a client of the dbtlink server named by ServerURL, with
// the API token from $DBTLINK_SERVER_TOKEN (never from a flag: it would
// land in shell history and the process list). DBTLINK_RETRY_FOR bounds
// its retries as it bounds dbt Cloud's.
func (f *Factory) Server() (*serverClient, error) {
	raw := f.ServerURL()
	if raw == "" {
		return nil, usageError("no dbtlink server: pass --server URL or set $%s", EnvServer)
	}
	token := strings.TrimSpace(f.Getenv(EnvServerToken))
	if token == "" {
		return nil, usageError("--server needs an API token in $%s (tokens are never accepted as flag values); create one on the server's machine with `dbtlink token create --name NAME --scope write` and export it: export %s=dbtl_...", EnvServerToken, EnvServerToken)
	}
	retryFor := 2 * time.Minute
	if v := f.Getenv(envRetryFor); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, usageError("%s=%q is not a duration such as 30s or 2m", envRetryFor, v)
		}
		retryFor = d
	}
	return newServerClient(raw, token, f.ServerHTTPClient, retryFor)
}

// home is the dbtlink home directory: DBTLINK_HOME, else the default.
func (f *Factory) home() (string, error) {
	if home := f.Getenv(connection.EnvHome); home != "" {
		return home, nil
	}
	home, err := connection.DefaultHome()
	if err != nil {
		return "", withCode(ExitUsage, fmt.Errorf("find the dbtlink config dir: %w", err))
	}
	return home, nil
}

// Connection resolves the connection named by --connection (or the
// defaults: DBTLINK_CONNECTION, DBT_CLOUD_* variables, the default stored
// connection).
func (f *Factory) Connection() (*connection.Connection, error) {
	s, err := f.OpenStore()
	if err != nil {
		return nil, err
	}
	c, err := s.Resolve(f.ConnectionName)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Client returns a dbt Cloud client for the resolved connection, with the
// connection itself (for its account id and name).
//
// DBTLINK_RETRY_FOR is read here, so every command honours it the same way.
func (f *Factory) Client(extra ...dbtcloud.Option) (*dbtcloud.Client, *connection.Connection, error) {
	retry, err := f.retryFor()
	if err != nil {
		return nil, nil, err
	}
	c, err := f.Connection()
	if err != nil {
		return nil, nil, err
	}
	f.resolvedConnection = c.Name
	// The notice comes first, so tests' options can replace it.
	opts := append(append(append([]dbtcloud.Option{dbtcloud.WithRetryNotify(retryNotice(f.IO))}, f.ClientOptions...), retry...), extra...)
	client, err := dbtcloud.NewClient(c.Host, c.Token.Reveal(), opts...)
	if err != nil {
		return nil, nil, withCode(ExitUsage, fmt.Errorf("connection %q: %w", c.Name, err))
	}
	return client, c, nil
}

// envRetryFor bounds the client's retries, for CI jobs that would rather
// fail fast than wait out dbt Cloud's bad minutes.
const envRetryFor = "DBTLINK_RETRY_FOR"

// retryFor turns DBTLINK_RETRY_FOR into a retry policy option (none when
// unset). A bad value is a usage error rather than being ignored, because a
// CI job that asked to fail fast would otherwise silently wait minutes.
func (f *Factory) retryFor() ([]dbtcloud.Option, error) {
	v := f.Getenv(envRetryFor)
	if v == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return nil, usageError("%s=%q is not a duration such as 30s or 2m", envRetryFor, v)
	}
	p := dbtcloud.DefaultRetryPolicy()
	p.MaxElapsed = d
	if d == 0 {
		p.MaxAttempts = 1 // 0 means "do not retry", not "no bound"
	}
	return []dbtcloud.Option{dbtcloud.WithRetryPolicy(p)}, nil
}

// classifyConnectionError maps connection-store errors: a missing or
// ambiguous connection is "not found" (6); a broken store or key is a
// configuration error (2).
func classifyConnectionError(err error) (int, bool) {
	switch {
	case errors.Is(err, connection.ErrNotFound), errors.Is(err, connection.ErrAmbiguous):
		return ExitNotFound, true
	case errors.Is(err, connection.ErrNoConnection),
		errors.Is(err, connection.ErrCorrupt),
		errors.Is(err, connection.ErrKeyMissing),
		errors.Is(err, connection.ErrDecrypt),
		errors.Is(err, connection.ErrKeyFilePermissions),
		errors.Is(err, connection.ErrInvalidName),
		errors.Is(err, connection.ErrExists),
		errors.Is(err, connection.ErrLocked):
		return ExitUsage, true
	}
	return 0, false
}

// classifyAPIError maps dbt Cloud client errors to exit codes.
func classifyAPIError(err error) (int, bool) {
	switch {
	case errors.Is(err, dbtcloud.ErrUnauthorized), errors.Is(err, dbtcloud.ErrForbidden):
		return ExitAuth, true
	case errors.Is(err, dbtcloud.ErrNotFound):
		return ExitNotFound, true
	case errors.Is(err, dbtcloud.ErrRateLimited), errors.Is(err, dbtcloud.ErrServer),
		errors.Is(err, dbtcloud.ErrOutcomeUnknown):
		return ExitUpstream, true
	}
	var apiErr *dbtcloud.APIError
	if errors.As(err, &apiErr) {
		// Any other 4xx means we sent something dbt Cloud refused.
		return ExitUsage, true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return ExitUpstream, true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return ExitUpstream, true
	}
	return 0, false
}
