#!/bin/sh
# scripts/bench.sh — build and run the benchmarks (bench/) and print one table: every figure as
# the median of several interleaved rounds with its spread (min–max), the ratio to its baseline
# computed per round and its median and spread, and the goals of issues 5 and 13 met or missed
# on the median ratio; SQLite and PostgreSQL side by side. Not part of the tests.
#
#   scripts/bench.sh          default sizes, 3 rounds: a few minutes on 2 cores
#   scripts/bench.sh --full   5 rounds at the sizes of issue 5 (100,000 instances x 10 events
#                             batched and in memory, 1,000,000 instances / 100,000 due timers) and
#                             of issue 13 (simulate 1,000 vs 100,000 people, policy diff over
#                             100,000 instances): hours on 2 cores, most of it the simulation
#   scripts/bench.sh --quick  tiny sizes, 2 rounds: checks that the harness runs (a minute or
#                             two); its figures mean nothing
#
# A round runs certflow and then its baseline (A B A B ...: certflow's fires, raw SQLite, XState,
# Python transitions; the guard and the bare lua_pcall; the small and the large simulation), so
# a change in the machine's load hits both sides of a ratio alike.
#
# Environment: CERTFLOW_BENCH_DIR (where the databases go; default build-benchmark/run in the
# source tree, i.e. the disk the repository is on), CERTFLOW_BENCH_BUILD,
# CERTFLOW_BENCH_ROUNDS (rounds per figure), CERTFLOW_BENCH_SIM_ROUNDS (rounds of the
# simulation, which dominates --full: default the same), CERTFLOW_BENCH_PG=0 (no PostgreSQL).
# Needs cmake, a C compiler, node + npm (XState) and python3 with python3-transitions
# (apt-get install python3-transitions); a missing peer prints n/a. PostgreSQL's rows need its
# server binaries (scripts/pg-test-cluster.sh starts a throw-away server).
set -eu

full=0
case "${1:-}" in
--full) full=1 ;;
--quick) full=-1 ;;
"") ;;
*) echo "usage: scripts/bench.sh [--full | --quick]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
build=${CERTFLOW_BENCH_BUILD:-$root/build-benchmark}
work=${CERTFLOW_BENCH_DIR:-$build/run}
mkdir -p "$work"
started=$(date +%s)
out="$work/results.txt"
: >"$out"

if [ "$full" = 1 ]; then
    ROUNDS=5
    N=100000          # instances driven through 10 events: batched, raw 1000/tx, XState, Python
    TX=20000          # instances fired one transaction per fire (synchronous=NORMAL)
    FULLSYNC=300      # instances fired one transaction per fire with synchronous=FULL (fsync-bound)
    BIG=1000000 DUE=100000 SMALL=1000
    CALLS=5000000
    SIM_SMALL=1000 SIM_BIG=100000   # certflow simulate --years 3 (issue 13)
    DIFF_N=100000     # live instances under a policy diff (issue 13)
    # PostgreSQL: N per fire figure, the tick's database, the simulation, the policy diff
    HTTP_PEOPLE=1000 HTTP_REQ=500
    PG_N=2000 PG_BIG=100000 PG_DUE=10000 PG_SIM_SMALL=1000 PG_SIM_BIG=10000 PG_DIFF_N=100000
elif [ "$full" = -1 ]; then
    ROUNDS=2
    N=500 TX=100 FULLSYNC=10
    BIG=2000 DUE=200 SMALL=100
    CALLS=100000
    SIM_SMALL=20 SIM_BIG=40 DIFF_N=200
    HTTP_PEOPLE=20 HTTP_REQ=20
    PG_N=20 PG_BIG=2000 PG_DUE=200 PG_SIM_SMALL=20 PG_SIM_BIG=40 PG_DIFF_N=200
else
    ROUNDS=3
    N=10000 TX=2000 FULLSYNC=100
    BIG=100000 DUE=10000 SMALL=1000
    CALLS=1000000
    SIM_SMALL=500 SIM_BIG=2000 DIFF_N=10000
    HTTP_PEOPLE=200 HTTP_REQ=100
    PG_N=200 PG_BIG=10000 PG_DUE=1000 PG_SIM_SMALL=50 PG_SIM_BIG=200 PG_DIFF_N=2000
fi
ROUNDS=${CERTFLOW_BENCH_ROUNDS:-$ROUNDS}
SIM_ROUNDS=${CERTFLOW_BENCH_SIM_ROUNDS:-$ROUNDS}

echo "building cfbench (Release) in $build ..." >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCERTFLOW_BENCH=ON -DCERTFLOW_TESTS=OFF >/dev/null
cmake --build "$build" -j2 >/dev/null # cfbench, scalebench, pgraw, certflow and the shipped plugins
cfb="$build/cfbench"

# The machine, for the table.
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
fs=$(df -hT "$work" | awk 'NR == 2 {print $2 " on " $1 " (" $3 " total, " $5 " free)"}')
dev=$(df "$work" | awk 'NR == 2 {print $1}')
disk=$(lsblk -ndo NAME,MODEL,ROTA "$dev" 2>/dev/null | awk '{ r = $NF == 1 ? "rotational" : "not rotational"; $NF = ""; print $0 r " (as the kernel reports it)" }' || true)
# One synchronous 4 KiB write, the cost of a durable commit on this disk (best of 3 runs of 50).
fsync_ms=$(for i in 1 2 3; do
    dd if=/dev/zero of="$work/dsync.tmp" bs=4k count=50 oflag=dsync 2>&1 | awk '/copied/ {for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) printf "%.2f\n", $(i - 1) * 1000 / 50}'
done | sort -n | head -1)
rm -f "$work/dsync.tmp"
{
    echo "MACHINE $(nproc) cores: $cpu; $mem RAM; kernel $(uname -sr)"
    echo "MACHINE disk: databases in $work, $fs${disk:+, $disk}; a synchronous 4 KiB write (dd oflag=dsync) ${fsync_ms:-?} ms"
    echo "MACHINE load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$cfb" "$work" versions
    echo "VERSION node $(node --version 2>/dev/null || echo missing)"
    echo "MACHINE sizes: batched/peers $N instances x 10 events; 1/tx NORMAL $TX x 10; 1/tx FULL $FULLSYNC x 10;" \
        "timers $BIG instances / $DUE due; memory $BIG vs $SMALL; guard $CALLS calls;" \
        "simulate $SIM_SMALL vs $SIM_BIG people; policy diff $DIFF_N instances;" \
        "$ROUNDS interleaved rounds ($SIM_ROUNDS for the simulation)"
} >>"$out"

run() {
    echo "running: $*" >&2
    "$@" | tee -a "$out" >&2
}

have_xstate=0
if [ -d "$root/bench/xstate" ] && command -v node >/dev/null; then
    if [ ! -d "$root/bench/xstate/node_modules/xstate" ]; then
        (cd "$root/bench/xstate" && npm ci --no-audit --no-fund --silent) >&2 || true
    fi
    [ -d "$root/bench/xstate/node_modules/xstate" ] && have_xstate=1
fi
py=python3
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import transitions' 2>/dev/null && py=/usr/bin/python3
echo "VERSION python $($py -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo missing)" >>"$out"
have_py=0
if $py -c 'import transitions' 2>/dev/null; then
    have_py=1
    echo "VERSION transitions $($py -c 'import transitions; print(transitions.__version__)')" >>"$out"
else
    echo "python3-transitions not installed: skipping (apt-get install python3-transitions)" >&2
fi
[ "$have_xstate" = 1 ] && echo "VERSION xstate $(node -p 'require(process.argv[1]).version' "$root/bench/xstate/node_modules/xstate/package.json")" >>"$out"

# The fires and their peers: each round certflow (1/tx NORMAL, raw; 1/tx FULL, raw; batched, raw),
# then XState, then Python transitions.
r=1
while [ "$r" -le "$ROUNDS" ]; do
    echo "ROUND $r" >>"$out"
    run "$cfb" "$work" fires "$N" "$TX" "$FULLSYNC"
    if [ "$have_xstate" = 1 ]; then
        run node --max-old-space-size=8192 "$root/bench/xstate/bench.mjs" "$N" || echo "xstate failed" >&2
    fi
    if [ "$have_py" = 1 ]; then
        run $py "$root/bench/python/bench.py" "$N" || echo "python failed" >&2
    fi
    r=$((r + 1))
done
run "$cfb" "$work" guard "$CALLS" "$ROUNDS"

# Timers and memory: one bulk load, then per round the due list, the peak RSS against the small
# database, and a tick on a fresh copy of the large one (a tick fires the due timers).
"$cfb" "$work" load big.db "$BIG" "$DUE" >&2
"$cfb" "$work" load small.db "$SMALL" 0 >&2
r=1
while [ "$r" -le "$ROUNDS" ]; do
    echo "ROUND $r" >>"$out"
    run "$cfb" "$work" due big.db "$BIG"
    # Memory in fresh processes: the large database, then the small one.
    run "$cfb" "$work" mem big.db "$BIG" mem_large_kb
    run "$cfb" "$work" mem small.db "$SMALL" mem_small_kb
    cp "$work/big.db" "$work/tick.db"
    rm -f "$work/tick.db-wal" "$work/tick.db-shm"
    run "$cfb" "$work" tick tick.db "$BIG" "$DUE"
    run "$cfb" "$work" open "$build/plugins"
    r=$((r + 1))
done
rm -f "$work"/big.db* "$work"/small.db* "$work"/tick.db*
# Issue 13: the simulation at SIM_SMALL and SIM_BIG people (interleaved per round), and a policy
# diff over DIFF_N instances.
run python3 "$root/bench/simbench.py" "$build/certflow" "$root" "$build/plugins" "$work" "$SIM_SMALL" "$SIM_BIG" "$SIM_ROUNDS"
run "$build/scalebench" "$work" policy_diff "$DIFF_N" "$build/plugins" "$ROUNDS"
# Issue 15: certflow serve over HTTP (bench/httpbench.c), registry / show / fire at 1, 4 and 16
# clients, against the C API's fire on the same database; one fresh database per round.
r=1
while [ "$r" -le "$ROUNDS" ]; do
    echo "ROUND $r" >>"$out"
    run "$build/httpbench" "$build/certflow" "$root" "$build/plugins" "$work/http.db" "$HTTP_PEOPLE" 64 "$HTTP_REQ"
    r=$((r + 1))
done
rm -f "$work"/http.db*

# PostgreSQL beside SQLite (issue 13) when a server can be started on this machine
# (scripts/pg-test-cluster.sh: initdb found through pg_config or the usual folders);
# CERTFLOW_BENCH_PG=0 skips it.
if [ "${CERTFLOW_BENCH_PG:-1}" != 0 ] && [ -x "$build/pgraw" ] &&
    [ -n "$(command -v pg_config || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ]; then
    echo "running: scripts/bench-pg.sh $PG_N $PG_BIG $PG_DUE $ROUNDS $PG_SIM_SMALL $PG_SIM_BIG $PG_DIFF_N $SMALL" >&2
    CERTFLOW_BENCH_BUILD="$build" CERTFLOW_BENCH_DIR="$work" "$root/scripts/bench-pg.sh" "$PG_N" "$PG_BIG" "$PG_DUE" "$ROUNDS" \
        "$PG_SIM_SMALL" "$PG_SIM_BIG" "$PG_DIFF_N" "$SMALL" 2>/dev/null |
        grep --line-buffered -E '^(RESULT|ROUND|VERSION|MACHINE) ' | tee -a "$out" >&2 || echo "bench-pg failed" >&2
    echo "MACHINE postgresql sizes: fires $PG_N instances x 10 events (the processes figure $PG_N/4 each);" \
        "timers $PG_BIG instances / $PG_DUE due; memory $PG_BIG vs $SMALL; simulate $PG_SIM_SMALL vs $PG_SIM_BIG people;" \
        "policy diff $PG_DIFF_N instances" >>"$out"
else
    echo "no PostgreSQL server binaries (or no libpq): the PostgreSQL rows are left out" >&2
fi

echo "MACHINE load average at end: $(cut -d' ' -f1-3 /proc/loadavg); the run took $((($(date +%s) - started + 30) / 60)) min" >>"$out"
echo
python3 "$root/bench/table.py" "$out"
echo
echo "raw lines: $out"
