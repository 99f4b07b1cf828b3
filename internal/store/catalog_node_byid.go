package store

import (
	"context"
	"database/sql"
)

// GetNodeByID returns the node with the given row id, with its columns and
// tags, for search hits that point at nodes.
func (q queries) GetNodeByID(ctx context.Context, id int64) (CatalogNode, error) {
	nodes, err := q.listNodes(ctx, `SELECT `+nodeColumns+` FROM catalog_nodes n WHERE n.id = $1`, []any{id}, true)
	if err == nil && len(nodes) == 0 {
		err = sql.ErrNoRows
	}
	if err != nil {
		return CatalogNode{}, wrap(err, "get catalog node %d", id)
	}
	return nodes[0], nil
}
