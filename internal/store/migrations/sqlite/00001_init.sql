-- SQLite schema of dbtlink serve. Times are INTEGER unix microseconds in
-- UTC (NULL: unset), booleans INTEGER 0/1, JSON and sealed secrets BLOB.
-- STRICT makes SQLite refuse a value of the wrong type instead of storing
-- it, so a time written as text by mistake fails at once.

-- +goose Up
CREATE TABLE connections (
    name         TEXT    NOT NULL PRIMARY KEY,
    host         TEXT    NOT NULL,
    account_id   INTEGER NOT NULL,
    sealed_token BLOB    NOT NULL,
    key_id       TEXT    NOT NULL,
    is_default   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- At most one default connection, whatever the code does.
CREATE UNIQUE INDEX connections_one_default ON connections (is_default) WHERE is_default;

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE,
    scope        TEXT    NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;

-- A name can be reused once the token holding it is revoked.
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- connection is not a foreign key: runs stay as history when their
-- connection is deleted. AUTOINCREMENT keeps ids from being reused, since
-- they page listings and appear in URLs.
CREATE TABLE runs (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    connection           TEXT    NOT NULL,
    account_id           INTEGER NOT NULL,
    job_id               INTEGER NOT NULL,
    marker               TEXT    NOT NULL UNIQUE,
    cause                TEXT    NOT NULL,
    request              BLOB,
    deadline_at          INTEGER,
    cancel_at_deadline   INTEGER NOT NULL DEFAULT 0,
    max_retries          INTEGER NOT NULL DEFAULT 0,
    retries              INTEGER NOT NULL DEFAULT 0,
    artifacts            BLOB,
    state                TEXT    NOT NULL,
    dbt_run_id           INTEGER,
    dbt_status           INTEGER NOT NULL DEFAULT 0,
    status_message       TEXT    NOT NULL DEFAULT '',
    href                 TEXT    NOT NULL DEFAULT '',
    trigger_attempted_at INTEGER,
    dbt_created_at       INTEGER,
    started_at           INTEGER,
    finished_at          INTEGER,
    settled_at           INTEGER,
    steps                BLOB,
    failing_nodes        BLOB,
    attempts             BLOB,
    artifacts_state      TEXT    NOT NULL DEFAULT '',
    error                TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;

CREATE INDEX runs_dbt_run ON runs (account_id, dbt_run_id);
CREATE INDEX runs_state ON runs (state);
CREATE INDEX runs_connection ON runs (connection, id);
CREATE INDEX runs_job ON runs (job_id, id);

CREATE TABLE artifacts (
    run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path      TEXT    NOT NULL,
    size      INTEGER NOT NULL,
    sha256    TEXT    NOT NULL,
    stored_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, path)
) STRICT;

-- Bodies are split in chunks so that neither side ever holds a whole
-- artifact (they reach hundreds of MB) in memory.
CREATE TABLE artifact_chunks (
    run_id INTEGER NOT NULL,
    path   TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    data   BLOB    NOT NULL,
    PRIMARY KEY (run_id, path, seq),
    FOREIGN KEY (run_id, path) REFERENCES artifacts (run_id, path) ON DELETE CASCADE
) STRICT;

CREATE TABLE webhook_subscriptions (
    connection      TEXT    NOT NULL PRIMARY KEY,
    subscription_id TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    sealed_secret   BLOB    NOT NULL,
    key_id          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;

-- id orders events received in the same microsecond.
CREATE TABLE webhook_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT    NOT NULL UNIQUE,
    connection  TEXT    NOT NULL,
    account_id  INTEGER NOT NULL,
    dbt_run_id  INTEGER NOT NULL,
    event_type  TEXT    NOT NULL,
    dbt_status  INTEGER NOT NULL,
    payload     BLOB,
    received_at INTEGER NOT NULL,
    applied_at  INTEGER
) STRICT;

CREATE INDEX webhook_events_pending ON webhook_events (account_id, dbt_run_id) WHERE applied_at IS NULL;
CREATE INDEX webhook_events_connection ON webhook_events (connection, received_at);

CREATE TABLE poll_cursors (
    connection  TEXT    NOT NULL PRIMARY KEY,
    finished_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE poll_cursors;
DROP TABLE webhook_events;
DROP TABLE webhook_subscriptions;
DROP TABLE artifact_chunks;
DROP TABLE artifacts;
DROP TABLE runs;
DROP TABLE api_tokens;
DROP TABLE connections;
