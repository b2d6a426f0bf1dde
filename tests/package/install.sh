#!/usr/bin/env bash
# `cmake --install` into a fresh prefix gives a verbd that starts on its
# installed config, as installed: the config names the installed plugins
# and a data folder under the prefix's var, --check passes, and the server
# answers.
#   install.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d /tmp/verbd-install-XXXXXX)
trap '((pid == 0)) || kill "$pid" 2>/dev/null; rm -rf "$prefix"' EXIT
pid=0

cmake --install "$build" --prefix "$prefix" >"$prefix.log" 2>&1 || { cat "$prefix.log"; exit 1; }
rm -f "$prefix.log"
config=$prefix/etc/verbd/verbd.toml
grep -q "^directory = \"$prefix/lib[^\"]*/verbd/plugins\"" "$config" || { echo "FAIL: plugins path in $config"; grep -n directory "$config"; exit 1; }
grep -q "^root = \"$prefix/var/lib/verbd\"" "$config" || { echo "FAIL: data path in $config"; grep -n "^root" "$config"; exit 1; }
grep -q "^directory = \"$prefix/lib[^\"]*/verbd/plugins-dav\"" "$prefix/etc/verbd/webdav.toml" || { echo "FAIL: webdav.toml"; exit 1; }

"$prefix/bin/verbd" --check --config "$config"
"$prefix/bin/verbd" --config "$config" --port 0 2>"$prefix/verbd.err" &
pid=$!
for _ in $(seq 100); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$prefix/verbd.err" | grep -o '[0-9]*$' || true)
  [[ -n $port ]] && break
  sleep 0.05
done
[[ -n $port ]] || { echo "FAIL: the installed verbd did not start"; cat "$prefix/verbd.err"; exit 1; }
"$prefix/bin/verb" PUT "http://127.0.0.1:$port/hello.txt" -d "installed" >/dev/null
[[ $("$prefix/bin/verb" GET "http://127.0.0.1:$port/hello.txt") == installed ]] || { echo "FAIL: GET"; exit 1; }
[[ -f $prefix/var/lib/verbd/hello.txt ]] || { echo "FAIL: not stored under the prefix"; exit 1; }
echo "installed under $prefix: --check passes, serves, stores in $prefix/var/lib/verbd"
