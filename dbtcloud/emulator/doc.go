// Package emulator is a local, faithful stand-in for dbt Cloud's Administrative API, shaped like net/http/httptest:
// start one in a test, point any dbt Cloud client at its URL, and drive time by hand.
//
//	clock := emulator.NewFakeClock(time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC))
//	srv, err := emulator.New(emulator.Options{Clock: clock})
//	if err != nil { ... }
//	defer srv.Close()
//	// srv.URL is the dbt Cloud host, srv.Token reaches srv.AccountID.
//	// Trigger a run over HTTP, then move it along:
//	srv.Advance(2 * time.Minute)
//
// The emulator implements the wire contract on its own (it does not import package dbtcloud), so the client and
// the emulator check each other. Its sources of truth are dbt Labs' OpenAPI specs (copied into testdata/), the
// responses recorded from dbt Cloud in /work/shared/dbt-cloud-api/recorded, and CONTRACT.md there. A test
// validates every response of every operation served here against the specs with kin-openapi.
//
// # Serving
//
// New listens on Options.Addr (default 127.0.0.1:0) and returns a *Server with URL (no trailing slash), Token,
// AccountID, Client and Close. NewHandler returns the *Emulator, an http.Handler, for mounting elsewhere;
// Emulator.ListenAndServe(ctx, addr) and Emulator.Serve(ctx, listener) serve it until ctx ends, which is what
// `dbtlink emulator` runs. Options.Logger receives a line per request (method, path, query string, status, time taken; never the token) and per webhook
// delivery.
//
// # Time
//
// Everything is a deterministic function of the clock: run transitions are replayed in time order up to the
// clock's reading on every request (and whenever the clock ticks), so polling every second or looking once at the
// end gives byte-identical answers. NewFakeClock(t0) moves only on Advance/Set (Server.Advance panics on other
// clocks); NewRealClock(speed) follows the wall clock, speed times faster (speed 60: an emulated minute per real
// second). Without Options.Clock the emulator uses NewRealClock(1).
//
// # Served API
//
// v2 (paths end in "/"):
//
//	GET  /api/v2/accounts/                          the token's account
//	GET  /api/v2/accounts/{a}/
//	GET  /api/v2/accounts/{a}/users/                the account's users, as on v3
//	GET  /api/v2/whoami/                            data.user for a personal token; data.user null and data.service_token for a service token
//	GET  /api/v2/accounts/{a}/jobs/                 project_id, environment_id, name__icontains, state, order_by (id, name, created_at, -x), limit, offset, include_related (environment, project, most_recent_run, most_recent_completed_run)
//	POST /api/v2/accounts/{a}/jobs/                 create (201); account_id, project_id, environment_id, name and execute_steps required
//	GET  /api/v2/accounts/{a}/jobs/{j}/
//	POST /api/v2/accounts/{a}/jobs/{j}/             update: the fields sent change; "state": 2 deletes
//	DELETE /api/v2/accounts/{a}/jobs/{j}/           200 with the job, state 2
//	POST /api/v2/accounts/{a}/jobs/{j}/run/         all trigger fields; cause required (400); answers 200 with the queued run
//	POST /api/v2/accounts/{a}/jobs/{j}/rerun/       retry from the failure if the latest run can be retried, else a new run
//	GET  /api/v2/accounts/{a}/jobs/{j}/artifacts/{path...}   the file from the job's latest run that has it
//	GET  /api/v2/accounts/{a}/runs/                 job_definition_id, environment_id, project_id, status, status__in ("[1,2,3]" only), created_at__range, finished_at__range, id__gt, state, include_related, order_by (id, created_at, finished_at, -x), limit, offset
//	GET  /api/v2/accounts/{a}/runs/{r}/             include_related: trigger, job, environment, run_steps, run_retries, debug_logs; comma list or ['a','b']
//	POST /api/v2/accounts/{a}/runs/{r}/cancel/      "Cancelled by user."; a finished run is answered as it is
//	GET  /api/v2/accounts/{a}/runs/{r}/retry/       failed_step, skipped_steps
//	POST /api/v2/accounts/{a}/runs/{r}/retry/       400 unless can_retry
//	GET  /api/v2/accounts/{a}/runs/{r}/artifacts/   paths under target/; data null when none; ?step=N: only that step's files (404 past the last step)
//	GET  /api/v2/accounts/{a}/runs/{r}/artifacts/{path...}?step=N
//
// v3:
//
//	GET  /api/v3/accounts/                                   List Accounts: the token's account
//	GET  /api/v3/accounts/{a}/users/                         the account's one emulated user, owner of the personal tokens
//	GET  /api/v3/accounts/{a}/projects/                      name__icontains, state, pk, pk__gt, pk__in, order_by (any project field, - for descending, comma-separated for several), limit, offset, include_related (docs_job, freshness_job; connection and repository always come)
//	POST /api/v3/accounts/{a}/projects/                      create (201); name required; no connection or repository until set
//	GET  /api/v3/accounts/{a}/projects/{p}/                  include_related as for the list
//	POST /api/v3/accounts/{a}/projects/{p}/                  update (connection_id, repository_id must be the account's); "state": 2 deletes
//	DELETE /api/v3/accounts/{a}/projects/{p}/                200 with the project, state 2; its environments and jobs are deleted too
//	GET  /api/v3/accounts/{a}/environments/                  the account's environments: project_id, project_id__in and the filters below
//	GET  /api/v3/accounts/{a}/projects/{p}/environments/     name, name__icontains, deployment_type, state, limit, offset
//	POST /api/v3/accounts/{a}/projects/{p}/environments/     create (201); one production and one development environment per project
//	GET  /api/v3/accounts/{a}/projects/{p}/environments/{e}/
//	POST /api/v3/accounts/{a}/projects/{p}/environments/{e}/ update; "state": 2 deletes
//	DELETE /api/v3/accounts/{a}/projects/{p}/environments/{e}/   200 with the environment, state 2; its jobs are deleted too
//	GET  /api/v3/accounts/{a}/projects/{p}/connections/[{c}/]    the project's connection (type "adapter"; details adapter_type duckdb, path jaffle_shop.duckdb)
//	GET  /api/v3/accounts/{a}/projects/{p}/repositories/[{r}/]   the project's repository (a deploy-key clone of a .invalid remote)
//	GET|POST /api/v3/accounts/{a}/webhooks/subscriptions      POST answers 201 with id "wsu_..." and hmac_secret (only then)
//	GET|PUT|DELETE /api/v3/accounts/{a}/webhooks/subscription/{id}
//
// A GET or HEAD of a served path without its trailing slash is answered as Django's APPEND_SLASH answers it for
// dbt Cloud: 301, Location the same path with the slash and the query string, an empty body, Content-Type
// text/html; charset=utf-8, Content-Length 0, and no token needed (the middleware runs before authentication).
// That is Django's CommonMiddleware as its source has it; no redirect recorded from dbt Cloud itself is at hand, so
// whatever its load balancers add is not known. A POST, PUT or DELETE without the slash is a 404: a redirect would
// lose its body.
//
// # Writes
//
// Creating, updating and deleting jobs, projects and environments keeps the state consistent: a created job is
// listed, read and triggered like a seeded one, and its runs follow its steps and settings; an update changes only
// the fields the body sends (null clears a field: deployment_type, custom_branch, connection_id, a job's
// dbt_version, ...); a job's dbt_version, when set, overrides its environment's in its runs; a delete is soft, as in dbt Cloud: the object answers with state 2, disappears from
// reads (404), triggers (404) and the default lists, and is listed by state=deleted or state=all; deleting a
// project deletes its environments and their jobs, deleting an environment its jobs. Runs of deleted jobs stay
// readable; runs in flight finish. Jobs run only in deployment environments. Fields the emulator does not model
// are accepted and ignored; bad values are a 400 naming the field ("execute_steps[0]: ..."). The emulator is more
// lenient than the spec about required job fields: only account_id, project_id, environment_id, name and
// execute_steps are required, the rest take dbt Cloud's defaults.
//
// Envelopes, paging (limit default 100, more than 100 is a 400), error bodies and timestamp formats follow
// CONTRACT.md: runs use "2021-12-07 10:32:24.326116+00:00", accounts and jobs "...T...+00:00", v3 projects and
// environments "...T...Z". Webhook endpoints use the thin envelope (status is only {"code"}).
//
// Auth: "Authorization: Token X" or "Bearer X". A missing or unknown token, or a token without a scheme, is a 401
// "Invalid token."; a token of one account asking about another gets 404 (objects it cannot see are "missing");
// a seeded IP-restricted token gets the 403 dbt Cloud documents ("Forbidden: Access denied", data with
// "account_access_denied": true). Each account may make
// RateLimitPerMinute requests per emulated minute (default 5,000, negative disables); past that, 429 in dbt's
// envelope with Retry-After, and a five-minute cooldown (in emulated seconds).
//
// # Permission sets
//
// A seed's plain tokens carry Account Admin; its service_tokens name dbt Cloud permission sets (Analyst, Job Admin,
// Job Runner, Metadata Only, Read-Only, ...; see PermissionSet and the table in permissions.go, which cites the
// dbt docs each row comes from) and optionally the projects they are scoped to. A call the token's sets do not
// allow gets dbt Cloud's 403 envelope (user_message "You do not have permission to perform this action.", data
// null) before its body is read or its object looked up; an object of a project outside the token's scope is a
// 404, as for any object a token cannot see; lists hold only the objects in scope. The default seed adds
// DemoAnalystToken (Analyst: reads everything, runs nothing), DemoMetadataOnlyToken (Metadata Only: every Admin
// API call is refused) and DemoJobRunnerToken (Job Runner on project 101: reads and runs jobs there, cannot list
// projects or environments). Environment-level write permissions (the R* cells of dbt's tables) are not modelled.
//
// Writes take W in the table's row for the object: creating, changing or deleting a job takes Jobs W on its project
// (and on the project it moves to), an environment Environments W, changing or deleting a project Projects W on it
// (its environments and jobs go with it), and creating a project Projects W granted on the whole account, since a
// new project lies outside any project scope. A project named in a body that the token may not write is a 400, as
// for a project that does not exist. Reading a project's connections and repositories takes Projects R; reading
// the account's users takes an account-level set (the tables' Users rows are not modelled cell by cell); whoami
// takes nothing but a valid token.
//
// # Runs
//
// A run is Queued (1) until its job's queue delay has passed, no earlier run of the same job is unfinished
// (blocked_by lists them) and the account has a free run slot; then Starting (2), then Running (3) through its
// steps: "Clone git repository", "Create profile from connection ...", "Invoke dbt with `dbt deps`", then
// "Invoke dbt with `dbt source freshness`" if the job generates sources, one step per command, and
// "Invoke dbt with `dbt docs generate`" if it generates docs. It ends Success (10), Error (20: the seeded failing
// step fails; the steps after it never start), or Cancelled (30: "Cancelled by user.", or once it has run for the
// job's timeout_seconds, or timeout_seconds_override, "The run timed out after N seconds and was cancelled.").
// Steps carry dbt-style logs naming the models and tests, durations and *_humanized fields. A failed run is
// retryable (can_retry) when it is the job's latest, on dbt 1.6 or later, and failed in a command dbt retry
// supports after writing run_results; otherwise retry_not_supported_reason says which of RETRY_NOT_FAILED_RUN,
// RETRY_NOT_LATEST_RUN, RETRY_UNSUPPORTED_VERSION, RETRY_NO_RUN_RESULTS, RETRY_UNSUPPORTED_CMD applies. A retry
// run has retrying_run_id set and runs "Invoke dbt with `dbt retry`" (re-running only the failed and skipped nodes,
// which now pass) followed by the commands the failed run never reached.
//
// # Artifacts
//
// The embedded data/ directory holds one real, matching jaffle_shop set (dbt 1.11.7; see data/PROVENANCE.md).
// Each finished dbt step (not clone, profile or deps) writes manifest.json and run_results.json, build/run steps
// also compiled/ and run/ SQL files, `dbt docs generate` catalog.json, and `dbt source freshness` sources.json
// (generated from the manifest's sources, in the v3 schema). run_results.json is derived per step and matches
// the outcome: a failing build or run step has the failing model as "error" with a message and everything
// downstream of it "skipped"; a failing test step has one test "fail" with failures and a message; a failing seed
// step has a seed "error" (seed and snapshot results are made from the manifest's nodes, which the embedded
// run_results lacks; the project has no snapshots, so `dbt snapshot` runs no nodes and fails without one);
// successful steps are all "success"/"pass". Timings and execution_time are spread over the step's emulated
// duration, nodes taking turns on one thread, so they add up to just under elapsed_time. ?step=N selects a step (1-based; 404 if that step wrote no such file); without
// it a path resolves to the last step that wrote it. The artifact list takes ?step=N too: only the files that step
// wrote (data null for a step that wrote none), 404 in dbt's envelope for a step the run does not have, 400 for a
// step that is not a number; without it, every file the run saved. Artifacts appear when the run ends.
//
// The embedded manifest.json was written by `dbt parse`, so it has no compiled SQL. As dbt does, the manifest of a
// step that compiles nodes (build, run, compile, test, docs generate, retry) marks each node it compiled with
// compiled: true, compiled_code, compiled_path, extra_ctes ([]) and extra_ctes_injected: a build or docs generate
// step compiles the models and tests, a run step the models, a test step the tests; a node a failed step skipped is
// not compiled, the node that failed is. Seed and source freshness steps serve the parsed manifest unchanged. The
// compiled code comes from data/compiled_code.json, taken from a compiled build of the same project (see
// data/PROVENANCE.md); metricflow_time_spine is not in it (its raw code calls a dbt_date macro the emulator cannot
// render), so it stays uncompiled and its compiled/ file holds its raw code. Each distinct set of compiled nodes is
// encoded once per process and its bytes reused; only the compiled nodes' objects are re-encoded.
//
// # Seed format
//
// A seed (YAML, or JSON with the same keys) nests accounts > projects > environments > jobs; see
// testdata/seed.example.yaml for every key with comments. LoadSeed/ParseSeed reject unknown keys and report every
// problem with its location, e.g. "accounts[0].projects[1].environments[0].deployment_type: ...". Ids are optional.
// An account's service_tokens name permission sets (see Permission sets). A job's behaviour block sets outcome
// (success|error), fail_step (1-based command index, 0 = dbt deps), failing_node, step_seconds, queue_seconds and
// starting_seconds. DefaultSeed gives account 1 (token DemoToken, 2 run slots, and the service tokens under
// Permission sets) with project "analytics" (environments "Production" and "Staging") holding "daily build"
// (succeeds), "failing build" (dbt run then a failing dbt test), "slow build" (20 minutes, 15 minute timeout) and
// "docs build" (docs and sources), a Staging "daily build", and a second project "analytics_legacy" (dbt 1.5,
// also with a "Production" environment and a "daily build" job) so name lookups can be ambiguous. Account 2
// (token OtherToken) exists for cross-account tests. The Demo* constants name all of these ids.
//
// # Warehouse
//
// ProjectWarehouse describes the relations the embedded project would have built (database "jaffle_shop", schemas
// "main" for models and "raw" for seeds and the sources that read them): models by materialization (views,
// tables; ephemeral ones none), seeds, snapshots and sources, with the columns and types of the embedded
// catalog.json. WarehouseOptions.Omit leaves a node's relation out and Extra adds relations no node claims, so a
// catalog can be tested on missing and unmanaged tables. Warehouse.DDL writes the SQL for "duckdb" or "postgres";
// `dbtlink emulator --warehouse` runs it. See Warehouse for how the database name maps and why no comments are set.
//
// Jobs whose artifacts a catalog sync reads: "docs build" (304) writes catalog.json and sources.json on every
// run; "failing build" (302) ends with a failed test in run_results.json.
//
// # Control endpoints and fault injection
//
// Paths under /_emulator/ cannot clash with dbt's /api paths and need no token:
//
//	POST   /_emulator/faults     {"method":"POST","path":"/api/v2/accounts/{a}/jobs/{j}/run/","times":1,"kind":"status","status":429,"retry_after":30}
//	GET    /_emulator/faults     armed faults with what remains of each
//	DELETE /_emulator/faults     disarm all (204)
//	GET    /_emulator/state      {"now", "runs": [...], "trigger_counts": {"301": 2}, "faults": [...]}
//	POST   /_emulator/advance?d=5m   move a fake clock (409 on a real clock)
//
// A fault's path is a route pattern ({x} matches a segment, {x...} the rest) or, without braces, a path prefix;
// it may start with the method ("POST /api/..."). times defaults to 1; negative means until cleared. Kinds:
// "status" (answer status, e.g. 429/500/503, in dbt's error envelope, with Retry-After when retry_after is set,
// without doing the work), "latency" (wait latency, a Go duration such as "2s", then serve), "drop" (close the
// connection without answering or doing the work) and "commit_then_drop" (do the work, e.g. create the run, then
// close the connection without answering). The same from Go: InjectFault, ClearFaults, Runs, TriggerCount, Advance.
//
// # Webhooks
//
// When a run starts, errors or completes, each active subscription of its account whose event_types (and job_ids,
// if any) match gets a POST with the body described in CONTRACT.md (accountId a number, webhookId, eventId
// "wev_...", timestamp with Z, eventType, webhookName, data with string ids; errored before completed) and
// Authorization set to Sign(hmac_secret, body), the lowercase hex HMAC-SHA256 of the raw body. Deliveries run on a
// goroutine per subscription (in order, never blocking requests) with Options.WebhookClient (default 10 s
// timeout): one attempt plus up to 5 retries Options.WebhookRetryDelay apart; five failed deliveries in a row
// deactivate the subscription (active false, deactivate_reason set).
//
// # Discovery API
//
// The Discovery (GraphQL) API is served at /graphql (and /beta/graphql, the path of dbt's earlier Metadata API) on
// the emulator's own host: dbt Cloud serves it on metadata.cloud.getdbt.com, PREFIX.metadata.REGION.dbt.com and
// so on, hosts a local server cannot take without DNS tricks, so a client points its endpoint at
// http://127.0.0.1:PORT/graphql, which dbtcloud.DiscoveryURL derives for a loopback host. The schema
// (discovery_schema.go) is written in dbt's type and field names as public clients use them (dbt-labs/dbt-mcp's
// queries, DataHub's job-level query): environment(id) { dbtProjectName adapterType applied { lastUpdatedAt models
// sources seeds snapshots tests exposures resources(filter) lineage(filter) modelHistoricalRuns } definition {
// exposures metrics semanticModels savedQueries groups } } and job(id, runId) { models seeds snapshots sources tests
// }. Lists are relay connections (first, default 100 and at most 500; after; pageInfo { hasNextPage endCursor };
// totalCount), sorted by unique id. Unit tests are listed with the tests (testType UNIT_TEST), a reading of ours.
//
// Answers come from what the emulator's runs wrote, read back with package artifacts: per environment, each
// node's newest execution across its ended runs (compile-only results skipped; ties broken as a catalog sync
// breaks them) is executionInfo, the newest catalog.json gives catalog, the newest sources.json freshness;
// job(id, runId) shows one run's results (the job's latest ended run without runId), modelHistoricalRuns a
// model's executions newest first. Definitions are those of the embedded manifest.
//
// Parsing, validation and execution are github.com/graph-gophers/graphql-go's (resolvers are plain methods, no
// code generation). Authentication is the Admin API's (Bearer or Token); the permission sets that read projects
// and runs, and Metadata Only, may query it; other sets get 403 with extensions.code FORBIDDEN, a missing or
// unknown token 401 UNAUTHENTICATED, an environment or job of another account (or outside a token's projects)
// NOT_FOUND. Errors carry dbt's extensions.code: GRAPHQL_PARSE_FAILED and GRAPHQL_VALIDATION_FAILED (unknown
// fields and arguments, with graphql-js's messages) are answered with 400 and no data, as Apollo Server does;
// BAD_USER_INPUT (page size, cursor), NOT_FOUND and COMPLEXITY_EXCEEDED come with 200 and data. A query nested
// deeper than 10 fields, or scored over DiscoveryComplexityLimit (every field counts once per object it is asked
// for: page sizes multiply, nested lists count 10, code and catalog columns weigh 5), is COMPLEXITY_EXCEEDED; dbt
// publishes neither its scoring nor its limit. Requests count against the account's rate limit, and faults apply
// as on the Admin API. Not served: sort arguments, the select/exclude selectors of lineage, parents/children/
// ancestors fields, semantic layer fields, and the account-level and project-level queries.
//
// # Differences from dbt's OpenAPI specs
//
// Found while validating the emulator against openapi-v2.yaml/openapi-v3.yaml (dbt-labs/dbt-cloud-openapi-spec at
// 1f274f76963a) and the recorded responses. The emulator follows the recorded wire where they disagree; the
// conformance test makes exactly these allowances and no others:
//   - Real responses carry null in many fields the spec calls non-nullable, including required ones (related
//     objects such as run.trigger/job/environment without include_related, job.account/project/environment,
//     account lock/trial fields, project connection/repository, environment credentials). The test marks every
//     schema nullable.
//   - Run (and run step) timestamps have a space between date and time, which is not format date-time. The test
//     accepts RFC 3339 with T or a space.
//   - A run's related job (InternalJobDefinition) types schedule.date and schedule.time as bare string enums; the
//     job endpoints and the recorded jobs use objects ({"type": "every_day"}). The emulator sends objects.
//   - Webhook subscriptions' job_ids are integers in the spec and strings on the wire.
//   - status__in is declared an integer array (form style, status__in=1&status__in=2); dbt Cloud accepts only
//     "[1,2,3]" and answers other spellings with 400, as the emulator does.
//   - The spec documents only 200 for v2 operations; dbt answers 400 (bad filter, limit > 100, missing cause,
//     a retry of an unretryable run), 401, 403, 404 and 429 in its envelope with data null (the 2023 spec documents
//     400/404 with that envelope).
//   - The artifact list's data is a required array in the spec; dbt Cloud sends null when a run saved none.
//   - The recorded job list came without "extra" and the recorded account list with order_by null; the spec
//     requires both and the emulator sends them ("id").
//   - The recorded project uses the space timestamp format, the recorded environments T; the emulator sends v3
//     projects and environments with T and Z so clients meet every spelling.
//   - Deleting a webhook subscription answers 200 with {"status": {"code", "is_success"}, "data": {"id"}} per the
//     v3 spec, although CONTRACT.md says DELETEs answer 204 (true of other v3 objects).
//   - Whether 429s carry Retry-After is undocumented; the emulator sends it.
//   - Creates (jobs, projects, environments) are documented as 200; dbt Cloud answers 201 with status.code 201
//     (recorded/job_create_response.json, project_create_response.json, environment_create_response.json), as the
//     emulator does. The test validates those bodies against the documented 200.
//   - Deletes are documented as 204 with no body; dbt Cloud answers 200 with the deleted object, state 2
//     (recorded/*_delete_response.json), as the emulator does. The test validates those bodies against the object's
//     GET.
//   - GET /api/v3/accounts/{a}/environments/ (the account-wide list, which clients call with project_id) and GET
//     /api/v2/whoami/ are not in either spec. The test validates the first against the project's environment list
//     and the second as dbt's envelope around {"user": UserResponse}.
//   - v3's JobDefinitionSchedule (a project's docs_job and freshness_job) types schedule.date and schedule.time as
//     bare string enums, as v2's run-related job does; the test checks them as objects whose type is that enum.
//   - DuckDB is none of ConnectionTypeEnum's types: the emulated connection has type "adapter" and
//     adapter_version null.
//   - openapi-v2.yaml declares ?step= only on the artifact download, not on the artifact list; dbt's earlier v2
//     reference described step on the list as well ("the first step in the run has the index 1"), and
//     dbt-cloud-cli's `run list-artifacts --step` sends it, so the emulator honours it on both.
//   - The spec documents themselves do not pass kin-openapi's 3.0 validation: request schemas with `default: ""`
//     and `minLength: 1`, examples that do not match their schemas, a non-standard `write_only` next to $ref, and
//     OpenAPI 3.1 keywords (numeric exclusiveMinimum/exclusiveMaximum, const, examples) in a 3.0.3 document. The test
//     rewrites the 3.1 keywords to their 3.0 equivalents and skips default/example validation; response schemas are
//     untouched by this.
//
// # Not served
//
// The emulator answers 404 (or 405 for a served path with another method) for everything else, including:
//   - the v2 copies of the project, environment and repository endpoints (/api/v2/accounts/{a}/projects/,
//     environments/, repositories/), one user by id (/api/v2/users/{id}/, /api/v3/accounts/{a}/users/{id}/);
//   - creating, changing or deleting connections, repositories, credentials, users and accounts (Update Account);
//     account-level connections (/api/v3/accounts/{a}/connections/);
//   - run steps (/api/v2/accounts/{a}/steps/{id}/), account licenses, invites, groups, notifications, environment
//     variables, extended attributes, profiles, SSH tunnels, IP restrictions, OAuth configurations, private
//     endpoints, lineage integrations, audit logs, SCIM and the v4 runs API;
//   - schedules (cron is stored and reported, never run), form-encoded and multipart request bodies (JSON only),
//     and PATCH/PUT on the objects above (dbt's spec updates them with POST).
package emulator
