#!/usr/bin/env bash
# Two builds of verbd against each other on this machine, in one run,
# alternating round by round, so that the ratio holds while the machine's
# speed drifts: what a change to the request path costs or gains.
#
#   tests/load/ab.sh BEFORE_BUILD AFTER_BUILD [--mode keepalive|close|both]
#        [--rounds N] [--seconds S] [--conns C] [--workers W] [--quota CORES]
#
# Each BUILD holds bin/verbd and plugins/*.so (Release builds). Both serve
# the same 26-byte file from the files store with fsync off. The last line
# per mode is the figure: "keepalive after/before=R (median rps: ...)".
# With --quota, each build's processes together get CORES of a core (a
# cgroup; needs root): where wrk, not verbd, is the limit (a 2-core
# machine, see server_bound.sh), this makes the rates compare the builds;
# both then run on the last processor, and wrk on the first.
set -euo pipefail
usage="usage: ab.sh BEFORE_BUILD AFTER_BUILD [--mode M] [--rounds N] [--seconds S] [--conns C] [--workers W] [--quota CORES]"
before=$(cd "${1:?$usage}" && pwd)
after=$(cd "${2:?$usage}" && pwd)
shift 2
mode=both rounds=5 seconds=5 conns=50 workers=1 quota=""
source "$(dirname "$0")/common.sh"
load_options ab.sh "mode rounds seconds conns workers quota" "$@"
start_work_folder ab
client=()

start() { # name build: sets ${name}_port
  cat >"$work/$1.toml" <<CONF
[server]
port = 0
workers = $workers
[plugins]
directory = "$2/plugins"
watch = false
[store]
root = "$work/data"
fsync = false
[log]
level = "info"
access = false
CONF
  start_verbd "$2/bin/verbd" "$work/$1.toml" "$work/$1.log"
  pids+=("$pid")
  printf -v "${1}_port" '%s' "$port"
  printf -v "${1}_pid" '%s' "$pid"
}
before_port="" after_port="" before_pid="" after_pid="" before_group="" after_group="" # set by name below
start before "$before"
start after "$after"
for p in "$before_port" "$after_port"; do
  [[ $(curl -s "http://127.0.0.1:$p/index.html") == "HTTP GET Method (Success)" ]] ||
    { echo "ab.sh: the server on $p does not serve the file" >&2; exit 1; }
done
if [[ -n $quota ]]; then
  sleep 1 # every worker process started
  cpu_group before_group before "$quota" || exit 2
  cpu_group after_group after "$quota" || exit 2
  limit_cpu "$before_group" "$before_pid"
  limit_cpu "$after_group" "$after_pid"
  # Both builds on the last processor, wrk on the first, as in
  # server_bound.sh: no round shares wrk's processor.
  pin_to_cpu "$(($(nproc) - 1))" "$before_pid"
  pin_to_cpu "$(($(nproc) - 1))" "$after_pid"
  client=(taskset -c 0)
fi

rps() { # port wrk-args...
  local port=$1; shift
  "${client[@]}" wrk -t1 -c"$conns" -d"${seconds}s" "$@" "http://127.0.0.1:$port/index.html" 2>/dev/null |
    awk '/Requests\/sec/ {printf "%d", $2}'
}

run_mode() { # name wrk-args...
  local name=$1; shift
  local rb=() ra=() ratios=()
  for ((i = 1; i <= rounds; i++)); do
    local b a
    if ((i % 2)); then b=$(rps "$before_port" "$@"); a=$(rps "$after_port" "$@")
    else a=$(rps "$after_port" "$@"); b=$(rps "$before_port" "$@"); fi
    rb+=("$b"); ra+=("$a")
    ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}')")
    echo "$name round $i: before $b rps, after $a rps" >&2
  done
  echo "$name after/before=$(printf '%s\n' "${ratios[@]}" | median) (median rps: before" \
    "$(printf '%s\n' "${rb[@]}" | median), after $(printf '%s\n' "${ra[@]}" | median);" \
    "$rounds rounds x ${seconds}s, $conns conns, $workers worker(s)${quota:+, $quota of a core each})"
}

case $mode in
  keepalive) run_mode keepalive ;;
  close) run_mode close -H 'Connection: close' ;;
  both) run_mode close -H 'Connection: close'; run_mode keepalive ;;
  *) echo "ab.sh: mode is keepalive, close or both" >&2; exit 2 ;;
esac
