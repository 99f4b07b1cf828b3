// Package catalog turns dbt's artifacts into the metadata dbtlink lays over
// crawled warehouse tables: it chooses which dbt Cloud runs to read (Plan),
// downloads and reads their artifacts (Fetch), or takes uploaded dbt Core
// files (InputsFromFiles), builds a store.Snapshot of one scope
// (BuildSnapshot), matches its nodes to warehouse tables (Match) and answers
// table-level lineage over one or more scopes (TableLineage). Everything here
// is pure logic over the dbtcloud client and package artifacts; writing to
// the store and the CLI live elsewhere.
//
// # Choosing runs (dbt Cloud)
//
// Other catalogs read one run and miss what users need (the anchors'
// issues are cited by number, see ../shared/CATALOG.md). The rules:
//
//   - Per job, the latest completed run, whether it succeeded or failed:
//     reading only successful runs hides failing tests (OpenMetadata #18300).
//     Cancelled runs are excluded: a cancel or a timeout stops dbt mid-step,
//     so their artifacts, when there are any, describe a partial invocation
//     that says nothing about the nodes it never reached.
//   - Every job of every selected environment, not one job per account
//     (#22769). Deployment environments only by default: a development
//     environment's runs build developers' own schemas. CI jobs (job_type
//     "ci") are skipped unless PlanOptions.IncludeCI is set, for the same
//     reason: they build pull-request schemas, not the environment's tables.
//     Allow and deny lists (ids or name globs) narrow projects, environments
//     and jobs further.
//   - run_results.json is read per step (?step=N) for each step that runs
//     dbt build, run, test, seed, snapshot or retry, so a job "dbt seed;
//     dbt run; dbt test" contributes all three. Per node the newest
//     execution across all those files wins (#24883), by the execute
//     timing's completed_at, else the run's finish time.
//   - The manifest comes from the newest chosen run, from its last step
//     that compiles models (build, run, compile, docs generate, retry): a
//     `dbt test` step rewrites the manifest without models' compiled code
//     (DataHub PR #18823).
//   - catalog.json comes from the newest completed run of a job that
//     generates docs (generate_docs or a `dbt docs generate` step), never
//     from "the latest run": a CI job without docs must not break the sync
//     (#9734). A 404 is a warning, and the next candidate is tried.
//     sources.json likewise comes from the newest freshness run
//     (run_generate_sources or a `dbt source freshness` step).
//   - Only GET calls are made, so a service token with dbt Cloud's Analyst
//     permission set is enough.
//   - EnvPlan.Fingerprint hashes the chosen run ids and steps, so a sync can
//     tell from the listing alone that nothing changed.
//
// # Reading through the Discovery API
//
// With CloudSource.Discovery set, FetchDiscovery reads the same chosen runs
// through dbt Cloud's Discovery API instead of their artifacts: the
// environment's applied and definition state become the manifest, catalog
// and sources inputs, and each chosen run's job-level results its run
// results, so BuildSnapshot gives the same catalog (see FetchDiscovery for
// the little the API cannot carry). The fingerprint is prefixed with the
// source, so switching sources syncs again.
//
// # Results that are not executions
//
// dbt writes result entries for nodes it only compiled (OpenMetadata
// #26785). Looking at real run_results (../shared/artifacts): `dbt docs
// generate` and `dbt compile` files list every node with status "success",
// message null and even an "execute" timing; executed tests always say pass,
// fail, warn, error or skipped; executed models carry an adapter message
// ("SELECT 5", "OK") and an execute timing. So an entry is skipped as
// compile-only when its file's command (args.which) is compile, generate,
// docs, list, parse or show; when it is a test whose status is "success";
// or when its status is "success", its message is empty and its timing has
// no "execute" entry. Errors and skips are kept: they are outcomes.
//
// # Lineage
//
// Edges come from depends_on between lineage members (models, seeds,
// snapshots, sources, exposures, metrics, semantic models, saved queries);
// tests are not members. Ephemeral models have no relation, so besides
// their own direct edges every non-ephemeral upstream reached only through
// ephemerals gets a through_ephemeral edge to the non-ephemeral downstream:
// table-level lineage then never shows an ephemeral as a table.
//
// Column-level lineage is read from the compiled SQL of the models by
// package sqllineage during the sync (column_lineage.go), stored with the
// snapshot, and walked by ColumnLineage (column_lineage_query.go). What
// cannot be resolved is kept as gaps and summarised in the sync report.
//
// # Matching
//
// A node's table is its relation_name, split with the adapter's quote
// character, else database.schema.identifier. Unquoted parts fold by the
// adapter's rule (Snowflake upper, Postgres, Redshift, DuckDB and others
// lower); quoted parts keep their case. The warehouse's names are compared
// exactly first and then case-insensitively, except on BigQuery where
// names are case-sensitive, so a Snowflake catalog in upper case matches a
// manifest in lower case (the mismatch of OpenMetadata #8048 and DataHub
// #7377); column names are paired the same way (MatchColumns). A quoted
// part must match exactly on adapters that honour quotes (all but Redshift,
// Databricks and Spark). Upstreams in other databases match like any other
// table (#8086). The Report says which nodes matched, which are missing
// (with up to three nearest tables of the same database; in databases of
// more than 2,000 tables only those of the same name and the name's
// neighbours in its schema are compared, to keep a sync fast), which tables
// of a schema holding a matched node no node claims, the ephemeral models
// passed through, and matches where several tables fold to one key (the
// exact spelling wins).
//
// # Uploads
//
// InputsFromFiles takes the files of `dbtlink catalog upload`, detects each
// one's kind, and refuses what is clearly wrong (two manifests, no manifest,
// a run_results or sources.json whose project_id is not the manifest's);
// what is only suspicious (a catalog describing none of the manifest's
// nodes, another dbt version) becomes a warning. Its fingerprint is the
// sha256 of the files.
package catalog
