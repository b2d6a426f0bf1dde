#!/usr/bin/env bash
# What a stream of slow plugin calls costs everyone else: keep-alive GETs of
# a 26-byte file (wrk, 50 connections) alone, and while 8 more connections
# keep sending REPORT /sleep/MS to the slow test plugin (each call holds a pool
# thread for MS milliseconds, the way a database call would), alternating,
# ROUNDS times. Prints each round, then the median GETs per second of each
# and their ratio (with/alone). verbd runs its default config (two workers).
#
#   tests/load/slow_plugin_cost.sh BUILD [MS]
# BUILD holds bin/verbd, plugins/*.so and test-plugins/slow.so (the `build`
# folder: test plugins are not in build-release). SECONDS_PER_ROUND (5) and
# ROUNDS (3) change the run.
set -euo pipefail
build=$(cd "${1:?usage: slow_plugin_cost.sh BUILD [MS]}" && pwd)
sleep_ms=${2:-100}
seconds=${SECONDS_PER_ROUND:-5}
rounds=${ROUNDS:-3}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
command -v wrk >/dev/null || { echo "slow_plugin_cost.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }

work=$(mktemp -d /tmp/verbd-slow.XXXXXX)
pid="" slow_pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null
  [[ -n ${slow_pid:-} ]] && kill "$slow_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/plugins" "$work/data"
cp "$build"/plugins/*.so "$build/test-plugins/slow.so" "$work/plugins/"
printf 'twenty-six bytes of data.\n' >"$work/data/a"
printf '[server]\nport = 0\n[plugins]\ndirectory = "plugins"\n[store]\nroot = "data"\n[log]\naccess = false\n' \
  >"$work/verbd.toml"
start_verbd "$build/bin/verbd" "$work/verbd.toml" "$work/log"
url="http://127.0.0.1:$port"
printf 'wrk.method = "REPORT"\nwrk.path = "/sleep/%s"\n' "$sleep_ms" >"$work/slow.lua"

gets_per_second() { wrk -t1 -c50 -d"${seconds}s" "$url/a" | awk '/Requests\/sec/ {printf "%d", $2}'; }

alone="" along=""
for ((round = 1; round <= rounds; round++)); do
  rps=$(gets_per_second)
  alone+="$rps "
  echo "round $round: GETs alone: $rps/s"
  wrk -t1 -c8 -d"$((seconds + 2))s" -s "$work/slow.lua" "$url/" >"$work/slow.out" &
  slow_pid=$!
  sleep 1  # the slow stream is under way
  rps=$(gets_per_second)
  wait "$slow_pid"
  slow_pid=""
  along+="$rps "
  slow=$(awk '/Requests\/sec/ {printf "%d", $2}' "$work/slow.out")
  echo "round $round: GETs beside $slow slow calls/s of $sleep_ms ms: $rps/s"
done
a=$(echo "$alone" | median) b=$(echo "$along" | median)
echo "GETs per second: alone $a, beside the slow calls $b, ratio $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b / a}') (medians of $rounds)"
