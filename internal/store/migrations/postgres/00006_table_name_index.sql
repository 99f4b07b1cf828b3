-- A search first looks up the tables named exactly as the query, whatever
-- the case (catalog_search.go's exact pass): an index on the lower-cased
-- name keeps that a lookup over any number of tables. (00005 is left to
-- the column lineage tables being written on another branch.)

-- +goose Up
CREATE INDEX catalog_tables_lower_name ON catalog_tables (lower(name));

-- +goose Down
DROP INDEX catalog_tables_lower_name;
