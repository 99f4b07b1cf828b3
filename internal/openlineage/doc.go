// Package openlineage turns a finished dbt Cloud run into OpenLineage run
// events and delivers them to an HTTP receiver (Marquez's POST
// /api/v1/lineage) or a file of JSON lines.
//
// # Written by hand
//
// The event model (event.go) is written here from the published JSON
// schemas (OpenLineage.json 2-0-2 and the facet schemas, kept in
// testdata/schema with their provenance), because the Go module proxy
// this project builds from does not serve OpenLineage's Go client. Only
// the objects and facets dbtlink emits are modelled. Tests validate every
// kind of event, and each facet against its own schema, with
// santhosh-tekuri/jsonschema (format assertions on). The package is
// internal for now: it models only what dbtlink sends, and its naming
// choices below may still change; the event model could become a public
// package once that settles.
//
// # Events, as the OpenLineage dbt integration makes them
//
// FromCloud reads the run with its steps, then for each step that ran dbt
// run, build, test, seed, snapshot or retry that step's manifest.json and
// run_results.json (one manifest in memory at a time), and the run's
// catalog.json when it has one, as the OpenLineage integration of
// Airflow's dbt Cloud provider does. Build (or NewBuilder/AddStep/Finish)
// then follows openlineage-dbt's artifact processor:
//
//   - one job per model, snapshot and seed result that was not skipped,
//     named database.schema.<unique id without "model.">, with ".snapshot"
//     (".seed") for snapshots (seeds) and ".build.run", ".build.snapshot",
//     ".build.seed" under dbt build; jobType facet (integration DBT,
//     processingType BATCH, jobType MODEL, SNAPSHOT or SEED) and the sql
//     facet with the compiled code (dialect: the adapter);
//   - START at the node's execute timing, then COMPLETE, or FAIL with an
//     errorMessage facet (dbt's message) and no outputs;
//   - inputs from the manifest's depends_on (an ephemeral model's own
//     inputs stand in for it), outputs with dataSource, documentation and
//     schema facets (columns from the manifest, types from catalog.json
//     when present, else the documented data_type) and outputStatistics
//     when the catalog or adapter response has rows or bytes;
//   - run facets parent (pointing at the dbt Cloud run, also as root),
//     processing_engine (dbt and its version), dbt_run (invocation id,
//     dbt_runtime "cloud", account id) and externalQuery (the
//     warehouse's query id) when known;
//   - per step that tests, one TEST job per tested dataset,
//     database.schema.<unique id>.test (".build.test" under build), whose
//     input carries a dataQualityAssertions facet: one assertion per test
//     (assertion: the generic test's name or the singular test's, column,
//     severity, success false for fail, warn and error). It COMPLETEs
//     whatever the tests found, as the integration's does;
//   - around them, the dbt Cloud run itself as a job, like dbt-ol's
//     wrapping job: namespace the job namespace, name
//     dbt-cloud/accounts/{account}/jobs/{job}, jobType JOB, START at the
//     run's start and COMPLETE, FAIL (errorMessage: dbt Cloud's status
//     message) or ABORT (cancelled) at its end. Its run is the parent of
//     every node run.
//
// Where dbtlink differs, and why:
//
//   - Seeds get jobs (the integration skips them), so that a seed's table
//     has a producing job.
//   - Dataset names are the relation's database.schema.identifier (alias,
//     source identifier) rather than the node name, as the OpenLineage
//     naming spec names warehouse tables, so that they meet other
//     producers' names.
//   - Run ids are UUIDs derived from the dbt Cloud host, account, run,
//     step and node, not random: a delivery repeated after a crash or
//     retry describes the same runs.
//   - Dataset namespaces need warehouse connection details that dbt Cloud
//     artifacts lack. Like the integration's dbt Cloud processor, dbtlink
//     reads them from the project's connection (one call per connection,
//     remembered by Warehouses) and names the warehouse per adapter as
//     the naming spec does (ConnectionNamespace); the configured override
//     wins, and when the details cannot be read (a token without project
//     read access) a fallback of dbtlink's own is used, with a warning
//     (DatasetNamespace).
//   - Column lineage (the columnLineage facet of outputs) comes from
//     SQLColumnLineage, which reads the compiled SQL with dbtlink's own
//     parser (package sqllineage) where the integration uses its Rust
//     one; only the columns a value is computed from are inputs, not those
//     that filter or join. Models whose SQL it cannot read get no facet
//     (one warning per run counts them); no facet is guessed.
//
// # Delivery
//
// HTTPTransport retries network errors, 429 and 5xx with backoff and
// sends the API key as a bearer token; the key is an APIKey, which never
// prints. FileTransport appends JSON lines. In `dbtlink serve` a River job
// per finished run sends the events (Router.EmitRun), so delivery survives
// restarts and never holds up the poller; it passes the delivery's
// progress per sink (Target.SendRun), which the job keeps between
// attempts, so that a retry resumes each sink where it stopped. `dbtlink
// job run --wait`, `run watch` and `run retry --wait` queue them on an
// Emitter, whose bounded queue drops (and counts) rather than blocks, and
// wait a bounded time for them before exiting.
package openlineage
