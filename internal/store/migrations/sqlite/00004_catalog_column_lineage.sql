-- Column-level lineage (issue 11), computed by a sync from the models'
-- compiled SQL (package sqllineage). Rows are per scope and replaced with
-- the scope's snapshot. Nodes are named by unique id, like catalog_edges;
-- a relation the SQL reads that is no node of the scope (a table outside
-- the project) has parent_id '' and is named by parent_relation.

-- +goose Up
-- One edge: child_id.child_column reads parent.parent_column. kind is
-- copy or transform for an output column; filter and join edges decide
-- which rows the model keeps and have child_column ''. via lists the
-- ephemeral models (unique ids, comma-separated) the edge passed through.
CREATE TABLE catalog_column_lineage (
    scope_id        INTEGER NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    child_id        TEXT    NOT NULL,
    child_column    TEXT    NOT NULL,
    parent_id       TEXT    NOT NULL DEFAULT '',
    parent_relation TEXT    NOT NULL,
    parent_column   TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('copy', 'transform', 'filter', 'join')),
    via             TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX catalog_column_lineage_child ON catalog_column_lineage (scope_id, child_id, child_column);
CREATE INDEX catalog_column_lineage_parent ON catalog_column_lineage (scope_id, parent_id, parent_column);

-- Why a model's lineage is incomplete: column_name '' is the whole query
-- (a syntax error, a budget cut, a * over unknown columns).
CREATE TABLE catalog_column_lineage_gaps (
    scope_id    INTEGER NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    unique_id   TEXT    NOT NULL,
    column_name TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL
) STRICT;

CREATE INDEX catalog_column_lineage_gaps_node ON catalog_column_lineage_gaps (scope_id, unique_id);

-- +goose Down
DROP TABLE catalog_column_lineage_gaps;
DROP TABLE catalog_column_lineage;
