#!/usr/bin/env bash
# An out-of-tree plugin, as its author would make it: install the SDK, build
# sdk/examples/purge against it, drop purge.so into a running verbd and see
# PURGE go from 405 to served, and back to 405 when the file is removed.
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
echo "out-of-tree plugin: built against the installed SDK; PURGE went 405 -> served -> 405"
