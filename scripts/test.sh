#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test twice: a normal
# build, and one under AddressSanitizer + UndefinedBehaviorSanitizer; then the
# concurrency tests under ThreadSanitizer; then each fuzz target for a minute
# (VERBD_FUZZ_SECONDS). Compiler warnings are errors in all of them. Exits
# non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --fuzzing
jobs=$(nproc)

run_suite() { # build-dir cmake-args... [--tests REGEX] [--targets "TARGET..."]
  local dir=$1 tests="" targets=""
  shift
  local args=()
  while (($#)); do
    case $1 in
      --tests) tests=$2; shift 2 ;;
      --targets) targets=$2; shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  echo "== $dir: build${targets:+ ($targets)}"
  cmake -S . -B "$dir" -G Ninja -DVERBD_WERROR=ON "${args[@]}" >/dev/null
  # shellcheck disable=SC2086 # the targets are words
  cmake --build "$dir" -j "$jobs" ${targets:+--target $targets}
  echo "== $dir: test${tests:+ ($tests)}"
  (cd "$dir" && ctest -j "$jobs" --output-on-failure --timeout 120 ${tests:+-R "$tests"})
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-sanitize -DCMAKE_BUILD_TYPE=Debug -DVERBD_SANITIZE=address
# The concurrency tests once more under ThreadSanitizer: the stores, the
# server with two workers and many clients, worker processes that crash and
# are replaced, plugin calls on pool threads that are slow or stuck, large
# request bodies written by a thread of their own and handed to pool
# threads, response bodies handed back from them piece by piece, the
# redis store shared by several hosts, the journal of durable writes, and
# WebDAV locks and moves under concurrent requests; HTTPS, the metrics and
# the log files, written by every worker thread. Only the two test programs
# that hold those tests are built (with what they run), and with line
# tables only (-g1): a report's stack names functions, files and lines, and
# the build takes a third less time than with full debugging information.
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  run_suite build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVERBD_SANITIZE=thread \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" --targets "unit_tests integration_tests" \
  --tests 'StoreConcurrency|Journal|RedisStore|ServesManyClientsAtOnce|Durability|LivePlugins|Crashes|EachFault|SlowPlugins|PooledDispatcher|LargeBodies|StreamedResponses|BodyStream|SpoolWriter|Webdav|Https|Metrics|Logs'

# The request parser, path normalisation, the If field and the Range field under libFuzzer (clang).
echo "== build-fuzz: build"
cmake -S tests/fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
  -DVERBD_FUZZ_SECONDS="${VERBD_FUZZ_SECONDS:-60}" >/dev/null
cmake --build build-fuzz -j "$jobs"
echo "== build-fuzz: fuzz"
(cd build-fuzz && ctest -j "$jobs" --output-on-failure)
