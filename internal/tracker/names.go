package tracker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
)

// Names are the names of a connection's projects and environments by id.
// dbt Cloud's job and run objects carry only the ids; clients of the
// server show names, as the CLI does when it talks to dbt Cloud itself.
type Names struct {
	Projects     map[int64]string
	Environments map[int64]string
}

// nameIndex caches the Names of one connection, as jobIndex caches jobs:
// projects and environments change rarely, and a job list would otherwise
// cost two more list calls per request.
type nameIndex struct {
	mu     sync.Mutex // held while loading, so concurrent misses load once
	names  Names
	loaded time.Time // zero: never loaded
}

func (t *Tracker) nameIndexOf(conn string) *nameIndex {
	t.mu.Lock()
	defer t.mu.Unlock()
	ix, ok := t.names[conn]
	if !ok {
		ix = &nameIndex{}
		t.names[conn] = ix
	}
	return ix
}

// Names returns the names of the connection's projects and environments.
// They are read from dbt Cloud (every project, and every environment of
// the account) and kept for jobCacheTTL; when one of the ids asked for is
// missing, they are read again, at most once every jobReloadEvery (a
// project created since, or an id that does not exist). An id still
// unknown after that is simply absent from the maps. When reading fails,
// the error comes with the names read before (if any), which callers may
// still show.
func (t *Tracker) Names(ctx context.Context, conn string, projectIDs, environmentIDs []int64) (Names, error) {
	cl, c, err := t.client(ctx, conn)
	if err != nil {
		return Names{}, err
	}
	ix := t.nameIndexOf(c.Name)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	now := t.cfg.Now()
	age := now.Sub(ix.loaded)
	fresh := !ix.loaded.IsZero() && age < jobCacheTTL
	if fresh && !missing(ix.names.Projects, projectIDs) && !missing(ix.names.Environments, environmentIDs) {
		return ix.names, nil
	}
	if fresh && age < jobReloadEvery {
		return ix.names, nil // a miss, but reloaded too recently to try again
	}
	names, err := loadNames(ctx, cl, c)
	if err != nil {
		// The names read before, if any, still beat ids.
		return ix.names, err
	}
	ix.names, ix.loaded = names, now
	return names, nil
}

func missing(m map[int64]string, ids []int64) bool {
	for _, id := range ids {
		if _, ok := m[id]; !ok && id > 0 {
			return true
		}
	}
	return false
}

func loadNames(ctx context.Context, cl *dbtcloud.Client, c store.Connection) (Names, error) {
	n := Names{Projects: map[int64]string{}, Environments: map[int64]string{}}
	for p, err := range cl.Projects.ListIter(ctx, c.AccountID, nil) {
		if err != nil {
			return Names{}, fmt.Errorf("list the projects of %s: %w", c.Name, err)
		}
		n.Projects[p.ID] = p.Name
	}
	for e, err := range cl.Environments.ListAccountIter(ctx, c.AccountID, nil) {
		if err != nil {
			return Names{}, fmt.Errorf("list the environments of %s: %w", c.Name, err)
		}
		n.Environments[e.ID] = e.Name
	}
	return n, nil
}
