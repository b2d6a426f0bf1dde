#!/usr/bin/env bash
# HTTPS keep-alive GET throughput of verbd against nginx, with the same
# certificate (ECDSA P-256) and so the same cipher (TLS 1.3,
# TLS_AES_256_GCM_SHA384), one worker each, alternating round by round. The
# last line is the median ratio verbd/nginx.
#
#   tests/load/https.sh BUILD [--rounds N] [--seconds S] [--conns C]
set -euo pipefail
usage="usage: https.sh BUILD [--rounds N] [--seconds S] [--conns C]"
build=$(cd "${1:?$usage}" && pwd)
shift
rounds=5 seconds=5 conns=50
source "$(dirname "$0")/common.sh"
load_options https.sh "rounds seconds conns" "$@"
start_work_folder https
chmod 755 "$work" && chmod -R a+rX "$work/data"  # nginx's worker runs as nobody

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout "$work/key.pem" \
  -out "$work/cert.pem" -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
chmod a+r "$work/key.pem"

tls_port=$(free_port)
cat >"$work/verbd.toml" <<CONF
[server]
port = 0
workers = 1
[plugins]
directory = "$build/plugins"
watch = false
[store]
root = "$work/data"
fsync = false
[log]
access = false
[tls]
port = $tls_port
certificate = "$work/cert.pem"
key = "$work/key.pem"
CONF
start_verbd "$build/bin/verbd" "$work/verbd.toml" "$work/verbd.log"
pids+=("$pid")

nginx_port=$(free_port)
start_nginx "$work/nginx" 4096 "
  access_log off;
  keepalive_requests 1000000000;
  open_file_cache max=1000;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:10m;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    root $work/data;
  }"

rps() { wrk -t 1 -c "$conns" -d "${seconds}s" "https://127.0.0.1:$1/index.html" | awk '/Requests\/sec/ {print $2}'; }
for server in "verbd $tls_port" "nginx $nginx_port"; do
  set -- $server
  body=$(curl -sk "https://127.0.0.1:$2/index.html")
  [[ $body == "HTTP GET Method (Success)" ]] || { echo "https.sh: $1 does not serve the file: $body" >&2; exit 1; }
done
ratios=()
for round in $(seq "$rounds"); do
  v=$(rps "$tls_port")
  n=$(rps "$nginx_port")
  ratio=$(python3 -c "print(f'{$v / $n:.3f}')")
  ratios+=("$ratio")
  echo "round $round: verbd $v/s, nginx $n/s, verbd/nginx=$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "https keepalive verbd/nginx=$median (median of $rounds rounds, $conns connections, 1 worker each)"
