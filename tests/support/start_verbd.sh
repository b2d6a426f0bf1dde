# Sourced by the test and load scripts: start_verbd BINARY CONFIG LOG starts
# verbd in the background and sets $pid and $port (from its "listening on"
# log line), or fails after five seconds.
start_verbd() {
  : >"$3"  # there before the background shell opens it: sed below may look first
  "$1" --config "$2" 2>"$3" &
  pid=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$3")
    [[ -n $port ]] && return 0
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
