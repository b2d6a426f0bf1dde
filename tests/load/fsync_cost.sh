#!/usr/bin/env bash
# PUTs per second to the files store with fsync on and off (wrk, 8
# connections, a new 100-byte resource per request), for the README.
#   tests/load/fsync_cost.sh BUILD_DIR [SECONDS]
set -euo pipefail
source "$(dirname "$0")/../support/start_verbd.sh"
build=$(cd "${1:?usage: fsync_cost.sh BUILD_DIR [SECONDS]}" && pwd)
seconds=${2:-5}
command -v wrk >/dev/null || { echo "fsync_cost.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d /tmp/verbd-fsync.XXXXXX)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cat >"$work/put.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("PUT", "/bench/" .. math.random(1, 1e9) .. "-" .. n, nil, string.rep("x", 100))
end
LUA
for fsync in true false; do
  rm -rf "$work/data"
  printf '[server]\nport = 0\n[plugins]\ndirectory = "%s/plugins"\n[store]\nroot = "data"\nfsync = %s\n[log]\naccess = false\n' \
    "$build" "$fsync" >"$work/verbd.toml"
  start_verbd "$build/bin/verbd" "$work/verbd.toml" "$work/log"
  rps=$(wrk -t1 -c8 -d"${seconds}s" -s "$work/put.lua" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {printf "%d", $2}')
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  echo "fsync = $fsync: $rps PUTs/s"
done
