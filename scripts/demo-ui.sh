#!/usr/bin/env bash
# make demo-ui: the demo's emulator, warehouse and runs behind a running
# `dbtlink serve`, to look at in a browser. Prints the URL and a write
# token to log in with, then serves until Ctrl-C. Everything it writes
# lives in a temporary DBTLINK_HOME, removed on exit.
set -euo pipefail
BIN=${1:-bin/dbtlink}
ADDR=${DBTLINK_DEMO_ADDR:-127.0.0.1:8765}
[ -x "$BIN" ] || { echo "demo-ui: $BIN is not built; run 'make build' first" >&2; exit 2; }

export DBTLINK_HOME=$(mktemp -d)
warehouse="$DBTLINK_HOME/jaffle_shop.duckdb"
"$BIN" emulator --addr 127.0.0.1:0 --speed 20 --warehouse "duckdb:$warehouse" >"$DBTLINK_HOME/emulator.env" 2>"$DBTLINK_HOME/emulator.log" &
emu=$!
"$BIN" serve --addr "$ADDR" >"$DBTLINK_HOME/serve.env" 2>"$DBTLINK_HOME/serve.log" &
srv=$!
trap 'kill $srv $emu 2>/dev/null || true; wait $srv 2>/dev/null || true; rm -rf "$DBTLINK_HOME"' EXIT
trap 'exit 130' INT TERM

# Wait (bounded) for both to say where they listen.
for _ in $(seq 1 150); do
  grep -q '^export DBT_CLOUD_API_TOKEN=' "$DBTLINK_HOME/emulator.env" 2>/dev/null && grep -Eq '^(export )?DBTLINK_SERVER=' "$DBTLINK_HOME/serve.env" 2>/dev/null && break
  kill -0 $emu 2>/dev/null || { cat "$DBTLINK_HOME/emulator.log" >&2; exit 1; }
  kill -0 $srv 2>/dev/null || { cat "$DBTLINK_HOME/serve.log" >&2; exit 1; }
  sleep 0.1
done
eval "$(grep '^export ' "$DBTLINK_HOME/emulator.env")"
# serve prints DBTLINK_SERVER=<url> (newer versions: export DBTLINK_SERVER=<url>).
export DBTLINK_SERVER=$(sed -En 's/^(export )?DBTLINK_SERVER=//p' "$DBTLINK_HOME/serve.env")
# The setup adds a connection, which needs the admin scope; the browser
# gets a write token.
export DBTLINK_SERVER_TOKEN=$("$BIN" token create --name demo-setup --scope admin)
login_token=$("$BIN" token create --name demo --scope write)

echo "== a connection to the emulator and its warehouse, on the server"
printf '%s\n' "$DBT_CLOUD_API_TOKEN" | "$BIN" connection add demo --host "$DBT_CLOUD_HOST" --account-id "$DBT_CLOUD_ACCOUNT_ID" --token-stdin --default
unset DBT_CLOUD_API_TOKEN DBT_CLOUD_HOST DBT_CLOUD_ACCOUNT_ID
"$BIN" warehouse add demo --type duckdb --path "$warehouse"
"$BIN" warehouse crawl demo >/dev/null
echo "== runs for the catalog: docs and freshness, then a build whose test fails"
"$BIN" job run -c demo 304 --wait >/dev/null
"$BIN" job run -c demo 302 --wait >/dev/null 2>&1 || true
"$BIN" catalog sync demo >/dev/null

echo
echo "== open $DBTLINK_SERVER/ and log in with this token (write scope):"
echo "   $login_token"
echo "   (a read token: $BIN token create --name viewer --scope read, with DBTLINK_HOME=$DBTLINK_HOME)"
echo "== Ctrl-C stops the server and the emulator"
wait $srv
