#!/usr/bin/env bash
# Several verbd hosts on a Redis Cluster behind HAProxy
# (scripts/local-cluster.sh: 3 masters, 3 replicas, 3 hosts with
# wait_replicas = 1), and what README's "Several hosts" promises of them:
#  1. a host whose first listed node does not serve the store's hash slot
#     follows the cluster's MOVED redirect to the node that does;
#  2. one verbd killed with SIGKILL while writers write through HAProxy:
#     HAProxy routes around it, and every acknowledged write reads back
#     whole through every remaining host;
#  3. the Redis master of the store's slot killed with SIGKILL: the cluster
#     promotes its replica, and writes succeed again (with wait_replicas = 0
#     once the replica is promoted; with 1 once a replica follows the new
#     master again: the old master, restarted); no write acknowledged with
#     wait_replicas = 1 is lost;
#  4. the store's slot moved to another master (CLUSTER SETSLOT, MIGRATE):
#     halfway, a request that would meet a moved key is answered 503, never
#     served wrong; once moved, requests follow MOVED to the new master.
# Prints the figures; fails when a promise is broken.
#   tests/cluster/several_hosts.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
source "$source_dir/tests/support/start_verbd.sh"
work=$(mktemp -d /tmp/verbd-cluster.XXXXXX)
cluster_pid="" extra=()
cleanup() {
  local status=$?
  ((status == 0)) || show_logs
  touch "$work/stop"
  for p in "${extra[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n $cluster_pid ]] && kill "$cluster_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
# show_logs: the end of every log, for a run that fails.
show_logs() {
  local log
  for log in "$work/cluster.out" "$work"/cluster/*.log "$work"/cluster/redis-*/redis.log "$work/redirected.log"; do
    [[ -s $log ]] || continue
    echo "--- ${log#"$work"/}"
    tail -n 15 "$log"
  done
}
trap cleanup EXIT
failures=0
check() {  # check WHAT CONDITION...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}

"$source_dir/scripts/local-cluster.sh" "$build" "$work/cluster" >"$work/cluster.out" 2>&1 &
cluster_pid=$!
for _ in $(seq 300); do [[ -f $work/cluster/cluster.env ]] && break; sleep 0.1; done
[[ -f $work/cluster/cluster.env ]] || { cat "$work/cluster.out"; exit 1; }
source "$work/cluster/cluster.env"
read -r -a verbd_ports <<<"$VERBD_PORTS"
read -r -a verbd_pids <<<"$VERBD_PIDS"
read -r -a redis_ports <<<"$REDIS_PORTS"
read -r -a redis_pids <<<"$REDIS_PIDS"

# The node whose role (master or slave) serves the store's slot, as "PORT".
slot=$(redis-cli -p "${redis_ports[0]}" cluster keyslot "{verbd}:tree")
slot_master() {
  for port in "${redis_ports[@]}"; do
    redis-cli -p "$port" cluster nodes 2>/dev/null | awk -v slot="$slot" '
      $3 ~ /master/ && $3 !~ /fail/ {for (i = 9; i <= NF; i++) {split($i, r, "-"); if (r[2] == "") r[2] = r[1];
        if (slot >= r[1] && slot <= r[2]) {sub(/@.*/, "", $2); sub(/.*:/, "", $2); print $2; found = 1; exit}}}
      END {exit !found}' && return 0
  done
  return 1
}
master=$(slot_master) || { echo "no node serves slot $slot" >&2; exit 1; }
a_replica=""
for port in "${redis_ports[@]}"; do
  redis-cli -p "$port" info replication | grep -q "role:slave" && { a_replica=$port; break; }
done
[[ -n $a_replica ]] || { echo "no node is a replica" >&2; exit 1; }

check "a host names the cluster it stores in when it starts" \
  grep -qF "redis store at cluster 127.0.0.1:${redis_ports[0]} and 5 more (keys {verbd}:*)" "$work/cluster/verbd-1.log"

# 1. A host told first of a replica: every command there is MOVED on.
sed -e "s|^cluster = \[|cluster = [\"127.0.0.1:$a_replica\", |" -e 's|^wait_replicas = 1|wait_replicas = 0|' \
  "$work/cluster/verbd-1.toml" >"$work/redirected.toml"
start_verbd "$build/bin/verbd" "$work/redirected.toml" "$work/redirected.log"
extra+=("$pid")
redirected_port=$port
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary moved "http://127.0.0.1:$redirected_port/moved")
check "a host whose first node ($a_replica) is a replica follows MOVED to the slot's master ($master): PUT $code" \
  test "$code" = 201
check "what it wrote is read through another host" \
  test "$(curl -s "http://127.0.0.1:${verbd_ports[1]}/moved")" = moved

# writer NAME PORT: PUTs new resources until $work/stop exists; each one
# answered 201 goes to $work/acked-NAME as "TIME PATH", each other answer to
# $work/refused-NAME as "TIME CODE".
writer() {
  local n=0 path code
  while [[ ! -f $work/stop ]]; do
    path="/w/$1/$((n++))"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT --data-binary "$path" \
      "http://127.0.0.1:$2$path" || true)
    if [[ $code == 201 ]]; then echo "$(date +%s.%N) $path" >>"$work/acked-$1"; else echo "$(date +%s.%N) $code" >>"$work/refused-$1"; fi
  done
}

writer_pids=()
start_writer() {
  writer "$@" &
  writer_pids+=($!)
}
stop_writers() {
  touch "$work/stop"
  wait "${writer_pids[@]}" 2>/dev/null || true
  writer_pids=()
  rm -f "$work/stop"
}

# read_back PORT NAME...: how many acknowledged writes of these writers do
# not read back whole through the host at PORT.
read_back() {
  local port=$1 bad=0
  shift
  for name in "$@"; do
    [[ -f $work/acked-$name ]] || continue
    awk '{print $2}' "$work/acked-$name" >"$work/paths"
    while mapfile -t -n 200 batch && ((${#batch[@]})); do
      urls=("${batch[@]/#/http://127.0.0.1:$port}")
      got=$(curl -s -w '\n' "${urls[@]}")
      expected=$(printf '%s\n' "${batch[@]}")
      [[ $got == "$expected" ]] || bad=$((bad + $(diff <(echo "$got") <(echo "$expected") | grep -c '^>' || true)))
    done <"$work/paths"
  done
  echo "$bad"
}
count() { { cat "$@" 2>/dev/null || true; } | wc -l; }
answers() { { cat "$@" 2>/dev/null || true; } | awk '{n[$2]++} END {for (c in n) printf " %s x %d", c, n[c]}'; }

# 2. Writers through HAProxy; one host killed under them.
for w in a b c d; do start_writer "$w" "$HAPROXY_PORT"; done
sleep 2
host_killed_at=$(date +%s.%N)
kill -9 "${verbd_pids[0]}"
sleep 2
stop_writers
acked=$(count "$work"/acked-[abcd])
refused=$(count "$work"/refused-[abcd])
echo "host killed: $acked writes acknowledged through HAProxy, $refused not:$(answers "$work"/refused-[abcd])"
for port in "${verbd_ports[@]:1}"; do
  check "every acknowledged write reads back whole through the host on port $port" test "$(read_back "$port" a b c d)" = 0
done
check "HAProxy routed around the killed host: writes were acknowledged after it died" \
  test "$(awk -v t="$host_killed_at" '$1 > t + 0.5' "$work"/acked-[abcd] | wc -l)" -gt 0

# 3. The slot's master killed: writes through HAProxy (wait_replicas = 1)
# and through the redirected host (wait_replicas = 0).
for w in e f; do start_writer "$w" "$HAPROXY_PORT"; done
start_writer quick "$redirected_port"
sleep 1
master_pid=""
for i in "${!redis_ports[@]}"; do [[ ${redis_ports[$i]} == "$master" ]] && master_index=$i && master_pid=${redis_pids[$i]}; done
killed_at=$(date +%s.%N)
kill -9 "$master_pid"
new_master=""
for _ in $(seq 300); do
  new_master=$(slot_master || true)
  [[ -n $new_master && $new_master != "$master" ]] && break
  sleep 0.1
done
promoted_at=$(date +%s.%N)
redis-server "$work/cluster/redis-$((master_index + 1))/redis.conf" &
extra+=($!)
restarted_at=$(date +%s.%N)
for _ in $(seq 300); do
  [[ -n $(awk -v t="$restarted_at" '$1 > t' "$work"/acked-[ef] 2>/dev/null) ]] && break
  sleep 0.1
done
sleep 1
stop_writers
# back_after NAME...: seconds from the kill to the first write of these
# writers acknowledged after one was refused; "never" if none was.
back_after() {
  local acked=() refused=()
  for name in "$@"; do acked+=("$work/acked-$name") refused+=("$work/refused-$name"); done
  local first_refused
  first_refused=$(cat "${refused[@]}" 2>/dev/null | awk -v t="$killed_at" '$1 > t {print $1}' | sort -n | head -1)
  [[ -n $first_refused ]] || { echo never; return; }
  cat "${acked[@]}" 2>/dev/null | awk -v r="$first_refused" -v t="$killed_at" '$1 > r {print $1 - t}' | sort -n |
    awk 'NR == 1 {printf "%.1f", $1; found = 1} END {if (!found) print "never"}'
}
quick_back=$(back_after quick)
waited_back=$(back_after e f)
echo "master $master killed: replica $new_master promoted after $(awk -v a="$promoted_at" -v k="$killed_at" 'BEGIN {printf "%.1f", a - k}') s;" \
  "writes with wait_replicas = 0 acknowledged again after $quick_back s;" \
  "the old master restarted at $(awk -v a="$restarted_at" -v k="$killed_at" 'BEGIN {printf "%.1f", a - k}') s," \
  "writes with wait_replicas = 1 acknowledged again after $waited_back s;" \
  "writes answered otherwise meanwhile:$(answers "$work"/refused-[ef] "$work/refused-quick")"
check "the cluster promoted a replica" test -n "$new_master" -a "$new_master" != "$master"
check "writes with wait_replicas = 0 succeed again after the failover" test "$quick_back" != never
check "writes with wait_replicas = 1 succeed again once the master has a replica" test "$waited_back" != never
for port in "${verbd_ports[@]:1}"; do
  check "every write acknowledged with wait_replicas = 1 reads back through the host on port $port" \
    test "$(read_back "$port" a b c d e f)" = 0
done
# 4. The slot moved by hand, as redis-cli --cluster reshard does.
source_port=$(slot_master)
target_port=""
for port in "${redis_ports[@]}"; do
  [[ $port != "$source_port" ]] && redis-cli -p "$port" info replication 2>/dev/null | grep -q "role:master" &&
    { target_port=$port; break; }
done
source_id=$(redis-cli -p "$source_port" cluster myid)
target_id=$(redis-cli -p "$target_port" cluster myid)
redis-cli -p "$target_port" cluster setslot "$slot" importing "$source_id" >/dev/null
redis-cli -p "$source_port" cluster setslot "$slot" migrating "$target_id" >/dev/null
# Half the resources of writer a go first (not the tree, which a script names).
mapfile -t moving < <(awk 'NR % 2 == 0 {print "{verbd}:r:" $2}' "$work/acked-a")
redis-cli -p "$source_port" migrate 127.0.0.1 "$target_port" "" 0 5000 keys "${moving[@]}" >/dev/null
port=${verbd_ports[1]}
moved_path=$(awk 'NR == 2 {print $2}' "$work/acked-a")
kept_path=$(awk 'NR == 1 {print $2}' "$work/acked-a")
check "halfway: a resource whose key moved is answered 503" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$moved_path")" = 503
check "halfway: a resource whose key has not moved is served" \
  test "$(curl -s "http://127.0.0.1:$port$kept_path")" = "$kept_path"
while true; do
  mapfile -t rest < <(redis-cli -p "$source_port" cluster getkeysinslot "$slot" 1000 | grep .)
  ((${#rest[@]})) || break
  redis-cli -p "$source_port" migrate 127.0.0.1 "$target_port" "" 0 5000 keys "${rest[@]}" | grep -qx OK || { echo "MIGRATE failed" >&2; break; }
done
for p in "${redis_ports[@]}"; do redis-cli -p "$p" cluster setslot "$slot" node "$target_id" >/dev/null 2>&1 || true; done
for port in "${verbd_ports[@]:1}"; do
  check "moved to $target_port: every acknowledged write reads back through the host on port $port" \
    test "$(read_back "$port" a b c d e f)" = 0
done
check "moved: writes succeed on the new master" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary x "http://127.0.0.1:${verbd_ports[1]}/after-move")" = 201

echo "several_hosts.sh: $failures failed"
((failures == 0))
