# Sourced by the test and load scripts: start_verbd BINARY CONFIG LOG starts
# verbd in the background and sets $pid and $port (from its "listening on"
# log line), or fails: at once if verbd ends, else after five seconds.
start_verbd() {
  : >"$3"  # there before the background shell opens it: sed below may look first
  "$1" --config "$2" 2>"$3" &
  pid=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$3")
    [[ -n $port ]] && return 0
    running "$pid" || break
    sleep 0.05
  done
  echo "verbd did not start:" >&2
  cat "$3" >&2
  return 1
}

# start_verbd_in BINARY FOLDER: verbd serving the plugins of FOLDER/plugins
# (made if missing), watching it, with a memory store; logs to FOLDER/log.
start_verbd_in() {
  mkdir -p "$2/plugins"
  printf '[server]\nport = 0\n[plugins]\ndirectory = "plugins"\n[store]\nbackend = "memory"\n' >"$2/verbd.toml"
  start_verbd "$1" "$2/verbd.toml" "$2/log"
}

# free_port: a port of 127.0.0.1 that nothing listens on now, for a program
# that cannot take port 0 and say which it got (redis-server, haproxy). It
# is picked at random outside the kernel's range for outgoing connections,
# where one of those could hold it until the program binds it.
free_port() {
  local low high first count port
  read -r low high </proc/sys/net/ipv4/ip_local_port_range
  if ((65535 - high >= 1000)); then first=$((high + 1)) count=$((65535 - high)); else first=10000 count=$((low - 10000)); fi
  while true; do
    port=$((first + (RANDOM * 32768 + RANDOM) % count))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
}

# wait_for_port PORT: until something listens on it, five seconds at most.
wait_for_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

# running PID: the process has not ended (a child that has ended but was not
# waited for yet is a zombie: it still has a /proc entry).
running() {
  [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# listens PID PORT: the process PID itself, not another one, listens on
# 127.0.0.1:PORT (a port from free_port may be taken between the pick and
# the bind, and then the port answers while PID has failed).
listens() {
  local inode fd
  inode=$(awk -v at="0100007F:$(printf '%04X' "$2")" '$2 == at && $4 == "0A" {print $10; exit}' /proc/net/tcp)
  [[ -n $inode ]] || return 1
  for fd in "/proc/$1/fd"/*; do
    [[ $(readlink "$fd" 2>/dev/null) == "socket:[$inode]" ]] && return 0
  done
  return 1
}

# wait_until_listens PID PORT...: until PID listens on every PORT (true), or
# has ended or five seconds have passed (false).
wait_until_listens() {
  local pid=$1 port
  shift
  for _ in $(seq 100); do
    local all=1
    for port in "$@"; do listens "$pid" "$port" || all=0; done
    ((all)) && return 0
    running "$pid" || return 1
    sleep 0.05
  done
  return 1
}

# start_redis LOG OPTION...: redis-server on a free port of 127.0.0.1 with
# these options, in the background; sets $redis_pid and $redis_port, or
# fails after three ports taken by others.
start_redis() {
  local log=$1
  shift
  for _ in 1 2 3; do
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 "$@" >>"$log" 2>&1 &
    redis_pid=$!
    wait_until_listens "$redis_pid" "$redis_port" && return 0
    kill "$redis_pid" 2>/dev/null || true
  done
  echo "redis-server did not start:" >&2
  tail -5 "$log" >&2
  return 1
}
