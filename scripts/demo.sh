#!/usr/bin/env bash
# make demo: the whole orchestration path on the embedded default, with no
# dbt Cloud account. Starts the built-in emulator, adds a connection to it,
# triggers a job with live progress, downloads its artifacts and reads them.
# Everything it writes lives in a temporary DBTLINK_HOME and ./demo-artifacts.
set -euo pipefail
BIN=${1:-bin/dbtlink}
[ -x "$BIN" ] || { echo "demo: $BIN is not built; run 'make build' first" >&2; exit 2; }

export DBTLINK_HOME=$(mktemp -d)
env_file="$DBTLINK_HOME/emulator.env"
# --speed 20: every emulated second of a run takes 1/20 s here, so the demo
# job's few minutes of dbt work pass in a few seconds.
"$BIN" emulator --addr 127.0.0.1:0 --speed 20 >"$env_file" 2>"$DBTLINK_HOME/emulator.log" &
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
echo "== done: artifacts are in ./demo-artifacts"
