-- The catalog (issue 8), SQLite. Two halves that meet at catalog_tables:
-- what the warehouse holds (crawled: warehouses, catalog_tables,
-- catalog_columns, catalog_crawls) and what dbt says about it (synced per
-- scope: catalog_scopes and the catalog_node*, catalog_test*, catalog_edges,
-- catalog_jobs and catalog_runs tables). A crawl never deletes a table row
-- (a dropped table gets removed_at) and never writes user_description; a
-- sync replaces a scope's dbt rows in one transaction and only appends to
-- history (test results, runs, node runs).

-- +goose Up
-- Warehouse connections of dbtlink serve. config is the JSON of
-- warehouse.Config (no secret); the password is sealed by
-- internal/connection, bound to the name, like a dbt Cloud token.
CREATE TABLE warehouses (
    name          TEXT    NOT NULL PRIMARY KEY,
    type          TEXT    NOT NULL,
    config        BLOB    NOT NULL,
    sealed_secret BLOB,
    key_id        TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Names are kept as the warehouse stores them; matching folds case in Go
-- by the adapter's rules. warehouse is not a foreign key: a crawled
-- catalog outlives the removal of its CLI or server connection record.
CREATE TABLE catalog_tables (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    warehouse        TEXT    NOT NULL,
    database_name    TEXT    NOT NULL,
    schema_name      TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    comment          TEXT    NOT NULL DEFAULT '',
    owner            TEXT    NOT NULL DEFAULT '',
    row_estimate     INTEGER,
    size_bytes       INTEGER,
    user_description TEXT    NOT NULL DEFAULT '',
    first_seen_at    INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    removed_at       INTEGER,
    updated_at       INTEGER NOT NULL,
    UNIQUE (warehouse, database_name, schema_name, name)
) STRICT;

CREATE INDEX catalog_tables_schema ON catalog_tables (warehouse, database_name, schema_name);

-- table_id is not a foreign key: checking it took more than half of the
-- time a first crawl spends writing columns, and only ApplyCrawl writes
-- columns, under the ids of the tables it wrote; a table row is never
-- deleted (a dropped table is marked removed).
CREATE TABLE catalog_columns (
    table_id         INTEGER NOT NULL,
    name             TEXT    NOT NULL,
    position         INTEGER NOT NULL,
    data_type        TEXT    NOT NULL DEFAULT '',
    nullable         INTEGER NOT NULL DEFAULT 1,
    default_value    TEXT    NOT NULL DEFAULT '',
    comment          TEXT    NOT NULL DEFAULT '',
    user_description TEXT    NOT NULL DEFAULT '',
    last_seen_at     INTEGER NOT NULL,
    removed_at       INTEGER,
    PRIMARY KEY (table_id, name)
) STRICT;

CREATE TABLE catalog_crawls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    warehouse   TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT    NOT NULL CHECK (status IN ('running', 'ok', 'error')),
    error       TEXT    NOT NULL DEFAULT '',
    tables_seen INTEGER NOT NULL DEFAULT 0,
    added       INTEGER NOT NULL DEFAULT 0,
    changed     INTEGER NOT NULL DEFAULT 0,
    removed     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX catalog_crawls_warehouse ON catalog_crawls (warehouse, id);

-- A scope is one source of dbt metadata: a dbt Cloud environment of a
-- connection (key 'cloud:CONNECTION:ENVIRONMENT_ID') or an uploaded dbt Core
-- project (key 'upload:NAME'). fingerprint names the inputs of its last
-- sync (run ids, or artifact hashes), so an unchanged scope is skipped.
CREATE TABLE catalog_scopes (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    key                   TEXT    NOT NULL UNIQUE,
    kind                  TEXT    NOT NULL CHECK (kind IN ('dbt_cloud', 'upload')),
    connection            TEXT    NOT NULL DEFAULT '',
    account_id            INTEGER NOT NULL DEFAULT 0,
    project_id            INTEGER NOT NULL DEFAULT 0,
    project_name          TEXT    NOT NULL DEFAULT '',
    environment_id        INTEGER NOT NULL DEFAULT 0,
    environment_name      TEXT    NOT NULL DEFAULT '',
    adapter_type          TEXT    NOT NULL DEFAULT '',
    dbt_version           TEXT    NOT NULL DEFAULT '',
    warehouse             TEXT    NOT NULL DEFAULT '',
    fingerprint           TEXT    NOT NULL DEFAULT '',
    manifest_generated_at INTEGER,
    synced_at             INTEGER
) STRICT;

-- Models, seeds, snapshots, sources, exposures, metrics, semantic models,
-- saved queries and groups of a scope. table_id is the matched warehouse
-- table (NULL: ephemeral, not a relation, or not found). extra holds the
-- fields of one resource type only (source freshness criteria, exposure
-- url and maturity, metric label), as JSON.
CREATE TABLE catalog_nodes (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_id             INTEGER NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    unique_id            TEXT    NOT NULL,
    resource_type        TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    package_name         TEXT    NOT NULL DEFAULT '',
    database_name        TEXT    NOT NULL DEFAULT '',
    schema_name          TEXT    NOT NULL DEFAULT '',
    identifier           TEXT    NOT NULL DEFAULT '',
    relation_name        TEXT    NOT NULL DEFAULT '',
    table_id             INTEGER REFERENCES catalog_tables (id) ON DELETE SET NULL,
    materialized         TEXT    NOT NULL DEFAULT '',
    description          TEXT    NOT NULL DEFAULT '',
    owner                TEXT    NOT NULL DEFAULT '',
    meta                 BLOB,
    access               TEXT    NOT NULL DEFAULT '',
    group_name           TEXT    NOT NULL DEFAULT '',
    contract_enforced    INTEGER NOT NULL DEFAULT 0,
    version              TEXT    NOT NULL DEFAULT '',
    file_path            TEXT    NOT NULL DEFAULT '',
    raw_sql              TEXT    NOT NULL DEFAULT '',
    compiled_sql         TEXT    NOT NULL DEFAULT '',
    explore_url          TEXT    NOT NULL DEFAULT '',
    last_run_id          INTEGER,
    last_run_status      TEXT    NOT NULL DEFAULT '',
    last_run_at          INTEGER,
    freshness_status     TEXT    NOT NULL DEFAULT '',
    freshness_max_loaded INTEGER,
    freshness_checked_at INTEGER,
    extra                BLOB,
    UNIQUE (scope_id, unique_id)
) STRICT;

CREATE INDEX catalog_nodes_table ON catalog_nodes (table_id);

-- Tags of nodes (and of their columns, with column_name set), kept apart
-- so that listing by tag is an index lookup.
-- node_id of catalog_node_tags and catalog_node_columns names a
-- catalog_nodes row without a foreign key: checking it cost a sync of
-- 200,000 node columns 1.9 s on PostgreSQL. WriteSnapshot and DeleteScope
-- delete a node's tags and columns with it.
CREATE TABLE catalog_node_tags (
    node_id     INTEGER NOT NULL,
    column_name TEXT    NOT NULL DEFAULT '',
    tag         TEXT    NOT NULL,
    PRIMARY KEY (node_id, column_name, tag)
) STRICT, WITHOUT ROWID;

CREATE INDEX catalog_node_tags_tag ON catalog_node_tags (tag);

CREATE TABLE catalog_node_columns (
    node_id     INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    data_type   TEXT    NOT NULL DEFAULT '',
    meta        BLOB,
    constraints BLOB,
    PRIMARY KEY (node_id, name)
) STRICT, WITHOUT ROWID;

-- Data tests and unit tests with their latest result; attached_unique_id
-- is the node they test and column_name its column, if any.
CREATE TABLE catalog_tests (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_id           INTEGER NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    unique_id          TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    resource_type      TEXT    NOT NULL DEFAULT 'test',
    test_name          TEXT    NOT NULL DEFAULT '',
    namespace          TEXT    NOT NULL DEFAULT '',
    attached_unique_id TEXT    NOT NULL DEFAULT '',
    column_name        TEXT    NOT NULL DEFAULT '',
    severity           TEXT    NOT NULL DEFAULT '',
    kwargs             BLOB,
    compiled_sql       TEXT    NOT NULL DEFAULT '',
    status             TEXT    NOT NULL DEFAULT '',
    failures           INTEGER,
    message            TEXT    NOT NULL DEFAULT '',
    executed_at        INTEGER,
    run_id             INTEGER,
    job_id             INTEGER,
    UNIQUE (scope_id, unique_id)
) STRICT;

CREATE INDEX catalog_tests_attached ON catalog_tests (scope_id, attached_unique_id);
CREATE INDEX catalog_tests_status ON catalog_tests (status);

-- History of test results, appended by each sync that sees a new run.
CREATE TABLE catalog_test_results (
    scope_id       INTEGER NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    unique_id      TEXT    NOT NULL,
    run_id         INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    failures       INTEGER,
    message        TEXT    NOT NULL DEFAULT '',
    executed_at    INTEGER,
    execution_time REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (scope_id, unique_id, run_id)
) STRICT, WITHOUT ROWID;

-- dbt's graph edges between unique ids; kind 'through_ephemeral' marks an
-- edge that contracts one or more ephemeral models (also kept as nodes).
CREATE TABLE catalog_edges (
    scope_id  INTEGER NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    parent_id TEXT    NOT NULL,
    child_id  TEXT    NOT NULL,
    kind      TEXT    NOT NULL DEFAULT 'direct',
    PRIMARY KEY (scope_id, parent_id, child_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX catalog_edges_child ON catalog_edges (scope_id, child_id);

CREATE TABLE catalog_jobs (
    scope_id        INTEGER NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    job_id          INTEGER NOT NULL,
    name            TEXT    NOT NULL,
    schedule        TEXT    NOT NULL DEFAULT '',
    generate_docs   INTEGER NOT NULL DEFAULT 0,
    run_freshness   INTEGER NOT NULL DEFAULT 0,
    steps           BLOB,
    url             TEXT    NOT NULL DEFAULT '',
    last_run_id     INTEGER,
    last_run_status TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (scope_id, job_id)
) STRICT, WITHOUT ROWID;

-- Runs whose artifacts a sync read, kept as history.
CREATE TABLE catalog_runs (
    scope_id    INTEGER NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    run_id      INTEGER NOT NULL,
    job_id      INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    duration_s  REAL    NOT NULL DEFAULT 0,
    url         TEXT    NOT NULL DEFAULT '',
    git_sha     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (scope_id, run_id)
) STRICT, WITHOUT ROWID;

-- Which run built (or tried to build) which node, and how it ended.
CREATE TABLE catalog_node_runs (
    scope_id       INTEGER NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    unique_id      TEXT    NOT NULL,
    run_id         INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    execution_time REAL    NOT NULL DEFAULT 0,
    completed_at   INTEGER,
    PRIMARY KEY (scope_id, unique_id, run_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX catalog_node_runs_run ON catalog_node_runs (scope_id, run_id);

-- One row per sync attempt, with the match report as JSON.
CREATE TABLE catalog_syncs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_key   TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT    NOT NULL CHECK (status IN ('running', 'ok', 'unchanged', 'error')),
    error       TEXT    NOT NULL DEFAULT '',
    report      BLOB
) STRICT;

CREATE INDEX catalog_syncs_scope ON catalog_syncs (scope_key, id);

-- Full-text search over tables (and dbt nodes with no table: ephemeral
-- models, exposures, metrics). One document per object; the columns are
-- weighted in ranking name > description > columns > tags and owners.
-- kind is 'table' (ref = catalog_tables.id) or 'node' (ref = catalog_nodes.id),
-- and the rowid is ref * 2 for a table and ref * 2 + 1 for a node: FTS5
-- finds a row by its rowid alone without scanning. The prefix index of 3
-- characters serves the search as the user types.
CREATE VIRTUAL TABLE catalog_search USING fts5 (
    name, description, columns, tags, owners,
    kind UNINDEXED, ref UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3'
);

-- The names alone, under the same rowids: the first pass of a search, as
-- a match in the name is what a user typing looks for, and a prefix of a
-- common word matches a few names where it matches most whole documents.
CREATE VIRTUAL TABLE catalog_search_names USING fts5 (
    name,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3'
);

-- +goose Down
DROP TABLE catalog_search_names;
DROP TABLE catalog_search;
DROP TABLE catalog_syncs;
DROP TABLE catalog_node_runs;
DROP TABLE catalog_runs;
DROP TABLE catalog_jobs;
DROP TABLE catalog_edges;
DROP TABLE catalog_test_results;
DROP TABLE catalog_tests;
DROP TABLE catalog_node_columns;
DROP TABLE catalog_node_tags;
DROP TABLE catalog_nodes;
DROP TABLE catalog_scopes;
DROP TABLE catalog_crawls;
DROP TABLE catalog_columns;
DROP TABLE catalog_tables;
DROP TABLE warehouses;
