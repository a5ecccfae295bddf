#!/usr/bin/env bash
# The main job: builds certflow and runs the county simulation — a seeded population of
# Peer Support Specialist applicants in six counties (San Diego among them) driven through
# the shipped workflows day by day for three virtual years — on a fresh embedded SQLite
# database (./certflow-demo.db), then shows the public registry and checks the history chain.
# Options go to the simulation: ./scripts/demo.sh --people 2000 --seed 7 --years 4
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target certflow_cli >/dev/null

db=${CERTFLOW_DEMO_DB:-./certflow-demo.db}
rm -f "$db" "$db-wal" "$db-shm"
cf() { ./build/certflow --db "$db" --workflows workflows --policies lua "$@"; }

# The simulation prints what happened (events, rejections by cause), the registry counts
# at the end, and the yearly report to the state for each simulated year.
cf simulate "$@"

printf '\n== The public registry (public fields only): suspended and revoked certifications\n'
cf registry search --status suspended
cf registry search --status revoked

csv=build/certflow-demo-registry.csv
cf registry export --format csv --out "$csv"
printf '\n== The whole registry exported to %s: %s rows\n' "$csv" "$(($(wc -l <"$csv") - 1))"

printf '\n== verify: the file, the history hash chain, every instance and timer against the history\n'
cf verify
