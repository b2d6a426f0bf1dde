#!/usr/bin/env bash
# Runs litmus, the WebDAV conformance suite (Debian package `litmus`), with
# all five of its suites, against verbd serving config/webdav.toml's plugin
# folder on the given store, on a free loopback port (for the redis store,
# with a redis-server of its own on another). Passes only when every test
# passes and none warns: 104 of 104.
#   tests/dav/litmus.sh BUILD_DIR SOURCE_DIR files|memory|redis
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
backend=$3
source "$source_dir/tests/support/start_verbd.sh"
command -v litmus >/dev/null || { echo "litmus.sh: needs litmus (apt-get install litmus)" >&2; exit 2; }

work=$(mktemp -d /tmp/verbd-litmus.XXXXXX)
pid=""
redis_pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null
  [[ -n $redis_pid ]] && kill "$redis_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

redis_settings=""
if [[ $backend == redis ]]; then
  command -v redis-server >/dev/null || { echo "litmus.sh: needs redis-server (apt-get install redis-server)" >&2; exit 2; }
  start_redis "$work/redis.log" --save "" --dir "$work"
  redis_settings="url = \"redis://127.0.0.1:$redis_port/0\""
fi

# config/webdav.toml as shipped, but on port 0, this build's plugins, a store of its own.
sed -e 's|^port = .*|port = 0|' \
    -e "s|^directory = .*|directory = \"$build/plugins-dav\"|" \
    -e "s|^backend = \"files\" |backend = \"$backend\" |" \
    -e "s|^root = .*|root = \"$work/data\"|" \
    -e 's|^fsync = true|fsync = false|' \
    "$source_dir/config/webdav.toml" >"$work/webdav.toml"
if [[ $backend != files ]]; then  # fsync and recheck_ms are the files store's
  sed -i -e '/^fsync = /d' -e '/^recheck_ms = /d' "$work/webdav.toml"
fi
if [[ -n $redis_settings ]]; then
  sed -i -e '/^root = /d' -e "s|^backend = .*|&\n$redis_settings|" "$work/webdav.toml"
fi
grep -q "^backend = \"$backend\"" "$work/webdav.toml" || { echo "litmus.sh: could not set the backend" >&2; exit 2; }
start_verbd "$build/bin/verbd" "$work/webdav.toml" "$work/log"
"$build/bin/verb" MKCOL "http://127.0.0.1:$port/dav/" --fail >/dev/null

cd "$work"
litmus "http://127.0.0.1:$port/dav/" >"$work/litmus.out" 2>&1 || true
cat "$work/litmus.out"
passed=$(awk '/summary for/ && /, 0 failed/ {for (i = 1; i <= NF; i++) if ($i == "passed,") sum += $(i - 1)} END {print sum + 0}' "$work/litmus.out")
suites=$(grep -c "summary for" "$work/litmus.out" || true)
warnings=$(grep -c "WARNING" "$work/litmus.out" || true)
errors=$(grep -c " error: " "$work/log" || true)
echo "litmus on the $backend store: ${passed:-0} of 104 passed in $suites suites, $warnings warnings; verbd logged $errors errors"
[[ ${passed:-0} == 104 && $suites == 5 && $warnings == 0 && $errors == 0 ]] || { cat "$work/log" >&2; exit 1; }
