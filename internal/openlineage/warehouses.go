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
// one too (Connections.Get).
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
	if ctx.Err() != nil {
		return "", "", e.err // cancelled: nothing learnt about the connection
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
	w.calls += calls
	w.mu.Unlock()
	return e.namespace, e.adapter, e.err
}

// readConnection reads the connection with its details and says how many
// calls it took.
func readConnection(ctx context.Context, client *dbtcloud.Client, accountID, projectID, connectionID int64) (*dbtcloud.Connection, int, error) {
	if projectID <= 0 {
		return nil, 0, errors.New("the run names no project")
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
		return nil, 1, fmt.Errorf("dbt Cloud project %d has no connection", projectID)
	}
	c, _, err := client.Connections.Get(ctx, accountID, projectID, connectionID)
	if err != nil {
		return nil, 2, fmt.Errorf("read dbt Cloud connection %d of project %d: %w", connectionID, projectID, err)
	}
	return c, 2, nil
}
