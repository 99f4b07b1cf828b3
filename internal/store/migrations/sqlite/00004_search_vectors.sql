-- PostgreSQL's search vectors became dbtlink's to compose (migration 4 of
-- its dialect); FTS5 tokenizes documents itself, so SQLite has nothing to
-- change. The migration keeps both dialects' versions in step.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
