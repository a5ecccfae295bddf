#!/usr/bin/env bash
# The main job: builds certflow and drives one Peer Support Specialist through a
# whole certification lifecycle on a virtual clock, on the embedded SQLite default
# (./certflow-demo.db), printing what happened at each step.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target certflow_cli >/dev/null

db=${CERTFLOW_DEMO_DB:-./certflow-demo.db}
rm -f "$db" "$db-wal" "$db-shm"
cf() { ./build/certflow --db "$db" --workflows workflows --policies lua "$@"; }
step() { printf '\n== %s\n' "$*"; }

step "2025-01-06: create the database and load the shipped workflows"
cf --now 2025-01-06T17:00:00Z init

step "2025-01-06: Ana starts an application in San Diego County"
id=$(cf --now 2025-01-06T17:00:00Z new certification --county san_diego --actor ana \
  --data '{"name":"Ana Reyes","birth_date":"2007-03-02","education":"high_school","lived_experience":"consumer","ethics_version":"2023-01","ethics_signed_on":"2025-01-06"}')
echo "instance $id"

step "2025-01-06: she submits it, but is 17 (APP_1) — rejected and recorded"
cf --now 2025-01-06T17:00:00Z fire "$id" submit --actor ana || true

step "2025-03-03: after her 18th birthday the same submission is accepted"
cf --now 2025-03-03T17:00:00Z fire "$id" submit --actor ana --key submit-1

step "2025-04-10: nobody reviewed it; the 30-day review deadline (APP_7) passes on tick"
cf --now 2025-04-10T08:00:00Z tick
cf --now 2025-04-10T17:00:00Z fire "$id" approve --actor reviewer

step "2025-05-20: 80 hours of core training from an approved provider"
cf --now 2025-05-20T17:00:00Z fire "$id" record_training --actor provider \
  --data '{"provider":"Peer Academy","approved_provider":true,"hours":80,"completed_on":"2025-05-15"}'

step "2025-06-02: first exam attempt fails; 2025-07-14: second attempt passes"
cf --now 2025-06-02T17:00:00Z fire "$id" exam_result --actor exam_vendor --data '{"result":"fail","score":61}'
cf --now 2025-07-14T17:00:00Z fire "$id" exam_result --actor exam_vendor --data '{"result":"pass","score":82}'
cf --now 2025-07-14T17:00:00Z show "$id"

step "upcoming deadlines within 800 days"
cf --now 2025-07-14T17:00:00Z due --within 800d

step "2027-05-01: the renewal window (90 days before expiry) has opened"
cf --now 2027-05-01T08:00:00Z tick
cf --now 2027-05-01T17:00:00Z fire "$id" renew --actor ana --data '{"ce_hours":22,"ce_law_ethics_hours":6}'

step "2029-07-20: she did not renew again; the certification expired on tick"
cf --now 2029-07-20T08:00:00Z tick
cf --now 2029-07-20T17:00:00Z show "$id"

step "the whole history, hash-chained"
cf history "$id"
cf verify
