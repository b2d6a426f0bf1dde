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
