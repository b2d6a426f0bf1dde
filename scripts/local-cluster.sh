#!/usr/bin/env bash
# Several verbd hosts on one Redis Cluster, behind HAProxy, all on free
# ports of 127.0.0.1: to try the redis store out, and for the tests.
#   scripts/local-cluster.sh BUILD_DIR FOLDER [--hosts N]
# Starts 3 Redis masters and 3 replicas (Debian redis-server) as one
# cluster, N verbd hosts (default 3; one worker each, wait_replicas = 1)
# whose store is that cluster, and HAProxy (Debian haproxy) in front of
# them. Everything lives in FOLDER: configurations, logs, and, once every
# part answers, FOLDER/cluster.env:
#   HAPROXY_PORT, VERBD_PORTS, VERBD_PIDS, REDIS_PORTS, REDIS_PIDS
# (a node's redis.conf, in FOLDER/redis-N/, starts it again). Runs until
# SIGINT or SIGTERM, then stops what it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/support/start_verbd.sh"  # start_verbd, free_port, wait_until_listens
usage="usage: local-cluster.sh BUILD_DIR FOLDER [--hosts N]"
build=$(cd "${1:?$usage}" && pwd)
mkdir -p "${2:?$usage}"
folder=$(cd "$2" && pwd)
hosts=3
[[ ${3:-} == --hosts ]] && hosts=${4:?$usage}
for program in redis-server redis-cli haproxy; do
  command -v $program >/dev/null || { echo "local-cluster.sh: needs $program (apt-get install redis-server haproxy)" >&2; exit 2; }
done
rm -f "$folder/cluster.env"

started=()
stop_all() {
  for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 0' INT TERM

# Six nodes, each with its data and a redis.conf in a folder of its own;
# the cluster bus gets a free port too (the default, port + 10000, may not
# be). Each starts before the next picks its ports, so that none picks one
# another has taken; a port another program takes between the pick and the
# bind is picked again.
redis_ports=() redis_pids=() nodes=()
for n in 1 2 3 4 5 6; do
  mkdir -p "$folder/redis-$n"
  for attempt in 1 2 3; do
    port=$(free_port)
    bus=$(free_port)
    while [[ $bus == "$port" ]]; do bus=$(free_port); done
    rm -f "$folder/redis-$n/nodes.conf"
    cat >"$folder/redis-$n/redis.conf" <<CONF
port $port
cluster-port $bus
bind 127.0.0.1
dir $folder/redis-$n
logfile $folder/redis-$n/redis.log
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 1000
appendonly yes
appendfsync everysec
save ""
CONF
    redis-server "$folder/redis-$n/redis.conf" &
    pid=$!
    wait_until_listens "$pid" "$port" "$bus" && break
    kill "$pid" 2>/dev/null || true
    ((attempt < 3)) || { echo "local-cluster.sh: redis-server $n did not start:" >&2; tail -5 "$folder/redis-$n/redis.log" >&2; exit 1; }
  done
  started+=("$pid")
  redis_pids+=("$pid")
  redis_ports+=("$port")
  nodes+=("127.0.0.1:$port")
done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$folder/cluster-create.log"
# Every node sees the cluster whole, and every master has its replica in step
# (a write waits for it: wait_replicas = 1).
in_step() {  # in_step PORT
  local info
  info=$(redis-cli -p "$1" info replication)
  redis-cli -p "$1" cluster info | grep -q "cluster_state:ok" &&
    { grep -q "role:slave" <<<"$info" || grep -q "slave0:.*state=online" <<<"$info"; }
}
for port in "${redis_ports[@]}"; do
  for _ in $(seq 300); do in_step "$port" && break; sleep 0.1; done
  in_step "$port" || { echo "local-cluster.sh: the Redis node on $port is not in step after 30 s:" >&2;
    redis-cli -p "$port" cluster info | head -3 >&2; exit 1; }
done

seeds=$(printf '"%s", ' "${nodes[@]}")
verbd_ports=() verbd_pids=() servers=""
for ((h = 1; h <= hosts; h++)); do
  cat >"$folder/verbd-$h.toml" <<CONF
[server]
port = 0
workers = 1
[plugins]
directory = "$build/plugins"
[store]
backend = "redis"
cluster = [${seeds%, }]
wait_replicas = 1
[log]
access = false
CONF
  start_verbd "$build/bin/verbd" "$folder/verbd-$h.toml" "$folder/verbd-$h.log"
  started+=("$pid")
  verbd_pids+=("$pid")
  verbd_ports+=("$port")
  servers+="  server verbd-$h 127.0.0.1:$port check inter 200ms fall 1 rise 2"$'\n'
done

for attempt in 1 2 3; do
  haproxy_port=$(free_port)
  cat >"$folder/haproxy.cfg" <<CONF
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch
  retry-on conn-failure empty-response
frontend verbd
  bind 127.0.0.1:$haproxy_port
  default_backend hosts
backend hosts
  balance roundrobin
  option httpchk
  # A host is up while it answers and reaches the store: a HEAD of a path
  # nobody uses asks Redis, and is 404 (503 when the store is out of reach).
  http-check send meth HEAD uri /.health-check
  http-check expect rstatus ^(200|404)\$
$servers
CONF
  haproxy -f "$folder/haproxy.cfg" -db >>"$folder/haproxy.log" 2>&1 &
  pid=$!
  wait_until_listens "$pid" "$haproxy_port" && break
  kill "$pid" 2>/dev/null || true
  ((attempt < 3)) || { echo "local-cluster.sh: haproxy did not start:" >&2; tail -5 "$folder/haproxy.log" >&2; exit 1; }
done
started+=("$pid")

# Written whole under another name, then renamed: whoever waits for the
# file never reads half of it.
cat >"$folder/cluster.env.partial" <<ENV
HAPROXY_PORT=$haproxy_port
VERBD_PORTS="${verbd_ports[*]}"
VERBD_PIDS="${verbd_pids[*]}"
REDIS_PORTS="${redis_ports[*]}"
REDIS_PIDS="${redis_pids[*]}"
ENV
mv "$folder/cluster.env.partial" "$folder/cluster.env"
echo "local-cluster.sh: http://127.0.0.1:$haproxy_port/ (HAProxy) in front of verbd on ports ${verbd_ports[*]};" \
  "Redis Cluster nodes on ports ${redis_ports[*]}; files in $folder. Ctrl-C stops them."
wait
