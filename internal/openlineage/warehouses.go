package openlineage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// Warehouses finds and remembers the dataset namespaces of dbt Cloud
// connections (ConnectionNamespace), so that following many runs costs one
// call to dbt Cloud per connection rather than one per run. It is safe for
// concurrent use; the zero value is ready.
//
// A lookup reads the run's project (Projects.Get), whose answer carries the
// project's connection with its details: one call. Only when the run's
// environment uses another connection than its project's does it read that
// one too (Connections.Get, then Connections.GetByAccount for an
// account-level connection), once.
type Warehouses struct {
	// TTL is how long a namespace is remembered (default an hour: a
	// connection's host rarely changes, and a changed one is picked up
	// within the hour). A failed lookup (a token without project read
	// access, say) is remembered for a twelfth of it, so that a server
	// does not ask on every run.
	TTL time.Duration
	// Now defaults to time.Now.
	Now func() time.Time

	mu sync.Mutex
	m  map[warehouseKey]warehouseEntry
	// calls counts the dbt Cloud calls made, for tests.
	calls int
}

// warehouseKey names a connection; project is set only when the
// connection id is unknown (then it is the project's own connection).
type warehouseKey struct {
	host                         string
	account, project, connection int64
}

type warehouseEntry struct {
	namespace, adapter string
	err                error
	until              time.Time
}

// Namespace returns the dataset namespace and adapter of connectionID (0:
// the project's own connection) of a run of projectID.
func (w *Warehouses) Namespace(ctx context.Context, client *dbtcloud.Client, accountID, projectID, connectionID int64) (string, string, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ttl := w.TTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	key := warehouseKey{host: client.Host(), account: accountID, connection: connectionID}
	if connectionID == 0 {
		key.project = projectID
	}
	w.mu.Lock()
	e, ok := w.m[key]
	w.mu.Unlock()
	if ok && now().Before(e.until) {
		return e.namespace, e.adapter, e.err
	}
	conn, calls, err := readConnection(ctx, client, accountID, projectID, connectionID)
	e = warehouseEntry{err: err}
	if err == nil {
		e.namespace, e.adapter, e.err = ConnectionNamespace(conn)
	}
	w.mu.Lock()
	w.calls += calls
	w.mu.Unlock()
	if err != nil && !permanent(err) {
		// Cancelled, a network error, dbt Cloud's 5xx or 429 after the
		// client's retries: nothing learnt about the connection, and the
		// caller should retry rather than name datasets wrongly.
		return "", "", &TransientError{Err: err}
	}
	e.until = now().Add(ttl)
	if e.err != nil {
		e.until = now().Add(ttl / 12)
	}
	w.mu.Lock()
	if w.m == nil {
		w.m = map[warehouseKey]warehouseEntry{}
	}
	w.m[key] = e
	w.mu.Unlock()
	return e.namespace, e.adapter, e.err
}

// TransientError is a connection lookup that failed for a passing reason;
// FromCloud returns it instead of falling back, so that the delivery is
// retried with the right names.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// permanent reports whether a lookup error will not go away by asking
// again soon: the token may not read the project, or it is gone.
func permanent(err error) bool {
	return errors.Is(err, dbtcloud.ErrForbidden) || errors.Is(err, dbtcloud.ErrNotFound) ||
		errors.Is(err, dbtcloud.ErrUnauthorized) || errors.Is(err, errNoConnection)
}

// errNoConnection marks a project without a connection.
var errNoConnection = errors.New("no connection")

// readConnection reads the connection with its details and says how many
// calls it took. A connection that cannot be named (ConnectionNamespace's
// error) is a permanent failure too, since the details do not change soon.
func readConnection(ctx context.Context, client *dbtcloud.Client, accountID, projectID, connectionID int64) (*dbtcloud.Connection, int, error) {
	if projectID <= 0 {
		return nil, 0, fmt.Errorf("the run names no project: %w", errNoConnection)
	}
	p, _, err := client.Projects.Get(ctx, accountID, projectID)
	if err != nil {
		return nil, 1, fmt.Errorf("read dbt Cloud project %d for its connection: %w", projectID, err)
	}
	if p.Connection != nil && p.Connection.Details != nil && (connectionID == 0 || p.Connection.ID == connectionID) {
		return p.Connection, 1, nil
	}
	if connectionID == 0 {
		connectionID = p.ConnectionID
	}
	if connectionID == 0 {
		return nil, 1, fmt.Errorf("dbt Cloud project %d has %w", projectID, errNoConnection)
	}
	c, _, err := client.Connections.Get(ctx, accountID, projectID, connectionID)
	if errors.Is(err, dbtcloud.ErrNotFound) {
		// Not one of the project's: an account-level connection, as newer
		// environments use.
		c, _, err = client.Connections.GetByAccount(ctx, accountID, connectionID)
		if err != nil {
			return nil, 3, fmt.Errorf("read dbt Cloud connection %d: %w", connectionID, err)
		}
		return c, 3, nil
	}
	if err != nil {
		return nil, 2, fmt.Errorf("read dbt Cloud connection %d of project %d: %w", connectionID, projectID, err)
	}
	return c, 2, nil
}
