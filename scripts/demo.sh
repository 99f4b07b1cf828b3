#!/usr/bin/env bash
# make demo: orchestration and the catalog on the embedded default, with no
# dbt Cloud account. Starts the built-in emulator with a DuckDB warehouse
# holding its project's tables, adds a connection to it, triggers a job with
# live progress, downloads its artifacts and reads them; then crawls the
# warehouse, runs the jobs the catalog reads (one fails a test), syncs dbt's
# metadata onto the tables, searches it, prints a table's page and its table
# and column lineage.
# Everything it writes lives in a temporary DBTLINK_HOME and ./demo-artifacts.
set -euo pipefail
BIN=${1:-bin/dbtlink}
[ -x "$BIN" ] || { echo "demo: $BIN is not built; run 'make build' first" >&2; exit 2; }

export DBTLINK_HOME=$(mktemp -d)
env_file="$DBTLINK_HOME/emulator.env"
# --speed 20: every emulated second of a run takes 1/20 s here, so the demo
# job's few minutes of dbt work pass in a few seconds.
# --warehouse: the emulator first builds the tables and views its project's
# models, seeds and sources would, in a DuckDB file named after the
# project's database (jaffle_shop), as dbt would on that warehouse.
warehouse="$DBTLINK_HOME/jaffle_shop.duckdb"
"$BIN" emulator --addr 127.0.0.1:0 --speed 20 --warehouse "duckdb:$warehouse" >"$env_file" 2>"$DBTLINK_HOME/emulator.log" &
emu=$!
trap 'kill $emu 2>/dev/null || true; rm -rf "$DBTLINK_HOME"' EXIT

# Wait (bounded) for the emulator to print where it listens.
for _ in $(seq 1 100); do
  grep -q '^export DBT_CLOUD_API_TOKEN=' "$env_file" 2>/dev/null && break
  kill -0 $emu 2>/dev/null || { cat "$DBTLINK_HOME/emulator.log" >&2; exit 1; }
  sleep 0.1
done
eval "$(grep '^export ' "$env_file")"
echo "== emulator at $DBT_CLOUD_HOST (account $DBT_CLOUD_ACCOUNT_ID)"

echo "== dbtlink connection add demo"
printf '%s\n' "$DBT_CLOUD_API_TOKEN" | "$BIN" connection add demo \
  --host "$DBT_CLOUD_HOST" --account-id "$DBT_CLOUD_ACCOUNT_ID" --token-stdin
# From here on the connection is used, not the environment.
unset DBT_CLOUD_API_TOKEN DBT_CLOUD_HOST DBT_CLOUD_ACCOUNT_ID

echo "== dbtlink connection test demo"
"$BIN" connection test demo

echo "== dbtlink job list"
"$BIN" job list -c demo

echo "== dbtlink job run (by name) --wait"
rm -rf demo-artifacts
"$BIN" job run -c demo --project analytics --environment Production --job "daily build" \
  --wait --artifacts manifest.json,run_results.json -o demo-artifacts

echo "== dbtlink artifacts inspect"
"$BIN" artifacts inspect demo-artifacts/manifest.json demo-artifacts/run_results.json

echo
echo "== the catalog: the warehouse first"
"$BIN" warehouse add demo --type duckdb --path "$warehouse"
"$BIN" warehouse crawl demo

echo "== dbt Cloud runs for the catalog: docs and freshness, then a build whose test fails"
"$BIN" job run -c demo 304 --wait >/dev/null
# The failing build exits 1 (the run ended in error), as a CI step would.
"$BIN" job run -c demo 302 --wait >/dev/null || echo "(job 302 failed a test, as the demo intends)"

echo "== dbtlink catalog sync demo"
"$BIN" catalog sync demo

echo "== dbtlink catalog search customer"
"$BIN" catalog search customer --limit 5

echo "== dbtlink catalog show main.customers"
"$BIN" catalog show main.customers

echo "== dbtlink catalog tests --failing"
"$BIN" catalog tests --failing

echo "== dbtlink catalog lineage main.customers --upstream"
"$BIN" catalog lineage main.customers --upstream

# Column lineage, from the compiled SQL in the build step's manifest.
echo "== dbtlink catalog lineage main.customers --column customer_id --upstream"
"$BIN" catalog lineage main.customers --column customer_id --upstream
echo "== done: artifacts are in ./demo-artifacts"
