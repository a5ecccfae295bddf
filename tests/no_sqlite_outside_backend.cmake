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
  # The SQLite backend (engine/store/sqlite/): the only code that speaks SQLite.
  engine/store/sqlite/open.c
  engine/store/sqlite/stmt.c
  engine/store/sqlite/schema.c
  engine/store/sqlite/txn.c
  engine/store/sqlite/rows.c
  engine/store/sqlite/timer.c
  engine/store/sqlite/mark.c
  engine/store/sqlite/history.c
  engine/store/sqlite/policy.c
  engine/store/sqlite/watch.c
  engine/store/sqlite/plugin.c
  engine/store/sqlite/migrate.c
  engine/store/sqlite/tokens.c
  engine/store/sqlite/webhooks.c
  engine/store/sqlite/copy.c
  engine/store/sqlite/sqlite_private.h
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

# libpq (the PostgreSQL backend's client library) is held to the same rule.
set(ALLOWED_PQ
  # The PostgreSQL backend (engine/store/pg/): the only code that speaks libpq.
  engine/store/pg/conn.c
  engine/store/pg/txn.c
  engine/store/pg/rows.c
  engine/store/pg/history.c
  engine/store/pg/plugin.c
  engine/store/pg/copy.c
  engine/store/pg/pg_private.h
  # The benchmark's raw libpq baseline, on tables of its own.
  bench/pgraw.c
)

set(found "")
set(found_pq "")
foreach(top engine cli program plugins include bench tests fuzz docs examples)
  if(NOT IS_DIRECTORY "${ROOT}/${top}")
    continue()
  endif()
  file(GLOB_RECURSE files RELATIVE "${ROOT}" "${ROOT}/${top}/*.c" "${ROOT}/${top}/*.h" "${ROOT}/${top}/*.cc"
       "${ROOT}/${top}/*.cpp")
  foreach(f IN LISTS files)
    if(NOT f IN_LIST ALLOWED_PQ)
      file(STRINGS "${ROOT}/${f}" pq_hits REGEX "libpq-fe\\.h|PQexec|PQprepare|PQconnectdb")
      if(NOT pq_hits STREQUAL "")
        list(GET pq_hits 0 first)
        string(STRIP "${first}" first)
        string(APPEND found_pq "\n  ${f}: ${first}")
      endif()
    endif()
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

if(found_pq)
  message(FATAL_ERROR
    "libpq used outside the PostgreSQL backend:${found_pq}\n"
    "Reach the database through engine/store/store.h; only a file with a reason goes into ALLOWED_PQ in "
    "tests/no_sqlite_outside_backend.cmake.")
endif()
if(found)
  message(FATAL_ERROR
    "SQLite used outside the storage backend:${found}\n"
    "Reach the database through engine/store/store.h (add an operation there and implement it in the "
    "SQLite backend), or, for a test that tampers with the file, use tests/sqlite_peek.h; "
    "only a file with a reason goes into ALLOWED in tests/no_sqlite_outside_backend.cmake.")
endif()
message(STATUS "no SQLite or libpq outside the storage backends and the allowed files")
