#!/usr/bin/env bash
# Large uploads to the files store, for the README:
#   tests/load/large_upload.sh BUILD_DIR [--size_mib 1024] [--rounds 3] [--fsync true] [--pin false]
# 1. A PUT of SIZE with Content-Length and one chunked, while 50 keep-alive
#    connections GET a 26-byte resource from the same worker: how much the
#    peak resident memory (VmHWM) of each verbd process grows, the GETs' p99,
#    and whether the stored files' sha256 is the one sent.
# 2. 20 uploads of 50 MiB at once: the same growth.
# 3. Throughput of one PUT, verbd against nginx's DAV module (dav_methods
#    PUT), taking turns, ROUNDS each, to the disk and to memory (/dev/shm):
#    nginx does not fsync; verbd does on the disk when --fsync is true (its
#    default).
# 4. Part 1 again with nginx serving the GETs and taking the uploads: its
#    GETs' p99 beside verbd's.
set -euo pipefail
source "$(dirname "$0")/common.sh"
build=$(cd "${1:?usage: large_upload.sh BUILD_DIR [--size_mib N] [--rounds N] [--fsync true|false] [--pin true|false]}" && pwd)
shift
size_mib=1024 rounds=3 fsync=true pin=false
load_options large_upload.sh "size_mib rounds fsync pin" "$@"
# --pin true: the servers on the second CPU, this script and its clients
# (curl, wrk) on the first, so that the GETs' latency is the server's and
# not the scheduler's, with two cores shared by everything.
pin_server() { [[ $pin == true ]] && for p in "$@" $(pgrep -P "$1"); do taskset -a -p -c 1 "$p" >/dev/null; done; true; }
[[ $pin == true ]] && taskset -p -c 0 $$ >/dev/null
command -v nginx >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null
# A run that starts while the disk is still busy with the last one's end
# (its exit deletes several GiB) measures that, verbd and nginx alike: wait
# until the I/O pressure (PSI) has been low for 10 s, two minutes at most.
settle_io() {
  [[ -r /proc/pressure/io ]] || return 0
  local waited
  for ((waited = 0; waited < 120; waited++)); do
    awk '/^some/ {split($2, a, "="); exit !(a[2] < 5)}' /proc/pressure/io && return 0
    sleep 1
  done
  echo "the disk is still busy (I/O pressure: $(head -1 /proc/pressure/io)); measuring anyway" >&2
}
settle_io
start_work_folder large-upload

head -c "${size_mib}M" /dev/urandom >"$work/upload"
head -c 50M /dev/urandom >"$work/upload-50"
sent=$(sha256sum <"$work/upload" | cut -d' ' -f1)
sync  # the files just made are on disk: their writeback does not blur what follows
settle_io

printf '[server]\nport = 0\nworkers = 1\n[plugins]\ndirectory = "%s/plugins"\n[store]\nroot = "data"\nfsync = %s\n[log]\naccess = false\n' \
  "$build" "$fsync" >"$work/verbd.toml"
start_verbd "$build/bin/verbd" "$work/verbd.toml" "$work/verbd.log"
pids+=("$pid")
pin_server "$pid"
processes() { echo "$pid" $(pgrep -P "$pid"); }

# Peak resident memory starts again from the current one (clear_refs 5).
reset_peaks() { for p in $(processes); do echo 5 >"/proc/$p/clear_refs"; done; }
peaks() { for p in $(processes); do awk -v p="$p" '/VmHWM/ {printf "%s:%d ", p, $2}' "/proc/$p/status"; done; }
# The largest growth of one process, in KiB, between two peaks() lines.
growth() {
  awk -v before="$1" -v after="$2" 'BEGIN {
    n = split(before, b, " "); for (i = 1; i <= n; i++) { split(b[i], kv, ":"); was[kv[1]] = kv[2] }
    n = split(after, a, " "); max = 0
    for (i = 1; i <= n; i++) { split(a[i], kv, ":"); d = kv[2] - was[kv[1]]; if (d > max) max = d }
    print max }'
}
put() { # URL FILE [chunked]: seconds taken; fails unless 201 or 204
  local extra=() code
  [[ ${3:-} == chunked ]] && extra=(-H "Transfer-Encoding: chunked")
  code=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "${extra[@]}" -T "$2" "$1")
  [[ $code == 201* || $code == 204* ]] || { echo "PUT $1: $code" >&2; return 1; }
  echo "${code#* }"
}
mibps() { awk -v m="$1" -v s="$2" 'BEGIN {printf "%.0f", m / s}'; }

# PORT WRK_OUT: the two uploads, one after the other, while 50 connections
# GET for $window seconds; sets $with_length and $chunked (seconds each).
uploads_under_gets() {
  wrk -t1 -c50 -d"${window}s" --latency "http://127.0.0.1:$1/index.html" >"$2" &
  local wrk_pid=$!
  sleep 1
  with_length=$(put "http://127.0.0.1:$1/big" "$work/upload")
  chunked=$(put "http://127.0.0.1:$1/big-chunked" "$work/upload" chunked)
  wait "$wrk_pid"
}

# 1. Two large uploads while 50 connections GET.
wrk -t1 -c50 -d1s "http://127.0.0.1:$port/index.html" >/dev/null  # the GETs' buffers exist
alone=$(put "http://127.0.0.1:$port/warm" "$work/upload")
sync
window=$(awk -v s="$alone" 'BEGIN {printf "%d", 3 * s + 2}')
reset_peaks
before=$(peaks)
uploads_under_gets "$port" "$work/wrk.out"
after=$(peaks)
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.out")
gets=$(awk '/requests in/ {print $1}' "$work/wrk.out")
same=yes
for f in big big-chunked; do [[ $(sha256sum <"$work/data/$f" | cut -d' ' -f1) == "$sent" ]] || same=no; done
left=$(find "$work/data/.verbd-tmp" -type f ! -name locks ! -name quarantined | wc -l)
echo "1 GiB-class uploads: ${size_mib} MiB with Content-Length $(mibps "$size_mib" "$with_length") MiB/s, chunked $(mibps "$size_mib" "$chunked") MiB/s, during $gets GETs on 50 connections (p99 $p99)"
echo "  VmHWM growth, largest of one process: $(growth "$before" "$after") KiB (before: $before; after: $after)"
echo "  sha256 of both stored files equals the sent one: $same; scratch files left: $left"

# 2. 20 uploads of 50 MiB at once.
reset_peaks
before=$(peaks)
for i in $(seq 20); do put "http://127.0.0.1:$port/many/$i" "$work/upload-50" >/dev/null & done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
after=$(peaks)
echo "20 concurrent 50 MiB uploads: VmHWM growth, largest of one process: $(growth "$before" "$after") KiB; stored: $(ls "$work/data/many" | wc -l)"

# 3. One PUT, verbd against nginx's DAV module, taking turns (who goes
#    first alternates), to the disk the work folder is on and, where there
#    is one, to a memory filesystem (/dev/shm), where no disk blurs the
#    figures and only the servers' own work on the upload counts.
mkdir -p "$work/ngx-data/.tmp"
chmod 755 "$work"
chmod 777 "$work/ngx-data" "$work/ngx-data/.tmp"  # nginx's workers run as nobody
nport=$(free_port)
shm="" shm_server=""
if [[ -d /dev/shm && -w /dev/shm ]]; then
  shm=$(mktemp -d /dev/shm/verbd-large-upload.XXXXXX)
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work" "$shm"' EXIT
  mkdir -p "$shm/verbd" "$shm/ngx/.tmp"
  chmod 755 "$shm"
  chmod 777 "$shm/ngx" "$shm/ngx/.tmp"
  nport_shm=$(free_port)
  shm_server="server { listen 127.0.0.1:$nport_shm; root $shm/ngx; client_body_temp_path $shm/ngx/.tmp; location / { dav_methods PUT; } }"
  printf '[server]\nport = 0\nworkers = 1\n[plugins]\ndirectory = "%s/plugins"\n[store]\nroot = "%s/verbd"\nfsync = false\n[log]\naccess = false\n' \
    "$build" "$shm" >"$work/verbd-shm.toml"
  disk_port=$port disk_pid=$pid
  start_verbd "$build/bin/verbd" "$work/verbd-shm.toml" "$work/verbd-shm.log"
  pids+=("$pid")
  pin_server "$pid"
  port_shm=$port port=$disk_port pid=$disk_pid
fi
start_nginx "$work/ngx" 1024 "  access_log off;
  client_max_body_size 0;
  client_body_temp_path $work/ngx-data/.tmp;
  server { listen 127.0.0.1:$nport; root $work/ngx-data; location / { dav_methods PUT; } }
  $shm_server" "$nport" ${shm:+"$nport_shm"}
pin_server "$nginx_pid"
race() { # LABEL VERBD_PORT NGINX_PORT VERBD_NOTE
  local v_all="" n_all="" v n round
  for ((round = 1; round <= rounds; round++)); do
    sync
    if ((round % 2)); then
      v=$(mibps "$size_mib" "$(put "http://127.0.0.1:$2/turn" "$work/upload")")
      sync
      n=$(mibps "$size_mib" "$(put "http://127.0.0.1:$3/turn" "$work/upload")")
    else
      n=$(mibps "$size_mib" "$(put "http://127.0.0.1:$3/turn" "$work/upload")")
      sync
      v=$(mibps "$size_mib" "$(put "http://127.0.0.1:$2/turn" "$work/upload")")
    fi
    v_all+="$v " n_all+="$n "
  done
  v=$(echo "$v_all" | median) n=$(echo "$n_all" | median)
  echo "PUT of ${size_mib} MiB $1: verbd $v MiB/s ($4), nginx $n MiB/s (no fsync), verbd/nginx = $(awk -v v="$v" -v n="$n" 'BEGIN {printf "%.2f", v / n}') (medians of $rounds; verbd ${v_all% }, nginx ${n_all% })"
}
race "to disk" "$port" "$nport" "fsync = $fsync"
if [[ -n $shm ]]; then race "to memory (/dev/shm)" "$port_shm" "$nport_shm" "no disk"; fi

# 4. Part 1's GETs and uploads again, all to nginx: its GETs' p99 beside
#    verbd's, on the same machine at the same time of day.
cp "$work/data/index.html" "$work/ngx-data/index.html"
chmod 644 "$work/ngx-data/index.html"
wrk -t1 -c50 -d1s "http://127.0.0.1:$nport/index.html" >/dev/null
sync
uploads_under_gets "$nport" "$work/wrk-nginx.out"
echo "The same with nginx: Content-Length $(mibps "$size_mib" "$with_length") MiB/s, chunked $(mibps "$size_mib" "$chunked") MiB/s, during $(awk '/requests in/ {print $1}' "$work/wrk-nginx.out") GETs (p99 $(awk '$1 == "99%" {print $2}' "$work/wrk-nginx.out"))"
