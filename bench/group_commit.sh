#!/usr/bin/env bash
# Group commit, ZizhuDB's transaction layer beside PostgreSQL 15, on the same machine and disk.
#
#   bench/group_commit.sh [SECONDS] [CLIENTS]      (defaults: 10 "1,16")
#
# Workload for both: each transaction updates one random row of 100,000 and commits durably
# (PostgreSQL: fsync=on, synchronous_commit=on, pgbench -M prepared). ZizhuDB is measured at
# the transaction layer (no SQL or protocol yet), so the comparison is of the commit path only.
set -euo pipefail
seconds=${1:-10}
clients=${2:-1,16}
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/zizhu-bench.XXXXXX")
chmod 755 "$scratch"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
port=55439
cleanup() {
  if [ -f "$scratch/pg/postmaster.pid" ]; then run_pg "$pgbin/pg_ctl" -D "$scratch/pg" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
# PostgreSQL refuses to run as root.
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --no-create-home postgres; fi

echo "== ZizhuDB (zizhu-txn on redb)"
(cd "$root" && cargo bench -q -p zizhu-txn --bench group_commit -- "$seconds" "$clients" "$scratch") | tee "$scratch/zizhu.txt"

echo "== PostgreSQL ($("$pgbin/postgres" --version))"
mkdir -p "$scratch/pg" && chown -R "$(id -u postgres 2>/dev/null || id -u)" "$scratch" 2>/dev/null || true
run_pg "$pgbin/initdb" -D "$scratch/pg" -A trust -U postgres >/dev/null
run_pg "$pgbin/pg_ctl" -D "$scratch/pg" -l "$scratch/pg.log" -w \
  -o "-p $port -k $scratch -c fsync=on -c synchronous_commit=on -c max_connections=100" start >/dev/null
psql_() { psql -X -q -h "$scratch" -p "$port" -U postgres "$@"; }
psql_ -c "create table accounts (id int primary key, v bigint not null)"
psql_ -c "insert into accounts select g, 0 from generate_series(0, 99999) g"
psql_ -c "vacuum analyze accounts"
cat > "$scratch/update.sql" <<'SQL'
\set id random(0, 99999)
UPDATE accounts SET v = v + 1 WHERE id = :id;
SQL
printf '%-8s %14s %14s %8s\n' clients zizhu_commits/s pg_tps ratio
for n in ${clients//,/ }; do
  tps=$(pgbench -n -h "$scratch" -p "$port" -U postgres -M prepared -c "$n" -j "$(( n < 2 ? n : 2 ))" \
        -T "$seconds" -f "$scratch/update.sql" postgres 2>/dev/null | awk '/^tps/ {print $3; exit}')
  ours=$(awk -v n="$n" '$1 == "clients="n { sub("commits_per_sec=", "", $3); print $3 }' "$scratch/zizhu.txt")
  printf '%-8s %14s %14.0f %8.2f\n' "$n" "$ours" "$tps" "$(echo "$ours / $tps" | bc -l)"
done
