#!/usr/bin/env bash
# Responses a plugin sends as it makes them (response_send), for the README:
#   tests/load/streamed_response.sh BUILD_DIR [--size_mib 1024] [--slow_mib 128]
# The test plugin STREAM (BUILD_DIR/test-plugins/stream.so: a build with
# tests) makes SIZE MiB in
# 64 KiB pieces:
# 1. to a client that reads as fast as it can: MiB/s, beside a GET of a
#    stored file of the same size (sent with sendfile) as the reference;
# 2. to a client that reads 16 MiB/s, SLOW MiB of it: how much the peak
#    resident memory (VmHWM) of the worker grows while the plugin waits for
#    it (the host holds at most 256 KiB per response);
# and each body's length and its sha256 against what the plugin makes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
build=$(cd "${1:?usage: streamed_response.sh BUILD_DIR [--size_mib N] [--slow_mib N]}" && pwd)
shift
size_mib=1024 slow_mib=128
load_options streamed_response.sh "size_mib slow_mib" "$@"
start_work_folder streamed-response

mkdir -p "$work/plugins"
cp "$build/test-plugins/stream.so" "$build/plugins/get.so" "$work/plugins/"
printf '[server]\nport = 0\nworkers = 1\n[plugins]\ndirectory = "%s/plugins"\n[store]\nroot = "data"\nfsync = false\n[log]\naccess = false\n' \
  "$work" >"$work/verbd.toml"
start_verbd "$build/bin/verbd" "$work/verbd.toml" "$work/verbd.log"
pids+=("$pid")
worker=$(pgrep -P "$pid" | head -1)

pieces=$((size_mib * 16))
# What the plugin makes: piece i is 65536 times the letter 'a' + i % 26.
python3 - "$pieces" "$work/data/same" <<'PY'
import sys
with open(sys.argv[2], "wb") as out:
    for i in range(int(sys.argv[1])):
        out.write(bytes([ord("a") + i % 26]) * 65536)
PY
made=$(sha256sum <"$work/data/same" | cut -d' ' -f1)

fetch() { # METHOD URL [curl options]: "seconds bytes sha256"
  local method=$1 url=$2
  shift 2
  local timing
  timing=$(curl -s -X "$method" "$@" -o "$work/got" -w '%{time_total} %{size_download}' "$url")
  echo "$timing $(sha256sum <"$work/got" | cut -d' ' -f1)"
}
mibps() { awk -v m="$1" -v s="$2" 'BEGIN {printf "%.0f", m / s}'; }
check() { # "seconds bytes sha" expected-bytes expected-sha
  read -r _ bytes sha <<<"$1"
  [[ $bytes == "$2" && $sha == "$3" ]] || { echo "wrong body: $bytes bytes, sha256 $sha" >&2; exit 1; }
}

# 1. As fast as the client reads.
streamed=$(fetch STREAM "http://127.0.0.1:$port/pieces/$pieces/65536")
check "$streamed" $((size_mib * 1048576)) "$made"
stored=$(fetch GET "http://127.0.0.1:$port/same")
check "$stored" $((size_mib * 1048576)) "$made"
echo "${size_mib} MiB made in 64 KiB pieces: $(mibps "$size_mib" "${streamed%% *}") MiB/s; the same stored, sent with sendfile: $(mibps "$size_mib" "${stored%% *}") MiB/s"

# 2. To a client slower than the plugin.
slow_pieces=$((slow_mib * 16))
echo 5 >"/proc/$worker/clear_refs"
before=$(awk '/VmHWM/ {print $2}' "/proc/$worker/status")
slow=$(fetch STREAM "http://127.0.0.1:$port/pieces/$slow_pieces/65536" --limit-rate 16M)
after=$(awk '/VmHWM/ {print $2}' "/proc/$worker/status")
read -r seconds bytes _ <<<"$slow"
[[ $bytes == $((slow_mib * 1048576)) ]] || { echo "slow client: $bytes bytes" >&2; exit 1; }
echo "${slow_mib} MiB to a client reading 16 MiB/s ($seconds s): worker VmHWM growth $((after - before)) KiB"
