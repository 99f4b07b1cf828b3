-- A word that says why a run failed (store.RunErrorCode), so that clients
-- branch on it instead of parsing the error text. Runs that failed before
-- this column existed keep '' (no code): they exit 1 like any other failure.

-- +goose Up
ALTER TABLE runs ADD COLUMN error_code TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE runs DROP COLUMN error_code;
