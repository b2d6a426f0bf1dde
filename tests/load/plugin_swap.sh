#!/usr/bin/env bash
# Replaces the GET plugin 20 times with a plain cp while wrk loads verbd
# (GET, 20 connections), adds and removes another method's plugin, and
# sends SIGHUP; then prints wrk's figures. Any non-2xx answer or socket
# error is a failure. With --isolated, the GET plugin runs in a process of
# its own (isolation = "process"), so that each replacement also ends a
# process and starts one: wrk's Max latency then shows what that costs the
# worker's other connections.
#   tests/load/plugin_swap.sh BUILD_DIR [--isolated]
set -euo pipefail
source "$(dirname "$0")/../support/start_verbd.sh"
build=$(cd "${1:?usage: plugin_swap.sh BUILD_DIR [--isolated]}" && pwd)
isolated=""
[[ ${2:-} == --isolated ]] && isolated=$'[plugins.get]\nisolation = "process"\n'
command -v wrk >/dev/null || { echo "plugin_swap.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d /tmp/verbd-swap.XXXXXX)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/plugins" "$work/data"
cp "$build"/plugins/*.so "$work/plugins/"
printf 'HTTP GET Method (Success)\n' >"$work/data/index.html"
printf '[server]\nport = 0\n[plugins]\ndirectory = "plugins"\n%s[store]\nroot = "data"\n[log]\naccess = false\n' "$isolated" >"$work/verbd.toml"
"$build/bin/verbd" --config "$work/verbd.toml" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/log")
  [[ -n $port ]] && break
  sleep 0.05
done

wrk -t2 -c20 -d6s "http://127.0.0.1:$port/index.html" >"$work/wrk" 2>&1 &
load=$!
sleep 0.5
for round in $(seq 20); do
  cp "$build/plugins/get.so" "$work/plugins/get.so"
  ((round == 5)) && cp "$build/plugins-extra/options.so" "$work/plugins/"
  ((round == 10)) && kill -HUP "$pid"
  ((round == 15)) && rm "$work/plugins/options.so"
  sleep 0.2
done
wait "$load"
kill -0 "$pid" || { echo "FAIL: verbd died"; exit 1; }
cat "$work/wrk"
echo "generations: $(grep -c 'generation [0-9]*:' "$work/log")"
if grep -q -E 'Non-2xx|Socket errors' "$work/wrk"; then
  echo "FAIL: requests failed during the swaps"
  exit 1
fi
echo "PASS: no failed request during 20 replacements of get.so, a plugin added and removed, and a SIGHUP"
