#!/usr/bin/env bash
# How soon a crashed worker is serving again: verbd with the default
# workers and processes (2 and 2) and the crash test plugin; N times, a
# request crashes a worker, then new connections ask which worker answers
# them until the replacement does. Prints, per crash, the milliseconds from
# the crashed request's end to the replacement's first answer on a new
# connection, and the supervisor's own "restarted ... in N ms"; then the
# median and the worst of the first figure.
#
#   tests/load/crash_recovery.sh BUILD [--crashes N]
# BUILD holds bin/verbd, plugins/*.so and test-plugins/crash.so.
set -euo pipefail
build=$(cd "${1:?usage: crash_recovery.sh BUILD [--crashes N]}" && pwd)
crashes=20
[[ ${2:-} == --crashes ]] && crashes=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/start_verbd.sh"

work=$(mktemp -d /tmp/verbd-recovery.XXXXXX)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/plugins" "$work/data"
cp "$build"/plugins/*.so "$build/test-plugins/crash.so" "$work/plugins/"
cat >"$work/verbd.toml" <<CONF
[server]
port = 0
[plugins]
directory = "plugins"
quarantine_after = 1000
[store]
root = "data"
fsync = false
[log]
access = false
CONF
start_verbd "$build/bin/verbd" "$work/verbd.toml" "$work/log"
url="http://127.0.0.1:$port"
now_ms() { date +%s.%N | awk '{printf "%.2f", $1 * 1000}'; }

times=()
for ((n = 1; n <= crashes; n++)); do
  known=" $(for _ in 1 2 3 4 5 6 7 8; do curl -s -X CRASH "$url/pid"; echo -n " "; done) "
  curl -s -X CRASH "$url/null" >/dev/null || true
  crashed=$(now_ms)
  while :; do  # until a worker not seen before answers: the replacement
    answer=$(curl -s -X CRASH "$url/pid" || true)
    [[ -n $answer && $known != *" $answer "* ]] && break
  done
  took=$(awk -v a="$(now_ms)" -v b="$crashed" 'BEGIN {printf "%.1f", a - b}')
  restart=$(grep -o 'restarted as pid [0-9]* in [0-9]* ms' "$work/log" | sed -n "${n}p" | awk '{print $6}')
  echo "crash $n: replacement answered a new connection after $took ms; supervisor: restarted in ${restart:-?} ms"
  times+=("$took")
done
printf '%s\n' "${times[@]}" | sort -n |
  awk '{a[NR]=$1} END {printf "crash to first answer from the replacement: median %.1f ms, worst %.1f ms (%d crashes)\n", (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2, a[NR], NR}'
