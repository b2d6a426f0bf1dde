#!/usr/bin/env bash
# PUTs per second to the files store with fsync on and off (wrk, 8
# connections, a new 100-byte resource per request), for the README.
#   tests/load/fsync_cost.sh BUILD_DIR [OLD_BUILD_DIR]
# With OLD_BUILD_DIR, the two builds take turns, round after round, and the
# last lines give each one's median and the ratio new/old: the disk's speed
# drifts too much from minute to minute for figures from separate runs to
# compare. With fsync on, each round also times the filesystem's ceiling
# (fsync_ceiling.cpp: the store's system calls for a durable PUT, on as
# many threads as wrk has connections, without a server): the last line
# says how verbd's pace compares with the disk's for that order, and how
# much a server that keeps it could gain on the old build (verbd's journal
# makes small writes durable in another order, and can pass it). SECONDS_PER_ROUND (5) and ROUNDS (3) change
# the run; DATA_DIR puts the stores on another filesystem (fsync's cost is
# the filesystem's).
set -euo pipefail
source "$(dirname "$0")/common.sh"
usage="usage: fsync_cost.sh BUILD_DIR [OLD_BUILD_DIR]"
builds=("$(cd "${1:?$usage}" && pwd)")
[[ -n ${2:-} ]] && builds+=("$(cd "$2" && pwd)")
seconds=${SECONDS_PER_ROUND:-5}
rounds=${ROUNDS:-3}
connections=8
command -v wrk >/dev/null || { echo "fsync_cost.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d /tmp/verbd-fsync.XXXXXX)
data=$(mktemp -d "${DATA_DIR:-$work}/verbd-fsync-data.XXXXXX")
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work" "$data"; }
trap cleanup EXIT
write_put_script "$work/put.lua"
g++ -O2 -std=c++20 -o "$work/fsync_ceiling" "$(dirname "$0")/fsync_ceiling.cpp" -pthread

# One round: PUTs per second of build $1 with fsync $2, into a folder of its
# own, $data/$3. The folders are removed at the end only: removing thousands
# of files (with their discards) would slow the next round's fsyncs.
measure() {
  sync  # the last round's files are on disk before this one is timed
  printf '[server]\nport = 0\n[plugins]\ndirectory = "%s/plugins"\n[store]\nroot = "%s/%s"\nfsync = %s\n[log]\naccess = false\n' \
    "$1" "$data" "$3" "$2" >"$work/verbd.toml"
  start_verbd "$1/bin/verbd" "$work/verbd.toml" "$work/log"
  wrk -t1 -c"$connections" -d"${seconds}s" -s "$work/put.lua" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {printf "%d", $2}'
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

# ceiling N: new files per second made durably by the bare system calls, on
# as many threads as wrk has connections, in the folder $data/N.
ceiling() {
  sync
  mkdir "$data/$1"
  "$work/fsync_ceiling" "$data/$1" "$connections" "$seconds"
}

# measured_or_stop FIGURE WHAT: a round that gave no figure (a verbd that did
# not start, a full disk: each round's files stay until the end) stops the
# run, rather than leave a hole in the medians.
measured_or_stop() {
  [[ $1 =~ ^[0-9]+$ ]] && return
  echo "fsync_cost.sh: no figure from $2 in round $round (see above); $(df -h "$data" | tail -1)" >&2
  exit 1
}

# The builds take turns, the first one changing from round to round.
declare -A figures
measured=0
for fsync in true false; do
  for ((round = 1; round <= rounds; round++)); do
    order=("${!builds[@]}")
    ((round % 2 == 0)) && order=($(printf '%s\n' "${order[@]}" | sort -rn))
    for i in "${order[@]}"; do
      measured=$((measured + 1))
      rps=$(measure "${builds[$i]}" "$fsync" "$measured")
      measured_or_stop "$rps" "${builds[$i]}"
      figures[$i,$fsync]+="$rps "
      echo "round $round, ${builds[$i]}, fsync = $fsync: $rps PUTs/s"
    done
    if [[ $fsync == true ]]; then
      measured=$((measured + 1))
      files=$(ceiling "$measured")
      measured_or_stop "$files" "the ceiling"
      figures[ceiling]+="$files "
      echo "round $round, the filesystem's ceiling: $files files/s"
    fi
  done
done
# ratio "A..." "B...": the ratio of the medians of two lists of figures.
ratio() {
  awk -v a="$(echo "$1" | median)" -v b="$(echo "$2" | median)" 'BEGIN {printf "%.2f", a / b}'
}
for fsync in true false; do
  new=$(echo "${figures[0,$fsync]}" | median)
  if ((${#builds[@]} == 1)); then
    echo "fsync = $fsync: $new PUTs/s (median of $rounds)"
  else
    old=$(echo "${figures[1,$fsync]}" | median)
    echo "fsync = $fsync: $new PUTs/s, old build $old PUTs/s, new/old = $(ratio "$new" "$old") (medians of $rounds)"
  fi
done
top=$(echo "${figures[ceiling]}" | median)
line="the filesystem's ceiling: $top files/s ($connections threads, no server), new/ceiling = $(ratio "${figures[0,true]}" "$top")"
((${#builds[@]} == 1)) || line+=", ceiling/old = $(ratio "$top" "${figures[1,true]}")"
echo "$line (medians of $rounds)"
