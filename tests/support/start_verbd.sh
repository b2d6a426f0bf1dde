# Sourced by the test and load scripts: start_verbd BINARY CONFIG LOG starts
# verbd in the background and sets $pid and $port (from its "listening on"
# log line), or fails after five seconds.
start_verbd() {
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
