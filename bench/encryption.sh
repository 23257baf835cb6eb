#!/usr/bin/env bash
# The cost of encryption at rest, on this machine:
#   bench/encryption.sh [--quick] [--rounds N] [--scale S] [--seconds T] [--clients C]
#
# 1. SM4-GCM and SM3 throughput of the implementation in use, on one core.
# 2. pgbench TPC-B (-M prepared) against the real zizhu server, once on a data directory with
#    encryption on and once on one initialized with --no-encryption: the two alternate (on,
#    off, on, off, ...) for N rounds, each round a fresh server process on its directory, and
#    the medians are reported with their ratio. pgbench -i is timed too.
# --quick: scale 1, 5-second runs, one round (a smoke check, not a measurement).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=3 SCALE=10 SECONDS_RUN=30 CLIENTS=8
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) ROUNDS=1 SCALE=1 SECONDS_RUN=5 ;;
    --rounds) ROUNDS=$2; shift ;;
    --scale) SCALE=$2; shift ;;
    --seconds) SECONDS_RUN=$2; shift ;;
    --clients) CLIENTS=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
command -v pgbench >/dev/null || { echo "pgbench not found (postgresql-client)" >&2; exit 1; }

cargo build -q --release -p zizhu
cargo build -q --release -p zizhu-crypto --example throughput

echo "## Cryptography on one core ($(nproc) cores, $(date -u +%Y-%m-%d))"
echo
./target/release/examples/throughput 2
echo

SCRATCH=$(mktemp -d /tmp/zizhu-bench-enc.XXXXXX)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
PORT=${ZIZHU_BENCH_PORT:-55477}
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=zizhu PGDATABASE=postgres PGPASSWORD=bench-pass

start() { # start MODE: a server on $SCRATCH/MODE
  local mode=$1 extra=()
  [ "$mode" = off ] && extra=(--no-encryption) || extra=(--master-key-file "$SCRATCH/$mode.key")
  ZIZHU_PASSWORD=bench-pass ./target/release/zizhu serve --data-dir "$SCRATCH/$mode" \
    --listen "127.0.0.1:$PORT" "${extra[@]}" 2>"$SCRATCH/$mode.log" &
  PID=$!
  for _ in $(seq 1 100); do
    grep -q "listening on" "$SCRATCH/$mode.log" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$SCRATCH/$mode.log" >&2
  exit 1
}
stop() {
  kill -TERM "$PID"
  wait "$PID" || true
  PID=
}

declare -A INIT TPS LAT
for mode in on off; do
  start "$mode"
  t0=$(date +%s.%N)
  pgbench -i -q -s "$SCALE" >/dev/null 2>&1
  INIT[$mode]=$(echo "$(date +%s.%N) - $t0" | bc)
  stop
done

for round in $(seq 1 "$ROUNDS"); do
  for mode in on off; do
    start "$mode"
    out=$(pgbench -c "$CLIENTS" -j 2 -T "$SECONDS_RUN" -M prepared 2>&1)
    stop
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
    failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
    [ -n "$tps" ] || { echo "$out" >&2; exit 1; }
    [ "${failed:-0}" = 0 ] || { echo "round $round ($mode): $failed failed transactions" >&2; exit 1; }
    TPS[$mode]+="$tps "
    LAT[$mode]+="$lat "
    echo "round $round, encryption $mode: $tps tps, average latency $lat ms" >&2
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
on=$(echo "${TPS[on]}" | median)
off=$(echo "${TPS[off]}" | median)
echo "## pgbench TPC-B, scale $SCALE, $CLIENTS clients, -M prepared, ${SECONDS_RUN}s x $ROUNDS rounds (medians)"
echo
echo "| | encryption on | encryption off | on / off |"
echo "|---|---:|---:|---:|"
printf "| TPS | %.0f | %.0f | %.2f |\n" "$on" "$off" "$(echo "$on / $off" | bc -l)"
printf "| average latency (ms) | %s | %s | |\n" "$(echo "${LAT[on]}" | median)" "$(echo "${LAT[off]}" | median)"
printf "| pgbench -i -s %s (s) | %.2f | %.2f | %.2f |\n" "$SCALE" "${INIT[on]}" "${INIT[off]}" \
  "$(echo "${INIT[on]} / ${INIT[off]}" | bc -l)"
