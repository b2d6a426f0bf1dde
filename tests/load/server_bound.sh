#!/usr/bin/env bash
# compare.sh's keep-alive and close runs with the servers, not wrk, as the
# limit. On a 2-core machine wrk's one thread uses a whole core against
# every server (client_share.sh), so compare.sh's rates mostly compare the
# client. Here each server (verbd, h2o, compare.sh's raw-epoll ceiling)
# runs in a cgroup of its own whose CPU quota is QUOTA of a core (default
# 0.25, for all of its workers together), so that it, not the client, runs
# out of processor time, and its rate shows how much work it does per
# request. Alternating rounds; the last two lines are the figures, as
# compare.sh prints them: "keepalive verbd/h2o=R verbd/ceiling=R (...)".
#   tests/load/server_bound.sh BUILD_DIR [--rounds N] [--seconds S]
#        [--quota CORES] [--workers W] [--mode keepalive|close|both]
# Needs root and the cgroup cpu controller (v1 or v2).
set -euo pipefail
build=$(cd "${1:?usage: server_bound.sh BUILD_DIR [--rounds N] [--seconds S] [--quota CORES] [--workers W] [--mode M]}" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
rounds=5 seconds=5 quota=0.25 workers=1 mode=both
load_options server_bound.sh "rounds seconds quota workers mode" "$@"
ceiling_source=$here/../../../shared/bench/ceiling.c
[[ -f $ceiling_source ]] || { echo "server_bound.sh: needs $ceiling_source (compare.sh's ceiling)" >&2; exit 2; }
for tool in h2o gcc curl; do command -v $tool >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q $tool >/dev/null; done

start_work_folder server-bound
chmod 755 "$work" # h2o's workers run as nobody
declare -A port group pid
for name in verbd h2o ceiling; do
  cpu_group "group[$name]" "$name" "$quota"
  port[$name]=$(free_port)
done

printf '[server]\nport = %s\nworkers = %s\n[plugins]\ndirectory = "%s/plugins"\nwatch = false\n[store]\nroot = "%s/data"\nfsync = false\n[log]\nlevel = "warn"\naccess = false\n' \
  "${port[verbd]}" "$workers" "$build" "$work" >"$work/verbd.toml"
"$build/bin/verbd" --config "$work/verbd.toml" 2>"$work/verbd.log" &
pid[verbd]=$!
start_h2o "$work/h2o" "$workers" "${port[h2o]}"
pid[h2o]=$h2o_pid
gcc -O2 -o "$work/ceiling" "$ceiling_source"
"$work/ceiling" "${port[ceiling]}" &
pid[ceiling]=$!
pids+=("${pid[verbd]}" "${pid[ceiling]}") # h2o's is added by start_h2o
for name in verbd h2o ceiling; do
  wait_for_port "${port[$name]}"
  path=/index.html
  [[ $name == ceiling ]] && path=/
  got=$(curl -s "http://127.0.0.1:${port[$name]}$path")
  [[ $got == "HTTP GET Method (Success)" || $name == ceiling ]] ||
    { echo "server_bound.sh: $name did not serve /index.html (got '$got')" >&2; exit 1; }
done
sleep 1 # every worker process started
for name in verbd h2o ceiling; do limit_cpu "${group[$name]}" "${pid[$name]}"; done
# The servers on the last processor, wrk on the first, so that in no round
# does a server share wrk's processor.
last_cpu=$(($(nproc) - 1))
for name in verbd h2o ceiling; do pin_to_cpu "$last_cpu" "${pid[$name]}"; done

rps() { # name wrk-args...
  local name=$1 path=/index.html
  shift
  [[ $name == ceiling ]] && path=/
  taskset -c 0 wrk -t1 -c50 -d"${seconds}s" "$@" "http://127.0.0.1:${port[$name]}$path" 2>/dev/null |
    awk '/Requests\/sec/ {printf "%d", $2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}'; }
run_mode() { # mode wrk-args...
  local name=$1 v h l hratios="" lratios="" rv="" rh="" rl=""
  shift
  for ((i = 1; i <= rounds; i++)); do
    v=$(rps verbd "$@") h=$(rps h2o "$@") l=$(rps ceiling "$@")
    echo "$name round $i: verbd $v rps, h2o $h rps, ceiling $l rps" >&2
    rv+="$v " rh+="$h " rl+="$l "
    hratios+="$(ratio "$v" "$h") " lratios+="$(ratio "$v" "$l") "
  done
  echo "$name verbd/h2o=$(median <<<"$hratios") verbd/ceiling=$(median <<<"$lratios")" \
    "(median rps: verbd $(median <<<"$rv"), h2o $(median <<<"$rh"), ceiling $(median <<<"$rl");" \
    "$rounds rounds x ${seconds}s, 50 conns, $workers worker(s), $quota of a core each)"
}
[[ $mode == close ]] || run_mode keepalive
[[ $mode == keepalive ]] || run_mode close -H "Connection: close"
