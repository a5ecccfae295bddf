#!/bin/sh
# scripts/bench-pg.sh — the PostgreSQL figures, beside SQLite's in bench/table.py's table (run by
# scripts/bench.sh), on a throw-away local server with fsync on (scripts/pg-test-cluster.sh).
# ROUNDS rounds; each prints "ROUND r" and, interleaved (certflow, then its baseline, then the
# next figure): one fire per transaction and 1,000 per batch, with synchronous_commit on and
# off, each beside raw libpq doing the fire's two statements the same way; with
# synchronous_commit=on the throughput of 1, 2 and 4 engine processes firing at different instances, and on a copy
# of a bulk-loaded database (INSTANCES instances, DUE of them due; moved to the server once
# with store copy, then cloned per round with CREATE DATABASE ... TEMPLATE) the due list, the
# peak RSS against SMALL instances, and a tick. Then the simulation (SIM_SMALL against SIM_BIG
# people, bench/simbench.py) and the policy diff over DIFF_N instances (bench/scalebench.c),
# ROUNDS rounds each, with synchronous_commit=off (SQLite runs them at synchronous=NORMAL).
# Every RESULT name is prefixed pg_ (bench/table.py puts the row beside SQLite's).
#
#   scripts/bench-pg.sh [N [INSTANCES DUE [ROUNDS [SIM_SMALL SIM_BIG [DIFF_N [SMALL]]]]]]
#       N instances x 10 events per fire figure (default 500; the processes figure gives each
#       process N/4); INSTANCES DUE default 1000000 100000 (the issue's figure); ROUNDS 3;
#       SIM 100 400; DIFF_N 2000; SMALL 1000. SIM_BIG 0 or DIFF_N 0 leaves that figure out.
#       scripts/bench.sh passes smaller sizes in its default run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CERTFLOW_BENCH_BUILD:-$root/build-benchmark}
n=${1:-500}
tick_n=${2:-1000000}
tick_due=${3:-100000}
rounds=${4:-3}
sim_small=${5:-100}
sim_big=${6:-400}
diff_n=${7:-2000}
small=${8:-1000}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCERTFLOW_BENCH=ON -DCERTFLOW_TESTS=OFF >/dev/null
cmake --build "$build" -j2 >/dev/null # cfbench, pgraw, scalebench, certflow and the shipped plugins
run=${CERTFLOW_BENCH_DIR:-$build/run}
mkdir -p "$run"
"$build/cfbench" "$run" load pgtick.db "$tick_n" "$tick_due" >/dev/null
"$build/cfbench" "$run" load pgsmall.db "$small" 0 >/dev/null
CERTFLOW_PG_FSYNC=on "$root/scripts/pg-test-cluster.sh" sh -c '
  set -eu
  b=$1; n=$2; run=$3; tick_n=$4; tick_due=$5; rounds=$6; sim_small=$7; sim_big=$8; diff_n=$9; small=${10}; root=${11}
  fresh() { dropdb --if-exists bench >/dev/null 2>&1; createdb bench; }
  echo "VERSION postgresql_server $(psql -Atc "show server_version" postgres)"
  echo "MACHINE postgresql: local server on a unix socket, fsync=on, full_page_writes=on, shared_buffers $(psql -Atc "show shared_buffers" postgres)"
  createdb tickbase
  "$b/cfbench" "$run" copy pgtick.db postgresql:///tickbase >/dev/null
  createdb smallbase
  "$b/cfbench" "$run" copy pgsmall.db postgresql:///smallbase >/dev/null
  per=$((n / 4)); [ "$per" -ge 1 ] || per=1
  r=1
  while [ "$r" -le "$rounds" ]; do
    echo "ROUND $r"
    for sc in on off; do
      export PGOPTIONS="-c synchronous_commit=$sc"
      fresh; "$b/cfbench" "$run" uri postgresql:///bench "certflow_tx_sync_$sc" "$n" 0
      fresh; "$b/pgraw" postgresql:///bench "$n" 1 | sed "s/raw_libpq/raw_libpq_tx_sync_$sc/"
    done
    for sc in on off; do
      export PGOPTIONS="-c synchronous_commit=$sc"
      fresh; "$b/cfbench" "$run" uri postgresql:///bench "certflow_batch_1000_sync_$sc" "$n" 1000
      fresh; "$b/pgraw" postgresql:///bench "$n" 1000 | sed "s/raw_libpq/raw_libpq_batch_1000_sync_$sc/"
    done
    export PGOPTIONS="-c synchronous_commit=on"
    for procs in 1 2 4; do
      fresh
      i=0; pids=""
      while [ $i -lt $procs ]; do
        "$b/cfbench" "$run" uri postgresql:///bench "certflow_tx_proc${i}_of_$procs" "$per" 0 > "$run/p$i.txt" &
        pids="$pids $!"; i=$((i + 1))
      done
      wait $pids
      cat "$run"/p*.txt | awk -v p=$procs "{ s += \$3 } END { printf \"RESULT certflow_tx_%d_processes %.6g fires/s sum_of_%d\\n\", p, s, p }"
      rm -f "$run"/p*.txt
    done
    dropdb --if-exists tick >/dev/null 2>&1; createdb -T tickbase tick
    "$b/cfbench" "$run" due_uri postgresql:///tick "$tick_n"
    "$b/cfbench" "$run" mem_uri postgresql:///tick "$tick_n" mem_large_kb
    "$b/cfbench" "$run" mem_uri postgresql:///smallbase "$small" mem_small_kb
    "$b/cfbench" "$run" tick_uri postgresql:///tick "$tick_n" "$tick_due"
    r=$((r + 1))
  done
  export PGOPTIONS="-c synchronous_commit=off"
  if [ "$sim_big" != 0 ]; then
    python3 "$root/bench/simbench.py" "$b/certflow" "$root" "$b/plugins" "$run" "$sim_small" "$sim_big" "$rounds" --pg
  fi
  if [ "$diff_n" != 0 ]; then
    fresh; "$b/scalebench" "$run" policy_diff "$diff_n" "$b/plugins" "$rounds" postgresql:///bench
  fi
' sh "$build" "$n" "$run" "$tick_n" "$tick_due" "$rounds" "$sim_small" "$sim_big" "$diff_n" "$small" "$root" |
  sed -u 's/^RESULT /RESULT pg_/'
rm -f "$run"/pgtick.db* "$run"/pgsmall.db*
