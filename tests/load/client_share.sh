#!/usr/bin/env bash
# Which side limits compare.sh's rates on this machine: for verbd, h2o,
# compare.sh's raw-epoll ceiling and its io_uring twin (ceiling_uring.c: one
# system call per loop for every connection's sends and receives), each with
# one thread, the requests a second and the share of a core that the server
# and wrk's one thread used (utime + stime over the middle 3 s of a 6 s run,
# 1.00 = a whole core), keep-alive and one connection per request, medians
# of N rounds. When wrk is at a whole core whichever server it talks to, the
# rates compare the client, and the server's share (or figures.sh's CPU per
# request) compares the servers.
#   tests/load/client_share.sh BUILD_DIR [ROUNDS]
set -euo pipefail
build=$(cd "${1:?usage: client_share.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
ceiling_source=$here/../../../shared/bench/ceiling.c
source "$here/common.sh"
for tool in h2o gcc; do command -v $tool >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q $tool >/dev/null; done
[[ -f /usr/include/liburing.h ]] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q liburing-dev >/dev/null
[[ -f $ceiling_source ]] || { echo "client_share.sh: needs $ceiling_source (compare.sh's ceiling)" >&2; exit 2; }
start_work_folder client-share
chmod 755 "$work"  # h2o's workers run as nobody
gcc -O2 -o "$work/ceiling" "$ceiling_source"
gcc -O2 -o "$work/ceiling_uring" "$here/ceiling_uring.c" -luring

printf '[server]\nport = 0\nworkers = 1\n[plugins]\ndirectory = "%s/plugins"\nwatch = false\n[store]\nroot = "%s/data"\nfsync = false\n[log]\naccess = false\n' \
  "$build" "$work" >"$work/verbd.toml"
start_verbd "$build/bin/verbd" "$work/verbd.toml" "$work/verbd.log"
pids+=("$pid")
declare -A server_pid server_port
server_pid[verbd]=$(pgrep -P "$pid" -o) server_port[verbd]=$port
server_port[h2o]=$(free_port)
start_h2o "$work/h2o" 1 "${server_port[h2o]}"
server_pid[h2o]=$h2o_pid
for name in ceiling ceiling_uring; do
  server_port[$name]=$(free_port)
  "$work/$name" "${server_port[$name]}" &
  server_pid[$name]=$!
  pids+=("$!")
done
servers=(verbd h2o ceiling ceiling_uring)
for name in "${servers[@]}"; do wait_until_listens "${server_pid[$name]}" "${server_port[$name]}"; done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# measure NAME WRK-ARGS...: "rps server-share wrk-share"
measure() {
  local name=$1 pid=${server_pid[$1]} hz server wrk_pid client
  shift
  hz=$(getconf CLK_TCK)
  wrk -t1 -c50 -d6s "$@" "http://127.0.0.1:${server_port[$name]}/index.html" >"$work/wrk.out" 2>&1 &
  wrk_pid=$!
  sleep 1.5
  server=$(ticks "$pid") client=$(ticks "$wrk_pid")
  sleep 3
  server=$(($(ticks "$pid") - server)) client=$(($(ticks "$wrk_pid") - client))
  wait "$wrk_pid"
  echo "$(awk '/Requests\/sec/ {print int($2)}' "$work/wrk.out")" \
    "$(awk -v t="$server" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz / 3}')" \
    "$(awk -v t="$client" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz / 3}')"
}
for mode in keepalive close; do
  args=()
  [[ $mode == close ]] && args=(-H "Connection: close")
  declare -A rps=() share=() client=()
  for ((round = 1; round <= rounds; round++)); do
    for name in "${servers[@]}"; do
      read -r r s c < <(measure "$name" "${args[@]}")
      rps[$name]+="$r " share[$name]+="$s " client[$name]+="$c "
    done
  done
  for name in "${servers[@]}"; do
    echo "$mode $name: $(median <<<"${rps[$name]}") req/s, server $(median <<<"${share[$name]}") of a core," \
      "wrk $(median <<<"${client[$name]}") of a core (medians of $rounds)"
  done
done
