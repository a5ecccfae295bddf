#!/bin/sh
# scripts/bench-pg.sh — the PostgreSQL figures of docs/deployment.md, on a throw-away local
# server with fsync on (scripts/pg-test-cluster.sh): one fire per transaction and 1,000 per
# batch, with synchronous_commit on and off, beside raw libpq doing the fire's two statements;
# and the throughput of 1, 2 and 4 engine processes firing at different instances; and a tick
# of DUE due timers among INSTANCES pending ones (a bulk-loaded file moved to the server with
# store copy, whose time is printed too).
#
#   scripts/bench-pg.sh [N [INSTANCES DUE]]   N instances x 10 events per run (default 500);
#                                             the tick over INSTANCES, DUE of them due
#                                             (default 1000000 100000: the issue's figure)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CERTFLOW_BENCH_BUILD:-$root/build-benchmark}
n=${1:-500}
tick_n=${2:-1000000}
tick_due=${3:-100000}
cmake -S "$root" -B "$build" -DCERTFLOW_BENCH=ON -DCERTFLOW_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target cfbench pgraw >/dev/null
mkdir -p "$build/run"
rm -f "$build/run/tick.db" "$build/run/tick.db-wal" "$build/run/tick.db-shm"
"$build/cfbench" "$build/run" load tick.db "$tick_n" "$tick_due"
CERTFLOW_PG_FSYNC=on exec "$root/scripts/pg-test-cluster.sh" sh -c '
  b=$1; n=$2; run=$3
  fresh() { dropdb --if-exists bench >/dev/null 2>&1; createdb bench; }
  for sc in on off; do
    export PGOPTIONS="-c synchronous_commit=$sc"
    fresh; "$b/cfbench" "$run" uri postgresql:///bench "certflow_tx_sync_$sc" "$n" 0
    fresh; "$b/pgraw" postgresql:///bench "$n" 1 | sed "s/raw_libpq/raw_libpq_tx_sync_$sc/"
    fresh; "$b/cfbench" "$run" uri postgresql:///bench "certflow_batch_1000_sync_$sc" "$n" 1000
    fresh; "$b/pgraw" postgresql:///bench "$n" 1000 | sed "s/raw_libpq/raw_libpq_batch_1000_sync_$sc/"
  done
  export PGOPTIONS="-c synchronous_commit=on"
  for procs in 1 2 4; do
    fresh
    i=0; pids=""
    while [ $i -lt $procs ]; do
      "$b/cfbench" "$run" uri postgresql:///bench "certflow_tx_proc${i}_of_$procs" "$n" 0 > "$run/p$i.txt" &
      pids="$pids $!"; i=$((i + 1))
    done
    wait $pids
    cat "$run"/p*.txt | awk -v p=$procs "{ s += \$3 } END { printf \"RESULT certflow_tx_%d_processes %.6g fires/s sum_of_%d\\n\", p, s, p }"
    rm -f "$run"/p*.txt
  done
  fresh
  "$b/cfbench" "$run" copy tick.db postgresql:///bench
  "$b/cfbench" "$run" tick_uri postgresql:///bench "$4" "$5"
' sh "$build" "$n" "$build/run" "$tick_n" "$tick_due"
