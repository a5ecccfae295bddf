#!/bin/sh
# scripts/bench.sh — build and run the benchmarks (bench/) and print one table with the
# ratios and the goals of issue 5. Not part of the tests.
#
#   scripts/bench.sh          default sizes: a few minutes on 2 cores
#   scripts/bench.sh --full   the sizes of issue 5: 100,000 instances x 10 events batched
#                             and in memory, 1,000,000 instances / 100,000 due timers; and of
#                             issue 13: simulate 1,000 vs 100,000 people, policy diff over 100,000
#
# Environment: CERTFLOW_BENCH_DIR (where the databases go; default build-benchmark/run
# in the source tree, i.e. the disk the repository is on), CERTFLOW_BENCH_BUILD.
# Needs cmake, a C compiler, node + npm (XState) and python3 with python3-transitions
# (apt-get install python3-transitions); a missing peer prints n/a.
set -eu

full=0
case "${1:-}" in
--full) full=1 ;;
"") ;;
*) echo "usage: scripts/bench.sh [--full]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
build=${CERTFLOW_BENCH_BUILD:-$root/build-benchmark}
work=${CERTFLOW_BENCH_DIR:-$build/run}
mkdir -p "$work"
out="$work/results.txt"
: >"$out"

if [ "$full" = 1 ]; then
    N=100000          # instances driven through 10 events: batched, raw 1000/tx, XState, Python
    TX=20000          # instances fired one transaction per fire (synchronous=NORMAL)
    FULLSYNC=300      # instances fired one transaction per fire with synchronous=FULL (fsync-bound)
    BIG=1000000 DUE=100000 SMALL=1000
    CALLS=5000000
    SIM_BIG=100000    # certflow simulate --years 3 against 1,000 people (issue 13)
    DIFF_N=100000     # live instances under a policy diff (issue 13)
else
    N=10000 TX=2000 FULLSYNC=100
    BIG=100000 DUE=10000 SMALL=1000
    CALLS=1000000
    SIM_BIG=4000 DIFF_N=10000
fi
SIM_SMALL=1000

echo "building cfbench (Release) in $build ..." >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCERTFLOW_BENCH=ON -DCERTFLOW_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null # cfbench and the shipped plugins
cfb="$build/cfbench"

# The machine, for the table.
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
fs=$(df -hT "$work" | awk 'NR == 2 {print $2 " on " $1}')
{
    echo "MACHINE $(nproc) cores, $cpu, $mem RAM; databases on $fs ($work)"
    echo "MACHINE $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$cfb" "$work" versions | sed 's/^VERSION /VERSION /'
    echo "VERSION node $(node --version 2>/dev/null || echo missing)"
    echo "MACHINE sizes: batched/peers $N instances x 10 events; 1/tx NORMAL $TX x 10; 1/tx FULL $FULLSYNC x 10;" \
        "timers $BIG instances / $DUE due; memory $BIG vs $SMALL; guard $CALLS calls;" \
        "simulate $SIM_SMALL vs $SIM_BIG people; policy diff $DIFF_N instances"
} >>"$out"

run() {
    echo "running: $*" >&2
    "$@" | tee -a "$out" >&2
}

run "$cfb" "$work" fires "$N" "$TX" "$FULLSYNC"
run "$cfb" "$work" guard "$CALLS"

if [ -d "$root/bench/xstate" ] && command -v node >/dev/null; then
    if [ ! -d "$root/bench/xstate/node_modules/xstate" ]; then
        (cd "$root/bench/xstate" && npm ci --no-audit --no-fund --silent) >&2
    fi
    run node --max-old-space-size=8192 "$root/bench/xstate/bench.mjs" "$N" || echo "xstate failed" >&2
fi
py=python3
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import transitions' 2>/dev/null && py=/usr/bin/python3
echo "VERSION python $($py -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo missing)" >>"$out"
if $py -c 'import transitions' 2>/dev/null; then
    run $py "$root/bench/python/bench.py" "$N" || echo "python failed" >&2
else
    echo "python3-transitions not installed: skipping (apt-get install python3-transitions)" >&2
fi

run "$cfb" "$work" load big.db "$BIG" "$DUE"
run "$cfb" "$work" load small.db "$SMALL" 0
run "$cfb" "$work" due big.db "$BIG"
# Memory in fresh processes: the large database, then the small one.
"$cfb" "$work" mem big.db "$BIG" mem_large_kb | tee -a "$out" >&2
"$cfb" "$work" mem small.db "$SMALL" mem_small_kb | tee -a "$out" >&2
run "$cfb" "$work" tick big.db "$BIG" "$DUE"
run "$cfb" "$work" open "$build/plugins"
# Issue 13: the simulation at SIM_SMALL and SIM_BIG people, and a policy diff over DIFF_N instances.
run python3 "$root/bench/simbench.py" "$build/certflow" "$root" "$build/plugins" "$work" "$SIM_SMALL" "$SIM_BIG"
run "$build/scalebench" "$work" policy_diff "$DIFF_N" "$build/plugins"
rm -f "$work"/big.db* "$work"/small.db*

# PostgreSQL beside SQLite (issue 13) when a server can be started on this machine
# (scripts/pg-test-cluster.sh: initdb found through pg_config or the usual folders);
# CERTFLOW_BENCH_PG=0 skips it.
if [ "${CERTFLOW_BENCH_PG:-1}" != 0 ] && [ -n "$(command -v pg_config || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ]; then
    pgn=500
    [ "$full" = 1 ] && pgn=2000
    echo "running: scripts/bench-pg.sh $pgn" >&2
    "$root/scripts/bench-pg.sh" "$pgn" 2>/dev/null | grep '^RESULT' | tee -a "$out" >&2 || echo "bench-pg failed" >&2
    echo "VERSION $(pg_config --version 2>/dev/null || echo "PostgreSQL $(ls -d /usr/lib/postgresql/*/ | head -1)")" >>"$out"
else
    echo "no PostgreSQL server binaries: the PostgreSQL rows are left out" >&2
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | sed 's/^/MACHINE /' >>"$out"
echo
python3 "$root/bench/table.py" "$out"
echo
echo "raw lines: $out"
