# no_sqlite_outside_backend.cmake — fails when SQLite's API (a sqlite3_ name or
# its header) appears outside the storage backend and the few files allowed
# below, each for a stated reason. Everything else reaches the database through
# engine/store/store.h (the storage interface) or the public API.
#
#   cmake -DROOT=<source dir> -P tests/no_sqlite_outside_backend.cmake
#
# A file that moves or a new backend file is added to ALLOWED by hand, on purpose.

cmake_minimum_required(VERSION 3.16)

if(NOT ROOT)
  message(FATAL_ERROR "no_sqlite_outside_backend: pass -DROOT=<source dir>")
endif()

set(ALLOWED
  # The SQLite backend: the only code that speaks SQLite and holds SQL text.
  engine/store/store.c
  engine/store/store_history.c
  engine/store/store_policy.c
  engine/store/store_watch.c
  engine/store/store_plugin.c
  engine/store/store_tokens.c
  engine/store/store_private.h
  # The SQLite backend's own unit tests: its connection, PRAGMAs, triggers and error codes.
  tests/test_store.c
  tests/test_audit.c
  # The tests' one window onto a database file, on a connection of its own.
  tests/sqlite_peek.c
  # Tamper and fault tests that need a connection of their own beyond
  # sqlite_peek: corrupting pages, fault injection on the engine's connection,
  # and holding the write lock against the engine (concurrency).
  tests/reliability/test_tamper.c
  tests/reliability/test_faults.c
  tests/reliability/test_concurrency.c
  # The benchmark's raw-SQLite baselines, on database files of their own.
  bench/cfbench.c
)

set(found "")
foreach(top engine cli program plugins include bench tests fuzz docs examples)
  if(NOT IS_DIRECTORY "${ROOT}/${top}")
    continue()
  endif()
  file(GLOB_RECURSE files RELATIVE "${ROOT}" "${ROOT}/${top}/*.c" "${ROOT}/${top}/*.h" "${ROOT}/${top}/*.cc"
       "${ROOT}/${top}/*.cpp")
  foreach(f IN LISTS files)
    if(f IN_LIST ALLOWED)
      continue()
    endif()
    file(STRINGS "${ROOT}/${f}" hits REGEX "sqlite3_|sqlite3\\.h")
    if(NOT hits STREQUAL "")
      list(GET hits 0 first)
      string(STRIP "${first}" first)
      string(APPEND found "\n  ${f}: ${first}")
    endif()
  endforeach()
endforeach()

if(found)
  message(FATAL_ERROR
    "SQLite used outside the storage backend:${found}\n"
    "Reach the database through engine/store/store.h (add an operation there and implement it in the "
    "SQLite backend), or, for a test that tampers with the file, use tests/sqlite_peek.h; "
    "only a file with a reason goes into ALLOWED in tests/no_sqlite_outside_backend.cmake.")
endif()
message(STATUS "no SQLite outside the storage backend and the allowed files")
