#!/usr/bin/env bash
# The SQL engine's benchmark against PostgreSQL 15 on this machine, side by side:
#   bench/sql-engine.sh [--quick] [--rows N] [--join-rows N] [--json FILE]
# Starts a scratch PostgreSQL (initdb in a temporary directory, fsync on, its defaults
# otherwise), runs zizhu-sqlbench against it and ZizhuDB, prints the table, and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL server binaries not found (set PGBIN)" >&2; exit 1; }
PORT=${PGPORT_BENCH:-55499}
SCRATCH=$(mktemp -d /tmp/zizhu-bench-pg.XXXXXX)
# PostgreSQL refuses to run as root: run it as the postgres user then.
AS=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$SCRATCH"
  AS=(runuser -u postgres --)
fi
cleanup() {
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$SCRATCH/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

"${AS[@]}" "$PGBIN/initdb" -D "$SCRATCH/data" -A trust -U postgres >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$SCRATCH/data" -l "$SCRATCH/log" -w \
  -o "-p $PORT -k $SCRATCH -c listen_addresses=''" start >/dev/null

cargo build -q --release -p zizhu-bench
./target/release/zizhu-sqlbench --pg "host=$SCRATCH port=$PORT user=postgres dbname=postgres" "$@"
