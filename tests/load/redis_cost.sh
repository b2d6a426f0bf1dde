#!/usr/bin/env bash
# The redis store against the files store on this machine, for the README:
# requests per second, and the CPU time each request costs verbd (all its
# processes) and Redis, for keep-alive GETs of a 26-byte resource (50
# connections) and PUTs of new 100-byte resources (8 connections). Default
# config (two workers); neither store syncs to disk (files: fsync = false;
# Redis: no AOF, no snapshots), so both measure the work, not the disk.
#   tests/load/redis_cost.sh BUILD_DIR [--rounds N] [--seconds S]
set -euo pipefail
source "$(dirname "$0")/common.sh"
build=$(cd "${1:?usage: redis_cost.sh BUILD_DIR [--rounds N] [--seconds S]}" && pwd)
shift
rounds=3 seconds=5
load_options redis_cost.sh "rounds seconds" "$@"
command -v redis-server >/dev/null || { echo "redis_cost.sh: needs redis-server" >&2; exit 2; }
start_work_folder redis-cost
start_redis "$work/redis.log" --save "" --appendonly no --dir "$work"
pids+=("$redis_pid")
write_put_script "$work/put.lua"
ticks_per_second=$(getconf CLK_TCK)

# cpu_ticks PID...: their utime + stime so far.
cpu_ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s}'; }

# measure BACKEND: "GET_RPS GET_VERBD_US GET_REDIS_US PUT_RPS PUT_VERBD_US PUT_REDIS_US".
measure() {
  local store="root = \"$work/data\"\nfsync = false"
  [[ $1 == redis ]] && store="backend = \"redis\"\nurl = \"redis://127.0.0.1:$redis_port/0\""
  printf "[server]\nport = 0\n[plugins]\ndirectory = \"%s/plugins\"\n[store]\n$store\n[log]\naccess = false\n" \
    "$build" >"$work/verbd.toml"
  start_verbd "$build/bin/verbd" "$work/verbd.toml" "$work/log"
  pids+=("$pid")
  curl -sf -X PUT --data-binary @"$work/data/index.html" "http://127.0.0.1:$port/index.html" >/dev/null
  local verbd_pids=("$pid" $(pgrep -P "$pid")) results=()
  for load in get put; do
    local script=() connections=50
    [[ $load == put ]] && script=(-s "$work/put.lua") connections=8
    local verbd_before redis_before out requests
    verbd_before=$(cpu_ticks "${verbd_pids[@]}")
    redis_before=$(cpu_ticks "$redis_pid")
    out=$(wrk -t1 -c"$connections" -d"${seconds}s" "${script[@]}" "http://127.0.0.1:$port/index.html")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    results+=("$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out")")
    for ticks in "$(($(cpu_ticks "${verbd_pids[@]}") - verbd_before))" "$(($(cpu_ticks "$redis_pid") - redis_before))"; do
      results+=("$(awk -v t="$ticks" -v r="$requests" -v hz="$ticks_per_second" 'BEGIN {printf "%.1f", t / hz * 1e6 / r}')")
    done
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo "${results[*]}"
}

declare -A figures
for ((round = 1; round <= rounds; round++)); do
  for backend in files redis; do
    read -r -a got <<<"$(measure "$backend")"
    echo "round $round, $backend: GET ${got[0]}/s (verbd ${got[1]} us, redis ${got[2]} us a request)," \
      "PUT ${got[3]}/s (verbd ${got[4]} us, redis ${got[5]} us)"
    for i in "${!got[@]}"; do figures[$backend,$i]+="${got[$i]} "; done
  done
done
for backend in files redis; do
  m() { echo "${figures[$backend,$1]}" | median; }
  echo "$backend store: keep-alive GET $(m 0)/s, CPU a request verbd $(m 1) us, redis $(m 2) us;" \
    "PUT $(m 3)/s, verbd $(m 4) us, redis $(m 5) us (medians of $rounds)"
done
