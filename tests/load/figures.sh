#!/usr/bin/env bash
# The performance figures that ../shared/bench/compare.sh does not measure,
# for verbd, nginx and h2o on this machine, one worker each, alternating,
# median of N rounds: pipelined GET (depth 16), a 1 MiB GET, p99 latency at
# 50 connections, the CPU time each server spends per request (keep-alive,
# and one connection per request), and resident memory per idle keep-alive
# connection (5,000 of them) of the process that holds them (verbd's
# worker, not its supervisor).
#
#   tests/load/figures.sh BUILD_DIR [ROUNDS]
#
# BUILD_DIR is a Release build (bin/verbd, plugins/). Needs wrk, nginx, h2o,
# python3 and curl (installed with apt-get when missing).
set -euo pipefail
build=$(cd "${1:?usage: figures.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"

for tool in wrk nginx h2o python3 curl; do
  command -v $tool >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    "$([[ $tool == nginx ]] && echo nginx-light || echo $tool)" >/dev/null
done

work=$(mktemp -d /tmp/verbd-figures.XXXXXX)
chmod 755 "$work"  # nginx's workers run as nobody: a private folder would make every answer 403
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n 20000 2>/dev/null || true

mkdir -p "$work/data"
printf 'HTTP GET Method (Success)\n' >"$work/data/index.html"
head -c $((1024 * 1024)) /dev/urandom >"$work/data/big.bin"
cat >"$work/verbd.toml" <<CONF
[server]
port = 0
workers = 1
[limits]
idle_timeout_ms = 600000
[plugins]
directory = "$build/plugins"
watch = false
[store]
root = "$work/data"
fsync = false
[log]
level = "info"
access = false
CONF
start_verbd "$build/bin/verbd" "$work/verbd.toml" "$work/verbd.log"
pids+=("$pid")
vpid=$(pgrep -P "$pid" -o) vport=$port  # the worker process, which holds the connections

nport=$(free_port)
start_nginx "$work/ngx" 8192 "  access_log off;
  keepalive_timeout 600s;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$nport; root $work/data; location / { } }" "$nport"
npid=$(pgrep -P "$nginx_pid" -o)

hport=$(free_port)
start_h2o "$work/h2o" 1 "$hport" "http1-request-timeout: 600
max-connections: 8192" || exit 1
hpid=$h2o_pid
chmod -R a+rX "$work/data"
for server in "$vport" "$nport" "$hport"; do
  served=$(curl -s "http://127.0.0.1:$server/index.html")
  [[ $served == "HTTP GET Method (Success)" ]] || { echo "figures.sh: port $server served '$served'" >&2; exit 1; }
done

cat >"$work/pipeline.lua" <<'LUA'
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/index.html") end
  req = table.concat(r)
end
request = function() return req end
LUA

rps() { wrk -t1 -c50 -d5s "$@" 2>/dev/null | awk '/Requests\/sec/ {printf "%d", $2}'; }
transfer() { wrk -t1 -c10 -d5s "$@" 2>/dev/null | awk '/Transfer\/sec/ {v=$2; u=substr(v, length(v)-1); n=v+0;
  if (u == "GB") n *= 1024; if (u == "KB") n /= 1024; printf "%d", n}'; }
p99() { wrk -t1 -c50 -d5s --latency "$@" 2>/dev/null | awk '$1 == "99%" {v=$2; n=v+0; if (v ~ /ms$/) n *= 1000;
  else if (v ~ /[0-9]s$/) n *= 1000000; printf "%d", n}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

compare() { # name unit measure path args-after-url...
  local name=$1 unit=$2 measure=$3 path=$4; shift 4
  local v=() n=() h=()
  for ((i = 1; i <= rounds; i++)); do
    v+=("$($measure "http://127.0.0.1:$vport$path" "$@")")
    n+=("$($measure "http://127.0.0.1:$nport$path" "$@")")
    h+=("$($measure "http://127.0.0.1:$hport$path" "$@")")
  done
  local mv mn mh
  mv=$(printf '%s\n' "${v[@]}" | median); mn=$(printf '%s\n' "${n[@]}" | median); mh=$(printf '%s\n' "${h[@]}" | median)
  echo "$name: verbd $mv $unit, nginx $mn $unit, h2o $mh $unit," \
    "verbd/nginx=$(ratio "$mv" "$mn") verbd/h2o=$(ratio "$mv" "$mh")"
}

compare "pipelined GET, depth 16" rps rps /index.html -s "$work/pipeline.lua"
compare "1 MiB GET" MiB/s transfer /big.bin
compare "p99 latency, 50 connections" us p99 /index.html

# CPU per request: the server's utime + stime over a 5 s wrk run, divided by
# the requests answered. On two cores, wrk's one thread is what limits a run
# with one connection per request (every server answers about as many, each
# using part of a core), so the rate compares the client, and this figure
# compares the servers.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_per_request() { # pid url wrk-args...: microseconds
  local pid=$1 url=$2 before rate
  shift 2
  before=$(cpu_ticks "$pid")
  rate=$(wrk -t1 -c50 -d5s "$@" "$url" 2>/dev/null | awk '/Requests\/sec/ {print $2}')
  awk -v ticks=$(($(cpu_ticks "$pid") - before)) -v hz="$(getconf CLK_TCK)" -v rate="$rate" \
    'BEGIN {printf "%.2f", ticks / hz * 1e6 / (rate * 5)}'
}
compare_cpu() { # name wrk-args...
  local name=$1 v=() n=() h=()
  shift
  for ((i = 1; i <= rounds; i++)); do
    v+=("$(cpu_per_request "$vpid" "http://127.0.0.1:$vport/index.html" "$@")")
    n+=("$(cpu_per_request "$npid" "http://127.0.0.1:$nport/index.html" "$@")")
    h+=("$(cpu_per_request "$hpid" "http://127.0.0.1:$hport/index.html" "$@")")
  done
  local mv mn mh
  mv=$(printf '%s\n' "${v[@]}" | median); mn=$(printf '%s\n' "${n[@]}" | median); mh=$(printf '%s\n' "${h[@]}" | median)
  echo "$name: verbd $mv us, nginx $mn us, h2o $mh us," \
    "verbd/nginx=$(ratio "$mv" "$mn") verbd/h2o=$(ratio "$mv" "$mh") (less is better)"
}
compare_cpu "CPU per request, keep-alive, 50 connections"
compare_cpu "CPU per request, one connection per request, 50 connections" -H "Connection: close"

idle_kib() { # pid port: resident KiB per connection for 5000 idle keep-alive connections
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
pid, port = sys.argv[1], int(sys.argv[2])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])
warm = []
for _ in range(50):
    s = socket.create_connection(("127.0.0.1", port)); warm.append(s)
    s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"); s.recv(4096)
time.sleep(0.3); before = rss()
conns = []
for _ in range(5000):
    s = socket.create_connection(("127.0.0.1", port)); conns.append(s)
    s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
for s in conns:
    s.recv(4096)
time.sleep(0.5)
print(f"{(rss() - before) / 5000:.2f}")
PY
}
echo "idle keep-alive connections (5000, after one GET each): verbd $(idle_kib "$vpid" "$vport") KiB each," \
  "nginx $(idle_kib "$npid" "$nport") KiB each, h2o $(idle_kib "$hpid" "$hport") KiB each"
