// Package store is the database of `dbtlink serve`, in a SQLite file or in
// PostgreSQL.
//
// It keeps:
//
//   - dbt Cloud connections, with their tokens sealed by
//     internal/connection (the store never sees a token in plain text);
//   - the server's API tokens, as hashes;
//   - the runs triggered through dbtlink, from the request to the end, and
//     the artifacts stored when they end;
//   - dbt Cloud webhook subscriptions and the events they delivered, once
//     per event id;
//   - the poller's cursor, the latest finished_at seen per connection;
//   - the warehouse half of the catalog: warehouse connections (their
//     passwords sealed like tokens), and the tables, views and columns each
//     crawl found. [Store.ApplyCrawl] writes a crawl incrementally in one
//     transaction: what it saw is added or updated, a table or column no
//     longer seen gets removed_at and stays, with last_seen_at; a crawl
//     never writes the users' descriptions, and records its counts in
//     catalog_crawls. Tables are read by id, by a name as a user types it
//     ([Store.FindCatalogTables]) or by filters with keyset paging, and
//     found by full-text search over one document per table, composed
//     from the crawl, the user's descriptions and the dbt nodes matched to
//     it (FTS5 on SQLite, a weighted tsvector on PostgreSQL);
//   - the dbt half of the catalog, per scope (a dbt Cloud environment or an
//     uploaded project): nodes with their columns and tags, tests with
//     their latest result, graph edges and jobs, which [Store.WriteSnapshot]
//     replaces in one transaction, and the history it only appends to
//     (test results, runs, which run built which node), with a row per
//     sync attempt.
//
// [Open] takes a postgres:// URL or a SQLite file path and migrates the
// schema (goose, with SQL embedded per dialect under migrations/). It
// refuses a database a newer dbtlink has migrated instead of running
// against tables it does not know.
//
// # Hand-written SQL over database/sql
//
// The SQL sits in the methods, written once with $1 placeholders, which
// SQLite receives as ?1. The two dialects share every statement (upserts
// use ON CONFLICT, inserts RETURNING, which both accept); only the schema
// is written per dialect. database/sql rather than a driver's own API
// gives one code path for both databases, and lets the job queue (River)
// share the *sql.DB and join the store's transactions: [Store.InTx] hands
// out a [Tx] whose [Tx.SQL] is the *sql.Tx, so a run and the job that
// follows it are committed together or not at all. Every data method
// exists on both [Store] and [Tx]; they are written once, on a struct that
// both embed.
//
// Errors name the operation ("store: get run 12: not found") and wrap
// [ErrNotFound] for a missing row and [ErrExists] for a unique key already
// taken, the same on both databases. Getters never return a zero value
// with a nil error.
//
// Times are stored in UTC to the microsecond, the precision of both
// databases, as unix microseconds in SQLite and timestamptz in PostgreSQL;
// the zero time is NULL. JSON fields and sealed secrets are stored as
// bytes and read back byte for byte.
//
// # SQLite: one writer
//
// SQLite lets one connection write at a time; others fail with
// SQLITE_BUSY once busy_timeout runs out. The store opens SQLite with a
// single connection, in WAL mode, with transactions that take the write
// lock when they begin, so concurrent callers queue in database/sql
// instead of failing, and River, which shares the handle, requires it. The
// cost is that a long transaction holds up everyone: keep transactions
// short, and inside [Store.InTx] use only the Tx, never the Store, which
// would wait for the connection the Tx holds.
//
// # Artifacts in chunks
//
// Artifacts reach hundreds of MB. [Store.PutArtifact] stores a body in
// 1 MiB rows as it reads it, and [Store.OpenArtifact] returns a reader
// that fetches one row per short query, so neither holds a whole body in
// memory, and a slow reader holds no connection (on SQLite, the only one)
// between reads. The reader checks the size and SHA-256 at the end.
// PutArtifact reads its input inside one transaction, so that a failed
// download leaves the previous body whole; on SQLite, give it a local
// file rather than a network stream.
//
// # Tests
//
// Package storetest gives every test a fresh SQLite file and, when
// DBTLINK_TEST_POSTGRES names a PostgreSQL database, a fresh schema in it;
// the tests of this package run every behaviour on each.
package store
