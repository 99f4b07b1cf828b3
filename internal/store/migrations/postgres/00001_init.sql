-- PostgreSQL schema of dbtlink serve; the same tables as the SQLite one.
-- JSON and sealed secrets are bytea, kept byte for byte as given.

-- +goose Up
CREATE TABLE connections (
    name         text        NOT NULL PRIMARY KEY,
    host         text        NOT NULL,
    account_id   bigint      NOT NULL,
    sealed_token bytea       NOT NULL,
    key_id       text        NOT NULL,
    is_default   boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

-- At most one default connection, whatever the code does.
CREATE UNIQUE INDEX connections_one_default ON connections (is_default) WHERE is_default;

CREATE TABLE api_tokens (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL,
    prefix       text        NOT NULL,
    hash         bytea       NOT NULL UNIQUE,
    scope        text        NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- A name can be reused once the token holding it is revoked.
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- connection is not a foreign key: runs stay as history when their
-- connection is deleted.
CREATE TABLE runs (
    id                   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection           text        NOT NULL,
    account_id           bigint      NOT NULL,
    job_id               bigint      NOT NULL,
    marker               text        NOT NULL UNIQUE,
    cause                text        NOT NULL,
    request              bytea,
    deadline_at          timestamptz,
    cancel_at_deadline   boolean     NOT NULL DEFAULT false,
    max_retries          bigint      NOT NULL DEFAULT 0,
    retries              bigint      NOT NULL DEFAULT 0,
    artifacts            bytea,
    state                text        NOT NULL,
    dbt_run_id           bigint,
    dbt_status           bigint      NOT NULL DEFAULT 0,
    status_message       text        NOT NULL DEFAULT '',
    href                 text        NOT NULL DEFAULT '',
    trigger_attempted_at timestamptz,
    dbt_created_at       timestamptz,
    started_at           timestamptz,
    finished_at          timestamptz,
    settled_at           timestamptz,
    steps                bytea,
    failing_nodes        bytea,
    attempts             bytea,
    artifacts_state      text        NOT NULL DEFAULT '',
    error                text        NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);

CREATE INDEX runs_dbt_run ON runs (account_id, dbt_run_id);
CREATE INDEX runs_state ON runs (state);
CREATE INDEX runs_connection ON runs (connection, id);
CREATE INDEX runs_job ON runs (job_id, id);

CREATE TABLE artifacts (
    run_id    bigint      NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path      text        NOT NULL,
    size      bigint      NOT NULL,
    sha256    text        NOT NULL,
    stored_at timestamptz NOT NULL,
    PRIMARY KEY (run_id, path)
);

-- Bodies are split in chunks so that neither side ever holds a whole
-- artifact (they reach hundreds of MB) in memory.
CREATE TABLE artifact_chunks (
    run_id bigint NOT NULL,
    path   text   NOT NULL,
    seq    bigint NOT NULL,
    data   bytea  NOT NULL,
    PRIMARY KEY (run_id, path, seq),
    FOREIGN KEY (run_id, path) REFERENCES artifacts (run_id, path) ON DELETE CASCADE
);

CREATE TABLE webhook_subscriptions (
    connection      text        NOT NULL PRIMARY KEY,
    subscription_id text        NOT NULL,
    url             text        NOT NULL,
    sealed_secret   bytea       NOT NULL,
    key_id          text        NOT NULL,
    created_at      timestamptz NOT NULL
);

-- id orders events received in the same microsecond.
CREATE TABLE webhook_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    text        NOT NULL UNIQUE,
    connection  text        NOT NULL,
    account_id  bigint      NOT NULL,
    dbt_run_id  bigint      NOT NULL,
    event_type  text        NOT NULL,
    dbt_status  bigint      NOT NULL,
    payload     bytea,
    received_at timestamptz NOT NULL,
    applied_at  timestamptz
);

CREATE INDEX webhook_events_pending ON webhook_events (account_id, dbt_run_id) WHERE applied_at IS NULL;
CREATE INDEX webhook_events_connection ON webhook_events (connection, received_at);

CREATE TABLE poll_cursors (
    connection  text        NOT NULL PRIMARY KEY,
    finished_at timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE poll_cursors;
DROP TABLE webhook_events;
DROP TABLE webhook_subscriptions;
DROP TABLE artifact_chunks;
DROP TABLE artifacts;
DROP TABLE runs;
DROP TABLE api_tokens;
DROP TABLE connections;
