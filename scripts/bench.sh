#!/usr/bin/env bash
# Benchmarks behind `make bench`. Each section is self-contained; add yours
# below the last one.
set -euo pipefail
cd "$(dirname "$0")/.."

# Polling: API calls and detection lag for one triggered-and-waited run,
# dbtlink's adaptive schedule against a fixed 60 s poll (Airflow's dbt Cloud
# operator), on the emulator's fake clock (deterministic, takes seconds).
echo "== polling: adaptive vs one GET per 60 s (bench/pollbench) =="
go run ./bench/pollbench -durations 45s,3m,12m,40m

# Artifact reading: a real manifest (fivetran hubspot, dbt 1.11, shipped in
# lineage/testdata) scaled to ~100 MB, read on one core into the normalised
# model with and without code fields, the lineage graph built from it, and
# Python's json.load on the same file for comparison.
echo
echo "== reading a 100 MB manifest (bench/manifestgen + bench/artifactsbench) =="
big="${TMPDIR:-/tmp}/dbtlink_big_manifest.json"
go run ./bench/manifestgen -in lineage/testdata/hubspot_v12.json -size 100MB -o "$big"
GOMAXPROCS=1 go run ./bench/artifactsbench -file "$big"
rm -f "$big"

# Load: 10,000 runs in flight at once in the emulator (5 to 30 emulated
# minutes each; emulated time runs 6 times faster than real time, 3 times
# for the baseline), watched by one `dbtlink serve`, against one GET per run
# per 60 s (Airflow's sensor pattern) on the same runs: settle lag, dbt
# Cloud calls per run-minute, peak RSS, checked against the targets. About
# 18 minutes; SERVEBENCH_FLAGS passes flags (-quick: a 3-minute smoke run).
echo
echo "== load: 10,000 runs watched by one server vs one GET per run per 60 s (bench/servebench) =="
# shellcheck disable=SC2086
go run ./bench/servebench ${SERVEBENCH_FLAGS:-}

# Catalog: issue 8's targets. A 100 MB manifest (each copy in its own
# schemas, as relations are in a real project) with a catalog.json and
# run_results.json derived from it is synced through catalog.Service.Upload
# onto warehouse tables made for its relations (first sync < 5 s, by phase;
# a re-sync of the same files < 1 s; a re-sync with new run_results), and
# 200 searches run over 50,000 table documents (p95 < 20 ms), on SQLite and,
# when DBTLINK_TEST_POSTGRES is set, on PostgreSQL (a schema of its own,
# dropped after). Medians of 3 runs, with CPU time and load average.
echo
echo "== catalog: sync of a 100 MB manifest and search over 50,000 tables (bench/catalogbench) =="
big="${TMPDIR:-/tmp}/dbtlink_catalog_manifest.json"
go run ./bench/manifestgen -in lineage/testdata/hubspot_v12.json -size 100MB -distinct-relations -o "$big"
go run ./bench/catalogbench -manifest "$big" || echo "catalogbench: some targets missed (see FAIL above)"
rm -f "$big"
