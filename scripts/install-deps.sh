#!/usr/bin/env bash
# Installs the Debian 12 packages verbd needs to build and test, if missing.
# With --fuzzing, also clang and libFuzzer for the fuzz targets.
# Safe to run again: it asks apt only for what is not installed yet.
set -euo pipefail

packages=(
  g++ cmake ninja-build
  libboost1.81-dev libboost-filesystem1.81-dev libboost-url1.81-dev
  libtomlplusplus-dev libspdlog-dev libcli11-dev
  libedit-dev libexpat1-dev libssl-dev libhiredis-dev pkg-config
  redis-server haproxy curl
  litmus openssl goaccess prometheus lintian dpkg-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
if [[ ${1:-} == --fuzzing ]]; then
  packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
