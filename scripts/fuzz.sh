#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [TARGET...] — build the libFuzzer targets (clang, in
# build-fuzz/) and run each for SECONDS (default 60) from its seed corpus in
# fuzz/corpus/<target>/, then print one line per target. New corpus entries go to
# build-fuzz/corpus/<target>/ (the seeds in the repo are only read); crashes, leaks
# and timeouts to build-fuzz/artifacts/<target>/. Exit 1 if any target found one in
# this run (older artifacts there are not counted again).
# Not part of the test command; see docs/fuzzing.md.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
ALL=(workflow policy event cli_args exam_import)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
BUILD=${CERTFLOW_FUZZ_BUILD:-build-fuzz}
JOBS=${JOBS:-$(nproc)}

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang is needed (apt-get install clang; libFuzzer comes with it)" >&2
  exit 2
fi
mkdir -p "$BUILD"
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCERTFLOW_FUZZ=ON -DCERTFLOW_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/configure.log" 2>&1 ||
  { cat "$BUILD/configure.log" >&2; exit 2; }
cmake --build "$BUILD" --target fuzz -j "$JOBS" >"$BUILD/build.log" 2>&1 ||
  { tail -40 "$BUILD/build.log" >&2; exit 2; }

# Sanitizer settings: leaks are findings; UBSan stops at the first report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
summary=()
for t in "${TARGETS[@]}"; do
  bin="$BUILD/fuzz/fuzz_$t"
  if [ ! -x "$bin" ]; then
    summary+=("$(printf '%-12s not built (no such target)' "$t")")
    status=1
    continue
  fi
  work="$BUILD/corpus/$t"
  art="$BUILD/artifacts/$t"
  mkdir -p "$work" "$art"
  stamp="$BUILD/.fuzz_$t.start"
  touch "$stamp"
  extra=()
  [ -f "fuzz/$t.dict" ] && extra=(-dict="fuzz/$t.dict")
  # The event and exam_import targets keep one engine (and its in-memory database,
  # which grows) for the whole process, so every input would look like a possible
  # leak and cost a full LSan scan; their leaks are checked once, at exit, after
  # the engine closes.
  case $t in event | exam_import) extra+=(-detect_leaks=0) ;; esac
  # The shipped workflows seed the workflow target from where they live.
  seeds=("fuzz/corpus/$t")
  [ "$t" = workflow ] && seeds+=(workflows)
  log="$BUILD/fuzz_$t.log"
  echo "fuzz.sh: running fuzz_$t for ${SECONDS_EACH}s (log: $log)"
  set +e
  # -timeout: one input may take this long (the policy loader allows 50M Lua
  # instructions per file, a few seconds under the sanitizers); -rss_limit_mb: the
  # loaders cap Lua at 64 MiB, so 2 GiB means a real runaway.
  "$bin" "$work" "${seeds[@]}" "${extra[@]}" -max_total_time="$SECONDS_EACH" -timeout=25 \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$art/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  found=$(find "$art" -type f -newer "$stamp" | wc -l)
  line=$(printf '%-12s %6ss  %9s runs  %6s exec/s  cov %5s  artifacts %s' "$t" "$SECONDS_EACH" "${execs:-?}" \
    "${speed:-?}" "${cov:-?}" "$found")
  if [ $rc -ne 0 ] || [ "$found" -gt 0 ]; then
    line="$line  FOUND (exit $rc): see $log and $art/"
    status=1
  fi
  summary+=("$line")
done

echo
echo "target       time       executions    speed   coverage"
printf '%s\n' "${summary[@]}"
exit $status
