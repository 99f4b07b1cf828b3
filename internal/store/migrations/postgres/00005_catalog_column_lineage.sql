-- Column-level lineage (issue 11), computed by a sync from the models'
-- compiled SQL (package sqllineage). Rows are per scope and replaced with
-- the scope's snapshot. Nodes are named by unique id, like catalog_edges.
--
-- A model's edges are one row, a JSON array, rather than a row each: a
-- project of 10,000 models has about 130,000 edges, and writing them as
-- rows cost a first sync 1.1-1.4 s of CPU on SQLite; as one document per
-- model about a tenth of that. Reads go by model: upstream reads the
-- model's document, downstream finds the models through
-- catalog_column_lineage_parents first.

-- +goose Up
-- edges: [{"child_column", "parent_id", "parent_relation", "parent_column",
-- "kind", "via"}] (store.ColumnEdge without scope and child). kind is copy
-- or transform for an output column; filter and join edges decide which
-- rows the model keeps and have child_column "". parent_id is "" for a
-- relation that is no node of the scope, named by parent_relation.
CREATE TABLE catalog_column_lineage (
    scope_id bigint NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    child_id text   NOT NULL,
    edges    bytea  NOT NULL,
    PRIMARY KEY (scope_id, child_id)
);

-- Which models read a node's columns, for walking downstream.
CREATE TABLE catalog_column_lineage_parents (
    scope_id  bigint NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    parent_id text   NOT NULL,
    child_id  text   NOT NULL,
    PRIMARY KEY (scope_id, parent_id, child_id)
);

-- Why a model's lineage is incomplete, one JSON array per model like its
-- edges (a project of 10,000 models had 60,000 gaps): gaps is
-- [{"c": column, "r": reason}], column "" being the whole query (a syntax
-- error, a budget cut, a * over unknown columns).
CREATE TABLE catalog_column_lineage_gaps (
    scope_id  bigint NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    unique_id text NOT NULL,
    gaps      bytea NOT NULL,
    PRIMARY KEY (scope_id, unique_id)
);

-- lz4 where the server has it, as for the models' SQL (migration 4).
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE catalog_column_lineage ALTER COLUMN edges SET COMPRESSION lz4;
    ALTER TABLE catalog_column_lineage_gaps ALTER COLUMN gaps SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: column lineage keeps pglz compression';
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE catalog_column_lineage_gaps;
DROP TABLE catalog_column_lineage_parents;
DROP TABLE catalog_column_lineage;
