#!/usr/bin/env bash
# Builds certflow twice — plainly, and under AddressSanitizer + UndefinedBehaviorSanitizer —
# with warnings as errors, and runs the whole test suite in each build; then runs the unit and
# scenario tests once more under valgrind (docs/reliability.md). Where PostgreSQL and libpq are
# installed, the whole suite includes the tests labelled "pg": the engine, policy-change and
# scenario tests again on PostgreSQL, each program under a throw-away cluster of its own
# (scripts/pg-test-cluster.sh), and the PostgreSQL backend's own tests (docs/deployment.md).
# The ASan build runs the pg tests too; valgrind keeps to the SQLite ones.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -DCERTFLOW_WERROR=ON -DCERTFLOW_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -DCERTFLOW_WERROR=ON -DCERTFLOW_SANITIZE=ON -DCERTFLOW_TESTS=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

cmake -S . -B build-vg -DCERTFLOW_WERROR=ON -DCERTFLOW_VALGRIND=ON -DCERTFLOW_TESTS=ON >/dev/null
cmake --build build-vg -j"$jobs"
ctest --test-dir build-vg -L valgrind --output-on-failure -j"$jobs"
