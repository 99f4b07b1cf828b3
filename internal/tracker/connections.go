package tracker

import (
	"context"
	"errors"
	"fmt"
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

// jobKey and cachedJob remember jobs already checked, so that creating
// many runs of one job costs one lookup, not one per run.
type jobKey struct {
	conn string
	id   int64
}

type cachedJob struct {
	job *dbtcloud.Job
	at  time.Time
}

const jobCacheTTL = 5 * time.Minute

func (t *Tracker) cachedJob(ctx context.Context, cl *dbtcloud.Client, c store.Connection, id int64) (*dbtcloud.Job, error) {
	k := jobKey{c.Name, id}
	now := t.cfg.Now()
	t.mu.Lock()
	cj, ok := t.jobs[k]
	t.mu.Unlock()
	if ok && now.Sub(cj.at) < jobCacheTTL {
		return cj.job, nil
	}
	j, _, err := cl.Jobs.Get(ctx, c.AccountID, id)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.jobs[k] = cachedJob{job: j, at: now}
	t.mu.Unlock()
	return j, nil
}
