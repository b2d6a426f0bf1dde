#!/usr/bin/env bash
# HTTPS keep-alive GET throughput of verbd against nginx, with the same
# certificate (ECDSA P-256) and so the same cipher (TLS 1.3,
# TLS_AES_256_GCM_SHA384), one worker each, alternating round by round. The
# last line is the median ratio verbd/nginx of the rates, and of the CPU
# time each server's worker spent per request.
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
  }" "$nginx_port"

for server in "verbd $tls_port" "nginx $nginx_port"; do
  set -- $server
  body=$(curl -sk "https://127.0.0.1:$2/index.html")
  [[ $body == "HTTP GET Method (Success)" ]] || { echo "https.sh: $1 does not serve the file: $body" >&2; exit 1; }
done
verbd_worker=$(pgrep -P "$pid" -o)  # the process that serves, not its supervisor
nginx_worker=$(pgrep -P "$nginx_pid" -o)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime
# One round against port $1 served by process $2: "REQUESTS_PER_SECOND
# MICROSECONDS_OF_CPU_PER_REQUEST". The CPU time varies less from round to
# round than the rate, which the client and the machine share.
measure() {
  local before after out
  before=$(cpu_ticks "$2")
  out=$(wrk -t 1 -c "$conns" -d "${seconds}s" "https://127.0.0.1:$1/index.html")
  after=$(cpu_ticks "$2")
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ {requests = $1} /Requests\/sec/ {rate = $2}
    END {printf "%s %.2f", rate, ticks * 1e6 / hz / requests}' <<<"$out"
}

ratios=() cpu_ratios=()
for round in $(seq "$rounds"); do
  read -r v v_cpu <<<"$(measure "$tls_port" "$verbd_worker")"
  read -r n n_cpu <<<"$(measure "$nginx_port" "$nginx_worker")"
  ratios+=("$(python3 -c "print(f'{$v / $n:.3f}')")")
  cpu_ratios+=("$(python3 -c "print(f'{$v_cpu / $n_cpu:.3f}')")")
  echo "round $round: verbd $v/s ($v_cpu us CPU a request), nginx $n/s ($n_cpu us)," \
    "verbd/nginx=${ratios[-1]}, CPU a request verbd/nginx=${cpu_ratios[-1]}"
done
echo "https keepalive verbd/nginx=$(printf '%s\n' "${ratios[@]}" | median)" \
  "cpu_per_request verbd/nginx=$(printf '%s\n' "${cpu_ratios[@]}" | median)" \
  "(medians of $rounds rounds, $conns connections, 1 worker each)"
