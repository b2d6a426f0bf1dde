#!/usr/bin/env bash
# PROPFIND Depth 1 on a collection of 1,000 members (allprop: what a file
# manager asks when it opens a folder), requests per second, verbd against
# Apache 2.4 mod_dav_fs on this machine, taking turns round by round.
#
#   tests/load/propfind.sh BUILD [--rounds N] [--requests R] [--conns C] [--members M]
#
# BUILD holds bin/verbd and plugins-dav/ (a Release build). verbd runs its
# default: 2 workers in 2 processes, fsync on; Apache its Debian default
# MPM (event, 2 processes of 25 threads). Both keep the same files, each in
# a folder of its own. ab (apache2-utils) sends the requests, keep-alive.
# The last line is the figure: "propfind verbd/apache=R (median rps: ...)".
set -euo pipefail
usage="usage: propfind.sh BUILD [--rounds N] [--requests R] [--conns C] [--members M]"
build=$(cd "${1:?$usage}" && pwd)
shift
rounds=5 requests=400 conns=4 members=1000
source "$(dirname "$0")/common.sh"
load_options propfind.sh "rounds requests conns members" "$@"
command -v apache2 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q apache2 >/dev/null
start_work_folder propfind
apache_pid=""
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [[ -n $apache_pid ]] && kill "$apache_pid" 2>/dev/null; rm -rf "$work"' EXIT

# The same collection for both: 1,000 files of 26 bytes.
mkdir -p "$work/verbd-data/bench" "$work/apache-data/bench"
for ((i = 0; i < members; i++)); do printf 'a member of the collection\n' >"$work/verbd-data/bench/member-$i.txt"; done
cp -r "$work/verbd-data/bench/." "$work/apache-data/bench/"

cat >"$work/verbd.toml" <<CONF
[server]
port = 0
[plugins]
directory = "$build/plugins-dav"
watch = false
[store]
root = "$work/verbd-data"
[log]
access = false
CONF
start_verbd "$build/bin/verbd" "$work/verbd.toml" "$work/verbd.log"
pids+=("$pid")
verbd_port=$port

apache_port=$(free_port)
modules=/usr/lib/apache2/modules
cat >"$work/apache.conf" <<CONF
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule mime_module $modules/mod_mime.so
LoadModule dav_module $modules/mod_dav.so
LoadModule dav_fs_module $modules/mod_dav_fs.so
ServerName 127.0.0.1
Listen 127.0.0.1:$apache_port
User www-data
Group www-data
PidFile $work/apache.pid
ErrorLog $work/apache-error.log
TypesConfig /etc/mime.types
DocumentRoot $work/apache-data
DavLockDB $work/apache-lock/DavLock
<Directory $work/apache-data>
  Dav On
  Require all granted
</Directory>
CONF
mkdir -p "$work/apache-lock"
chown -R www-data:www-data "$work/apache-data" "$work/apache-lock"
chmod 755 "$work"
apache2 -f "$work/apache.conf" -k start
for _ in $(seq 50); do [[ -s $work/apache.pid ]] && break; sleep 0.1; done
apache_pid=$(cat "$work/apache.pid")
wait_until_listens "$apache_pid" "$apache_port" || { echo "propfind.sh: apache2 does not listen on $apache_port" >&2; tail -5 "$work/apache-error.log" >&2; exit 1; }

# One round: requests per second of ab against port $1.
measure() {
  ab -q -k -c "$conns" -n "$requests" -m PROPFIND -H "Depth: 1" "http://127.0.0.1:$1/bench/" 2>&1 |
    awk '/Non-2xx responses/ {bad = $3} /Requests per second/ {rps = $4} END {if (bad) print "non-2xx:" bad; else printf "%d", rps}'
}

# Both answer 207 with one response per member and one for the collection.
for server in "verbd $verbd_port" "apache $apache_port"; do
  set -- $server
  got=$(printf 'PROPFIND /bench/ HTTP/1.1\r\nHost: 127.0.0.1\r\nDepth: 1\r\nConnection: close\r\n\r\n' |
    python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",'"$2"')); s.sendall(sys.stdin.buffer.read()); d=b""
while True:
  b=s.recv(65536)
  if not b: break
  d+=b
print(d.split(b"\r\n")[0].decode(), d.lower().count(b"<d:response") + d.lower().count(b"<response"))')
  echo "$1: $got responses"
done

verbd_rps="" apache_rps=""
for ((round = 1; round <= rounds; round++)); do
  order=("verbd $verbd_port" "apache $apache_port")
  ((round % 2 == 0)) && order=("apache $apache_port" "verbd $verbd_port")
  for server in "${order[@]}"; do
    set -- $server
    rps=$(measure "$2")
    echo "round $round, $1: $rps PROPFIND/s"
    [[ $rps =~ ^[0-9]+$ ]] || { echo "propfind.sh: $1 answered errors" >&2; exit 1; }
    if [[ $1 == verbd ]]; then verbd_rps+="$rps "; else apache_rps+="$rps "; fi
  done
done
v=$(echo "$verbd_rps" | median)
a=$(echo "$apache_rps" | median)
echo "propfind verbd/apache=$(awk -v v="$v" -v a="$a" 'BEGIN {printf "%.2f", v / a}') (median rps: verbd $v, apache $a; $members members, Depth 1, $conns connections)"
