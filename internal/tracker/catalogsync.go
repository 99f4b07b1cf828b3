package tracker

import (
	"context"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
)

// CloudClient returns the dbt Cloud client of a stored connection ("" is
// the default one), built as the tracker's own (rate limit, metrics) and
// cached until the connection changes. The catalog's syncs use it.
func (t *Tracker) CloudClient(ctx context.Context, name string) (*dbtcloud.Client, store.Connection, error) {
	return t.client(ctx, name)
}
