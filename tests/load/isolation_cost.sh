#!/usr/bin/env bash
# What running a plugin in a process of its own costs per request: the
# standard GET plugin in-process against the same plugin with
# [plugins.get] isolation = "process", one build, alternating round by round.
#
#   tests/load/isolation_cost.sh BUILD [--rounds N] [--seconds S] [--conns C]
#
# Two figures per round, both from wrk against one worker: throughput with
# C connections (the worker's CPU time per request: 1e6/rps µs), and the
# mean latency with one connection (a request's round trip). The last line
# is the median difference of each, isolated minus in-process, in µs.
set -euo pipefail
usage="usage: isolation_cost.sh BUILD [--rounds N] [--seconds S] [--conns C]"
build=$(cd "${1:?$usage}" && pwd)
shift
rounds=5 seconds=5 conns=50
source "$(dirname "$0")/common.sh"
load_options isolation_cost.sh "rounds seconds conns" "$@"
start_work_folder isolation

start() { # name isolation: sets ${name}_port
  cat >"$work/$1.toml" <<CONF
[server]
port = 0
workers = 1
[plugins]
directory = "$build/plugins"
watch = false
[plugins.get]
isolation = "$2"
[store]
root = "$work/data"
fsync = false
[log]
access = false
CONF
  start_verbd "$build/bin/verbd" "$work/$1.toml" "$work/$1.log"
  pids+=("$pid")
  printf -v "${1}_port" '%s' "$port"
}
start inprocess none
start isolated process
for p in "$inprocess_port" "$isolated_port"; do
  [[ $(curl -s "http://127.0.0.1:$p/index.html") == "HTTP GET Method (Success)" ]] ||
    { echo "isolation_cost.sh: the server on $p does not serve the file" >&2; exit 1; }
done
pgrep -f -- "--serve-plugin $build/plugins/get.so" >/dev/null ||
  { echo "isolation_cost.sh: no process of its own serves GET" >&2; exit 1; }

us_per_request() { # port: µs of the worker per request, from throughput
  wrk -t1 -c"$conns" -d"${seconds}s" "http://127.0.0.1:$1/index.html" 2>/dev/null |
    awk '/Requests\/sec/ {printf "%.2f", 1e6 / $2}'
}
latency_us() { # port: mean latency with one connection
  wrk -t1 -c1 -d"${seconds}s" "http://127.0.0.1:$1/index.html" 2>/dev/null |
    awk '/Latency/ {v = $2; u = 1; if (v ~ /ms$/) u = 1000; if (v ~ /s$/ && v !~ /[mu]s$/) u = 1e6;
                    sub(/[mu]?s$/, "", v); printf "%.1f", v * u}'
}

cpu=() lat=()
for ((i = 1; i <= rounds; i++)); do
  a=$(us_per_request "$inprocess_port"); b=$(us_per_request "$isolated_port")
  la=$(latency_us "$inprocess_port"); lb=$(latency_us "$isolated_port")
  cpu+=("$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", b - a}')")
  lat+=("$(awk -v a="$la" -v b="$lb" 'BEGIN {printf "%.1f", b - a}')")
  echo "round $i: in-process $a us/request ($la us latency), isolated $b us/request ($lb us latency)" >&2
done
echo "isolation costs $(printf '%s\n' "${cpu[@]}" | median) us per request of throughput and" \
  "$(printf '%s\n' "${lat[@]}" | median) us of latency (medians; $rounds rounds x ${seconds}s," \
  "$conns conns and 1 conn, 1 worker)"
