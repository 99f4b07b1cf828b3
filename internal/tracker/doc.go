// Package tracker is the engine of `dbtlink serve`: it records the runs
// requested through the API, triggers each exactly once, follows them to
// their end with few dbt Cloud calls, applies their policies (deadline,
// rerun from failure) and keeps their steps, failing nodes and artifacts.
//
// # Durability
//
// Work goes through River jobs in the same database as the store, so a
// run and the job that triggers it are recorded in one transaction. The
// jobs are idempotent and resumable:
//
//   - trigger: commits the attempt time before each POST and puts the
//     run's marker in the dbt Cloud cause; a retried or rescued trigger
//     first asks dbt Cloud for a run bearing the marker
//     (dbtcloud.FindTriggered) and posts again only when that lookup proves
//     there is none. A crash at any moment neither loses the run nor
//     triggers it twice.
//   - poll: one per connection (a unique job), so each account is polled
//     by one process at a time however many servers share a PostgreSQL
//     database; see poll.go for how a pass lists runs in bulk.
//   - finalize: once per dbt Cloud run that ended: rerun from failure,
//     failing nodes, artifacts.
//   - cancel and deadline.
//
// When a process dies, its running jobs are taken over: at once on SQLite,
// whose single server resets them at start, and on PostgreSQL by River's
// rescuer after Config.RescueAfter.
//
// # Webhooks
//
// ApplyWebhook takes a verified dbt Cloud event: it is kept once per event
// id and settles the run at once. An event for a run not yet known (dbt
// Cloud can call before our trigger's answer is recorded) is applied when
// the run's id is recorded. While events arrive, polling slows to
// Config.WebhookPoll.
package tracker
