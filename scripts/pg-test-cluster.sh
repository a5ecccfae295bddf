#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster, runs a command against it, then stops and
# deletes the cluster, whatever the command's result (which is this script's).
#
#   scripts/pg-test-cluster.sh COMMAND [ARGS...]
#
# The cluster lives in a fresh temporary folder: initdb into it, the server listens
# only on a unix socket in that folder (no TCP port), fsync is off (the data is thrown
# away). The command runs with PGHOST, PGPORT, PGUSER and PGDATABASE pointing at it,
# and CERTFLOW_TEST_DB=postgresql, which tells the tests to run on PostgreSQL
# (tests/testutil.c makes a fresh database per test through createdb).
#
# As root (CI containers), the server runs as the user `postgres` (initdb refuses root).
# CERTFLOW_PG_FSYNC=on keeps fsync on (the benchmark's figures, scripts/bench-pg.sh).
set -euo pipefail

bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir=$(pg_config --bindir)
fi
if [ -z "$bindir" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg-test-cluster: no PostgreSQL server found (install the postgresql package: scripts/install-deps.sh)" >&2
  exit 2
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/certflow-pg.XXXXXX")
as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$dir"
  chmod 755 "$dir"
  as=(runuser -u postgres --)
fi

stop() {
  "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as[@]}" "$bindir/initdb" -D "$dir/data" -U certflow --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 2; }
"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-k $dir -c listen_addresses= -c fsync=${CERTFLOW_PG_FSYNC:-off} -c full_page_writes=${CERTFLOW_PG_FSYNC:-off} -c max_connections=200" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 2; }

# A command the fault tests run to restart the server under a connected engine.
cat >"$dir/restart" <<RESTART
#!/bin/sh
exec ${as[*]} "$bindir/pg_ctl" -D "$dir/data" -m fast -w restart >/dev/null 2>&1
RESTART
chmod 755 "$dir/restart"

export PGHOST="$dir" PGPORT=5432 PGUSER=certflow PGDATABASE=postgres
export CERTFLOW_PG_RESTART="$dir/restart"
export CERTFLOW_TEST_DB=postgresql
export CERTFLOW_PG_BINDIR="$bindir"
"$@"
