# Sourced by the load scripts that time verbd builds against each other.
source "$(dirname "${BASH_SOURCE[0]}")/../support/start_verbd.sh"

# load_options SCRIPT "NAME..." ARGS...: reads each --NAME VALUE of ARGS
# into the variable NAME (the caller sets the defaults); any other option,
# or one without a value, stops the script with exit code 2.
load_options() {
  local script=$1 allowed=" $2 " name
  shift 2
  while (($#)); do
    name=${1#--}
    if [[ $1 != --* || $allowed != *" $name "* || $# -lt 2 ]]; then
      echo "$script: unknown option, or no value: $1" >&2
      exit 2
    fi
    printf -v "$name" '%s' "$2"
    shift 2
  done
}

# median: the median of the numbers on stdin (one a line, or separated by
# spaces); the mean of the middle two for an even count.
median() {
  tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# write_put_script FILE: a wrk script that PUTs a new 100-byte resource,
# /bench/RANDOM-N, with each request.
write_put_script() {
  cat >"$1" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("PUT", "/bench/" .. math.random(1, 1e9) .. "-" .. n, nil, string.rep("x", 100))
end
LUA
}

# wrk, installed when missing.
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null

# start_work_folder NAME: a folder $work, removed at exit with every verbd
# whose pid is added to $pids, holding data/index.html (26 bytes) to serve.
start_work_folder() {
  work=$(mktemp -d "/tmp/verbd-$1.XXXXXX")
  pids=()
  cpu_groups=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; remove_cpu_groups; rm -rf "$work"' EXIT
  mkdir -p "$work/data"
  printf 'HTTP GET Method (Success)\n' >"$work/data/index.html"
}

# cpu_group VAR NAME CORES: a cgroup (v2, else v1's cpu controller) in
# which the processes together get CORES of a core, handed out every 10 ms,
# so that a server held to it, and not the client, runs out of processor
# time; its folder goes in VAR, and start_work_folder's exit removes it.
# Needs root.
cpu_group() {
  local root=/sys/fs/cgroup period_us=10000 quota_us folder
  quota_us=$(awk -v c="$3" -v p="$period_us" 'BEGIN {printf "%d", c * p}')
  if [[ -f $root/cgroup.controllers ]] && grep -qw cpu $root/cgroup.controllers; then
    grep -qw cpu $root/cgroup.subtree_control || echo +cpu >$root/cgroup.subtree_control
    folder=$root/verbd-load-$2-$$
    mkdir "$folder" && echo "$quota_us $period_us" >"$folder/cpu.max"
  elif [[ -d $root/cpu ]]; then
    folder=$root/cpu/verbd-load-$2-$$
    mkdir "$folder" && echo "$period_us" >"$folder/cpu.cfs_period_us" && echo "$quota_us" >"$folder/cpu.cfs_quota_us"
  else
    echo "no cgroup cpu controller on this machine: cannot hold a server to $3 of a core" >&2
    return 1
  fi
  cpu_groups+=("$folder")
  printf -v "$1" '%s' "$folder"
}

# limit_cpu GROUP PID: moves the process PID, with its threads and its
# child processes (verbd's workers, h2o's helper), into GROUP.
limit_cpu() {
  local child
  echo "$2" >"$1/cgroup.procs"
  for child in $(pgrep -P "$2"); do limit_cpu "$1" "$child"; done
}

# pin_to_cpu CPU PID: keeps the process PID, with its threads and its child
# processes, on processor CPU.
pin_to_cpu() {
  local child
  taskset -a -p -c "$1" "$2" >/dev/null
  for child in $(pgrep -P "$2"); do pin_to_cpu "$1" "$child"; done
}

# remove_cpu_groups: removes the groups made, once their processes have ended.
remove_cpu_groups() {
  local group
  for group in "${cpu_groups[@]}"; do
    for _ in $(seq 50); do rmdir "$group" 2>/dev/null && break; sleep 0.1; done
  done
}

# start_nginx FOLDER CONNECTIONS HTTP PORT...: nginx with one worker process
# of CONNECTIONS connections, its configuration, pid and error log in FOLDER,
# HTTP the inside of its http { } block; sets $nginx_pid, adds it to $pids,
# and returns once nginx listens on each PORT (false, with its error log,
# when it does not: another program took a port, or the block is wrong).
start_nginx() {
  mkdir -p "$1/logs"
  cat >"$1/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/logs/error.log;
events { worker_connections $2; }
http {
$3
}
CONF
  nginx -c "$1/nginx.conf" -p "$1" >/dev/null 2>&1 &
  nginx_pid=$!
  started_listening nginx "$nginx_pid" "$1/logs/error.log" "${@:4}"
}

# start_h2o FOLDER THREADS PORT [LINES]: h2o with THREADS threads serving
# $work/data on 127.0.0.1:PORT, its configuration and logs in FOLDER, LINES
# (YAML) added to its configuration; sets $h2o_pid, adds it to $pids, and
# returns once h2o listens (false, with its error log, when it does not).
# Its workers run as nobody: $work and the data must be readable to all.
start_h2o() {
  mkdir -p "$1"
  {
    printf 'user: nobody\nnum-threads: %s\nerror-log: %s/error.log\n' "$2" "$1"
    [[ -z ${4:-} ]] || printf '%s\n' "$4"
    printf 'listen:\n  host: 127.0.0.1\n  port: %s\n' "$3"
    printf 'hosts:\n  default:\n    paths:\n      /:\n        file.dir: %s/data\n' "$work"
  } >"$1/h2o.conf"
  h2o -c "$1/h2o.conf" >"$1/out.log" 2>&1 &
  h2o_pid=$!
  started_listening h2o "$h2o_pid" "$1/error.log" "$3"
}

# started_listening NAME PID LOG PORT...: adds the server PID to $pids and
# returns once it listens on each PORT (false, with LOG's last lines, when
# it does not).
started_listening() {
  pids+=("$2")
  wait_until_listens "$2" "${@:4}" && return 0
  echo "$1 does not listen on ${*:4}:" >&2
  tail -5 "$3" >&2
  return 1
}
