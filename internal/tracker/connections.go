package tracker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
)

// NewConnection is a connection to add, with its token in plain text.
type NewConnection struct {
	Name      string
	Host      string
	AccountID int64
	Token     string
	Default   bool
}

// ListConnections lists the stored connections (tokens stay sealed).
func (t *Tracker) ListConnections(ctx context.Context) ([]store.Connection, error) {
	return t.st.ListConnections(ctx)
}

// AddConnection validates, seals and stores a connection.
func (t *Tracker) AddConnection(ctx context.Context, in NewConnection) (store.Connection, error) {
	c := connection.Connection{Name: in.Name, Host: in.Host, AccountID: in.AccountID, Token: connection.NewToken(in.Token)}
	if err := c.Validate(); err != nil {
		return store.Connection{}, &InputError{Msg: err.Error()}
	}
	sealed, keyID, err := t.cfg.Keys.SealSecret(connectionRecord(c.Name), in.Token)
	if err != nil {
		return store.Connection{}, fmt.Errorf("connection %q: seal the token: %w", c.Name, err)
	}
	sc, err := t.st.CreateConnection(ctx, store.Connection{
		Name: c.Name, Host: c.Host, AccountID: c.AccountID, SealedToken: sealed, KeyID: keyID, Default: in.Default,
	})
	if errors.Is(err, store.ErrExists) {
		return sc, fmt.Errorf("connection %q already exists; delete it first to replace it: %w", c.Name, err)
	}
	return sc, err
}

// TestConnection runs the same checks as `dbtlink connection test`.
func (t *Tracker) TestConnection(ctx context.Context, name string) (connection.Report, error) {
	c, err := t.st.GetConnection(ctx, name)
	if err != nil {
		return connection.Report{}, fmt.Errorf("connection %q: %w", name, err)
	}
	tok, err := t.cfg.Keys.OpenSecret(c.Name, connectionRecord(c.Name), c.SealedToken)
	if err != nil {
		return connection.Report{}, fmt.Errorf("connection %q: %w", name, err)
	}
	// Few retries: a broken connection should be reported in seconds.
	opts := append([]dbtcloud.Option{dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 2, MaxElapsed: 10 * time.Second}),
		dbtcloud.WithTimeout(15 * time.Second)}, t.cfg.ClientOptions...)
	cl, err := dbtcloud.NewClient(c.Host, tok.Reveal(), opts...)
	if err != nil {
		return connection.Report{}, fmt.Errorf("connection %q: %w", name, err)
	}
	return connection.Diagnose(ctx, cl, c.AccountID), nil
}

// DeleteConnection removes a connection. Its runs stay as history; runs
// still in flight are no longer followed.
func (t *Tracker) DeleteConnection(ctx context.Context, name string) error {
	if err := t.st.DeleteConnection(ctx, name); err != nil {
		return fmt.Errorf("delete connection %q: %w", name, err)
	}
	t.mu.Lock()
	delete(t.clients, name)
	delete(t.jobs, name)
	delete(t.names, name)
	t.mu.Unlock()
	return nil
}

// ListJobs lists the jobs of a connection's account.
func (t *Tracker) ListJobs(ctx context.Context, conn string, opts *dbtcloud.JobListOptions) ([]dbtcloud.Job, error) {
	cl, c, err := t.client(ctx, conn)
	if err != nil {
		return nil, err
	}
	var jobs []dbtcloud.Job
	for j, err := range cl.Jobs.ListIter(ctx, c.AccountID, opts) {
		if err != nil {
			return nil, fmt.Errorf("list jobs of %s: %w", c.Name, err)
		}
		jobs = append(jobs, *j)
	}
	return jobs, nil
}

// GetJob reads one job of a connection's account.
func (t *Tracker) GetJob(ctx context.Context, conn string, id int64) (*dbtcloud.Job, error) {
	cl, c, err := t.client(ctx, conn)
	if err != nil {
		return nil, err
	}
	j, _, err := cl.Jobs.Get(ctx, c.AccountID, id)
	if err != nil {
		return nil, fmt.Errorf("get job %d of %s: %w", id, c.Name, err)
	}
	return j, nil
}

// jobIndex holds the jobs of one connection's account, so that creating
// many runs costs a few list calls rather than one lookup per run: 10,000
// concurrent runs are 10,000 jobs, since dbt Cloud queues the runs of one
// job behind each other.
type jobIndex struct {
	mu     sync.Mutex // held while loading, so concurrent misses load once
	jobs   map[int64]*dbtcloud.Job
	loaded time.Time
}

const (
	// jobCacheTTL is how long a job's settings are trusted.
	jobCacheTTL = 5 * time.Minute
	// jobReloadEvery bounds reloads caused by misses (a job created since
	// the last load, or a wrong id).
	jobReloadEvery = 30 * time.Second
)

func (t *Tracker) jobIndexOf(conn string) *jobIndex {
	t.mu.Lock()
	defer t.mu.Unlock()
	ix, ok := t.jobs[conn]
	if !ok {
		ix = &jobIndex{}
		t.jobs[conn] = ix
	}
	return ix
}

// cachedJob returns a job of the connection's account from the index,
// loading the account's jobs (all pages) when the index is stale or
// misses it. A job the list does not show is asked for alone, which is
// also how a job that does not exist is told (dbtcloud.ErrNotFound).
func (t *Tracker) cachedJob(ctx context.Context, cl *dbtcloud.Client, c store.Connection, id int64) (*dbtcloud.Job, error) {
	ix := t.jobIndexOf(c.Name)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	now := t.cfg.Now()
	if j, ok := ix.jobs[id]; ok && now.Sub(ix.loaded) < jobCacheTTL {
		return j, nil
	}
	if now.Sub(ix.loaded) >= jobReloadEvery {
		jobs := map[int64]*dbtcloud.Job{}
		for j, err := range cl.Jobs.ListIter(ctx, c.AccountID, nil) {
			if err != nil {
				return nil, fmt.Errorf("list the jobs of %s: %w", c.Name, err)
			}
			jobs[j.ID] = j
		}
		ix.jobs, ix.loaded = jobs, now
		if j, ok := jobs[id]; ok {
			return j, nil
		}
	}
	j, _, err := cl.Jobs.Get(ctx, c.AccountID, id)
	if err != nil {
		return nil, err
	}
	if ix.jobs == nil {
		ix.jobs = map[int64]*dbtcloud.Job{}
	}
	ix.jobs[id] = j
	return j, nil
}
