-- The catalog (issue 8), PostgreSQL; the same tables as the SQLite schema. Two halves that meet at catalog_tables:
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
    name          text    NOT NULL PRIMARY KEY,
    type          text    NOT NULL,
    config        bytea    NOT NULL,
    sealed_secret bytea,
    key_id        text    NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- Names are kept as the warehouse stores them; matching folds case in Go
-- by the adapter's rules. warehouse is not a foreign key: a crawled
-- catalog outlives the removal of its CLI or server connection record.
CREATE TABLE catalog_tables (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse        text    NOT NULL,
    database_name    text    NOT NULL,
    schema_name      text    NOT NULL,
    name             text    NOT NULL,
    kind             text    NOT NULL,
    comment          text    NOT NULL DEFAULT '',
    owner            text    NOT NULL DEFAULT '',
    row_estimate     bigint,
    size_bytes       bigint,
    user_description text    NOT NULL DEFAULT '',
    first_seen_at    timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL,
    removed_at       timestamptz,
    updated_at       timestamptz NOT NULL,
    UNIQUE (warehouse, database_name, schema_name, name)
);

CREATE INDEX catalog_tables_schema ON catalog_tables (warehouse, database_name, schema_name);

-- table_id is not a foreign key: checking it took more than half of the
-- time a first crawl spends writing columns, and only ApplyCrawl writes
-- columns, under the ids of the tables it wrote; a table row is never
-- deleted (a dropped table is marked removed).
CREATE TABLE catalog_columns (
    table_id         bigint NOT NULL,
    name             text    NOT NULL,
    position         bigint NOT NULL,
    data_type        text    NOT NULL DEFAULT '',
    nullable         boolean NOT NULL DEFAULT true,
    default_value    text    NOT NULL DEFAULT '',
    comment          text    NOT NULL DEFAULT '',
    user_description text    NOT NULL DEFAULT '',
    last_seen_at     timestamptz NOT NULL,
    removed_at       timestamptz,
    PRIMARY KEY (table_id, name)
);

CREATE TABLE catalog_crawls (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse   text    NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    status      text    NOT NULL CHECK (status IN ('running', 'ok', 'error')),
    error       text    NOT NULL DEFAULT '',
    tables_seen bigint NOT NULL DEFAULT 0,
    added       bigint NOT NULL DEFAULT 0,
    changed     bigint NOT NULL DEFAULT 0,
    removed     bigint NOT NULL DEFAULT 0
);

CREATE INDEX catalog_crawls_warehouse ON catalog_crawls (warehouse, id);

-- A scope is one source of dbt metadata: a dbt Cloud environment of a
-- connection (key 'cloud:CONNECTION:ENVIRONMENT_ID') or an uploaded dbt Core
-- project (key 'upload:NAME'). fingerprint names the inputs of its last
-- sync (run ids, or artifact hashes), so an unchanged scope is skipped.
CREATE TABLE catalog_scopes (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key                   text    NOT NULL UNIQUE,
    kind                  text    NOT NULL CHECK (kind IN ('dbt_cloud', 'upload')),
    connection            text    NOT NULL DEFAULT '',
    account_id            bigint NOT NULL DEFAULT 0,
    project_id            bigint NOT NULL DEFAULT 0,
    project_name          text    NOT NULL DEFAULT '',
    environment_id        bigint NOT NULL DEFAULT 0,
    environment_name      text    NOT NULL DEFAULT '',
    adapter_type          text    NOT NULL DEFAULT '',
    dbt_version           text    NOT NULL DEFAULT '',
    warehouse             text    NOT NULL DEFAULT '',
    fingerprint           text    NOT NULL DEFAULT '',
    manifest_generated_at timestamptz,
    synced_at             timestamptz
);

-- Models, seeds, snapshots, sources, exposures, metrics, semantic models,
-- saved queries and groups of a scope. table_id is the matched warehouse
-- table (NULL: ephemeral, not a relation, or not found). extra holds the
-- fields of one resource type only (source freshness criteria, exposure
-- url and maturity, metric label), as JSON.
CREATE TABLE catalog_nodes (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope_id             bigint NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    unique_id            text    NOT NULL,
    resource_type        text    NOT NULL,
    name                 text    NOT NULL,
    package_name         text    NOT NULL DEFAULT '',
    database_name        text    NOT NULL DEFAULT '',
    schema_name          text    NOT NULL DEFAULT '',
    identifier           text    NOT NULL DEFAULT '',
    relation_name        text    NOT NULL DEFAULT '',
    table_id             bigint REFERENCES catalog_tables (id) ON DELETE SET NULL,
    materialized         text    NOT NULL DEFAULT '',
    description          text    NOT NULL DEFAULT '',
    owner                text    NOT NULL DEFAULT '',
    meta                 bytea,
    access               text    NOT NULL DEFAULT '',
    group_name           text    NOT NULL DEFAULT '',
    contract_enforced    boolean NOT NULL DEFAULT false,
    version              text    NOT NULL DEFAULT '',
    file_path            text    NOT NULL DEFAULT '',
    raw_sql              text    NOT NULL DEFAULT '',
    compiled_sql         text    NOT NULL DEFAULT '',
    explore_url          text    NOT NULL DEFAULT '',
    last_run_id          bigint,
    last_run_status      text    NOT NULL DEFAULT '',
    last_run_at          timestamptz,
    freshness_status     text    NOT NULL DEFAULT '',
    freshness_max_loaded timestamptz,
    freshness_checked_at timestamptz,
    extra                bytea,
    UNIQUE (scope_id, unique_id)
);

CREATE INDEX catalog_nodes_table ON catalog_nodes (table_id);

-- Tags of nodes (and of their columns, with column_name set), kept apart
-- so that listing by tag is an index lookup.
-- node_id of catalog_node_tags and catalog_node_columns names a
-- catalog_nodes row without a foreign key: checking it cost a sync of
-- 200,000 node columns 1.9 s on PostgreSQL. WriteSnapshot and DeleteScope
-- delete a node's tags and columns with it.
CREATE TABLE catalog_node_tags (
    node_id     bigint NOT NULL,
    column_name text    NOT NULL DEFAULT '',
    tag         text    NOT NULL,
    PRIMARY KEY (node_id, column_name, tag)
);

CREATE INDEX catalog_node_tags_tag ON catalog_node_tags (tag);

CREATE TABLE catalog_node_columns (
    node_id     bigint NOT NULL,
    name        text    NOT NULL,
    position    bigint NOT NULL,
    description text    NOT NULL DEFAULT '',
    data_type   text    NOT NULL DEFAULT '',
    meta        bytea,
    constraints bytea,
    PRIMARY KEY (node_id, name)
);

-- Data tests and unit tests with their latest result; attached_unique_id
-- is the node they test and column_name its column, if any.
CREATE TABLE catalog_tests (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope_id           bigint NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    unique_id          text    NOT NULL,
    name               text    NOT NULL,
    resource_type      text    NOT NULL DEFAULT 'test',
    test_name          text    NOT NULL DEFAULT '',
    namespace          text    NOT NULL DEFAULT '',
    attached_unique_id text    NOT NULL DEFAULT '',
    column_name        text    NOT NULL DEFAULT '',
    severity           text    NOT NULL DEFAULT '',
    kwargs             bytea,
    compiled_sql       text    NOT NULL DEFAULT '',
    status             text    NOT NULL DEFAULT '',
    failures           bigint,
    message            text    NOT NULL DEFAULT '',
    executed_at        timestamptz,
    run_id             bigint,
    job_id             bigint,
    UNIQUE (scope_id, unique_id)
);

CREATE INDEX catalog_tests_attached ON catalog_tests (scope_id, attached_unique_id);
CREATE INDEX catalog_tests_status ON catalog_tests (status);

-- History of test results, appended by each sync that sees a new run.
CREATE TABLE catalog_test_results (
    scope_id       bigint NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    unique_id      text    NOT NULL,
    run_id         bigint NOT NULL,
    status         text    NOT NULL,
    failures       bigint,
    message        text    NOT NULL DEFAULT '',
    executed_at    timestamptz,
    execution_time double precision    NOT NULL DEFAULT 0,
    PRIMARY KEY (scope_id, unique_id, run_id)
);

-- dbt's graph edges between unique ids; kind 'through_ephemeral' marks an
-- edge that contracts one or more ephemeral models (also kept as nodes).
CREATE TABLE catalog_edges (
    scope_id  bigint NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    parent_id text    NOT NULL,
    child_id  text    NOT NULL,
    kind      text    NOT NULL DEFAULT 'direct',
    PRIMARY KEY (scope_id, parent_id, child_id)
);

CREATE INDEX catalog_edges_child ON catalog_edges (scope_id, child_id);

CREATE TABLE catalog_jobs (
    scope_id        bigint NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    job_id          bigint NOT NULL,
    name            text    NOT NULL,
    schedule        text    NOT NULL DEFAULT '',
    generate_docs   boolean NOT NULL DEFAULT false,
    run_freshness   boolean NOT NULL DEFAULT false,
    steps           bytea,
    url             text    NOT NULL DEFAULT '',
    last_run_id     bigint,
    last_run_status text    NOT NULL DEFAULT '',
    PRIMARY KEY (scope_id, job_id)
);

-- Runs whose artifacts a sync read, kept as history.
CREATE TABLE catalog_runs (
    scope_id    bigint NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    run_id      bigint NOT NULL,
    job_id      bigint NOT NULL,
    status      text    NOT NULL,
    started_at  timestamptz,
    finished_at timestamptz,
    duration_s  double precision    NOT NULL DEFAULT 0,
    url         text    NOT NULL DEFAULT '',
    git_sha     text    NOT NULL DEFAULT '',
    PRIMARY KEY (scope_id, run_id)
);

-- Which run built (or tried to build) which node, and how it ended.
CREATE TABLE catalog_node_runs (
    scope_id       bigint NOT NULL REFERENCES catalog_scopes (id) ON DELETE CASCADE,
    unique_id      text    NOT NULL,
    run_id         bigint NOT NULL,
    status         text    NOT NULL,
    execution_time double precision    NOT NULL DEFAULT 0,
    completed_at   timestamptz,
    PRIMARY KEY (scope_id, unique_id, run_id)
);

CREATE INDEX catalog_node_runs_run ON catalog_node_runs (scope_id, run_id);

-- One row per sync attempt, with the match report as JSON.
CREATE TABLE catalog_syncs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope_key   text    NOT NULL,
    source      text    NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    status      text    NOT NULL CHECK (status IN ('running', 'ok', 'unchanged', 'error')),
    error       text    NOT NULL DEFAULT '',
    report      bytea
);

CREATE INDEX catalog_syncs_scope ON catalog_syncs (scope_key, id);

-- Full-text search over tables (and dbt nodes with no table: ephemeral
-- models, exposures, metrics). One document per object; the columns are
-- weighted in ranking name > description > columns > tags and owners.
-- kind is 'table' (ref = catalog_tables.id) or 'node' (ref = catalog_nodes.id).
CREATE TABLE catalog_search (
    kind        text   NOT NULL,
    ref         bigint NOT NULL,
    name        text   NOT NULL DEFAULT '',
    description text   NOT NULL DEFAULT '',
    columns     text   NOT NULL DEFAULT '',
    tags        text   NOT NULL DEFAULT '',
    owners      text   NOT NULL DEFAULT '',
    -- The 'simple' configuration: names and tags are not English words to
    -- stem, and underscores split fct_orders into fct and orders as
    -- SQLite's unicode61 tokenizer does.
    doc tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', name), 'A') ||
        setweight(to_tsvector('simple', description), 'B') ||
        setweight(to_tsvector('simple', columns), 'C') ||
        setweight(to_tsvector('simple', tags || ' ' || owners), 'D')
    ) STORED,
    -- The names alone: the first pass of a search, as a match in the name
    -- is what a user typing looks for, and a prefix of a common word
    -- matches a few names where it matches most whole documents.
    name_doc tsvector GENERATED ALWAYS AS (to_tsvector('simple', name)) STORED,
    PRIMARY KEY (kind, ref)
);

-- No pending list: a search would scan it whole until the next vacuum.
CREATE INDEX catalog_search_doc ON catalog_search USING gin (doc);
CREATE INDEX catalog_search_name ON catalog_search USING gin (name_doc);

-- +goose Down
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
