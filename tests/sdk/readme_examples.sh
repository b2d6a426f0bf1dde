#!/usr/bin/env bash
# README's "Write a plugin", done as a reader would: its files taken from the
# README as they are written there (each ```cpp or ```cmake block whose first
# line names its file), built against the installed SDK, the plugin's unit
# test run, the plugin dropped into a running verbd and sent the request the
# README shows, expecting the answer printed there.
#   readme_examples.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
source "$(dirname "$0")/../support/start_verbd.sh"
build=$1 source=$2
readme=$source/README.md
work=$(mktemp -d /tmp/verbd-readme-test.XXXXXX)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# "// echo.cpp: ..." starts echo.cpp; "# CMakeLists.txt" starts it;
# "# added to CMakeLists.txt" is appended to it.
mkdir -p "$work/echo"
awk -v dir="$work/echo" '
  /^```(cpp|cmake)$/ { inside = 1; file = ""; next }
  /^```$/ { inside = 0; file = ""; next }
  inside && file == "" {
    if (match($0, /^\/\/ [A-Za-z0-9_]+\.cpp:/)) { file = substr($0, 4, RLENGTH - 4); mode = "new" }
    else if ($0 == "# CMakeLists.txt") { file = "CMakeLists.txt"; mode = "new" }
    else if ($0 == "# added to CMakeLists.txt") { file = "CMakeLists.txt"; mode = "add" }
    else { inside = 0; next }
    if (mode == "new") printf "" > (dir "/" file)
  }
  inside && file != "" { print >> (dir "/" file) }
' "$readme"
for file in echo.cpp echo_test.cpp CMakeLists.txt; do
  [[ -s $work/echo/$file ]] || fail "README has no $file block"
done
grep -q "add_executable(echo_test" "$work/echo/CMakeLists.txt" || fail "README does not add echo_test to CMakeLists.txt"

cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$work/echo" -B "$work/echo/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="-Wall -Wextra -Wpedantic -Werror" >/dev/null
cmake --build "$work/echo/build" >/dev/null || fail "README's echo plugin and test do not build"
[[ -f $work/echo/build/echo.so ]] || fail "no echo.so"
"$work/echo/build/echo_test" | grep -qx "echo_test: passed" || fail "README's echo_test does not pass"

# The answer README prints after its "curl -X ECHO --data-binary hello
# localhost:8080/some/path", up to the end of that block.
expected=$(awk '/^\$ curl -X ECHO/ { on = 1; next } on && /^```$/ { exit } on' "$readme")
[[ -n $expected ]] || fail "README shows no answer to ECHO"

start_verbd_in "$build/bin/verbd" "$work"
cp "$work/echo/build/echo.so" "$work/plugins/"
for _ in $(seq 40); do
  got=$("$build/bin/verb" ECHO /some/path -d hello --base "http://127.0.0.1:$port" 2>/dev/null || true)
  [[ $got == "$expected" ]] && break
  sleep 0.05
done
[[ $got == "$expected" ]] || fail "ECHO answered '$got', README says '$expected'"
grep -q "\[plugin echo\] info: echoing /some/path" "$work/log" || fail "the plugin's log line is not in verbd's log"
echo "README's echo plugin: built, its unit test passed, served ECHO as README shows"
