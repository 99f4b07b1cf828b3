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
