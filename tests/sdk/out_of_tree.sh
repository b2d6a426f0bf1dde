#!/usr/bin/env bash
# Out-of-tree plugins, as their authors would make them: install the SDK,
# build sdk/examples/purge against it, drop purge.so into a running verbd and
# see PURGE go from 405 to served, and back to 405 when the file is removed;
# then build sdk/examples/lookup, which blocks on a socket, and point it at
# the same verbd: its GET is answered while the LOOKUP waits for it.
#   out_of_tree.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
source "$(dirname "$0")/../support/start_verbd.sh"
build=$1 source=$2
work=$(mktemp -d /tmp/verbd-sdk-test.XXXXXX)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$source/sdk/examples/purge" -B "$work/purge" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/purge" >/dev/null
[[ -f $work/purge/purge.so ]] || { echo "FAIL: the example did not build purge.so"; exit 1; }
cmake -S "$source/sdk/examples/lookup" -B "$work/lookup" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/lookup" >/dev/null
[[ -f $work/lookup/lookup.so ]] || { echo "FAIL: the example did not build lookup.so"; exit 1; }

mkdir -p "$work/plugins"
cp "$build"/plugins/*.so "$work/plugins/"
start_verbd_in "$build/bin/verbd" "$work"
base="http://127.0.0.1:$port"
verb() { "$build/bin/verb" "$@" --base "$base"; }
status_of() { verb PURGE /db/ -i | head -1 | cut -d' ' -f2; }
wait_for() { # status
  for _ in $(seq 40); do [[ $(status_of) == "$1" ]] && return 0; sleep 0.05; done
  echo "FAIL: PURGE never answered $1"; cat "$work/log"; exit 1
}

verb PUT /db/key -d value >/dev/null
[[ $(status_of) == 405 ]] || { echo "FAIL: PURGE served before the plugin was there"; exit 1; }
cp "$work/purge/purge.so" "$work/plugins/"
wait_for 404  # served now; /db/ was purged by the first request that got through
verb PUT /db/key -d value >/dev/null
[[ $(verb PURGE /db/) == "purged /db/" ]] || { echo "FAIL: PURGE did not purge"; exit 1; }
rm "$work/plugins/purge.so"
wait_for 405

# LOOKUP asks this very verbd for the path, with a blocking socket: one
# worker's event loop answers that GET while a pool thread waits for it.
printf '[plugins.lookup]\nbackend = "127.0.0.1:%s"\n' "$port" >>"$work/verbd.toml"
verb PUT /db/key -d value >/dev/null
cp "$work/lookup/lookup.so" "$work/plugins/"
kill -HUP "$pid"  # the new setting
for _ in $(seq 40); do [[ $(verb LOOKUP /db/key) == value ]] && break; sleep 0.05; done
[[ $(verb LOOKUP /db/key) == value ]] || { echo "FAIL: LOOKUP did not fetch /db/key"; cat "$work/log"; exit 1; }
echo "out-of-tree plugins: built against the installed SDK; PURGE went 405 -> served -> 405; LOOKUP fetched"
