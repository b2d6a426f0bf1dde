#!/usr/bin/env bash
# Installs what is missing, builds verbd, and starts it on config/verbd.toml:
# the five standard plugins from build/plugins, the files store in data/.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVERBD_BUILD_TESTS=OFF
cmake --build build

if [[ ! -d data ]]; then
  mkdir -p data
  printf 'HTTP GET Method (Success)\n' >data/index.html
fi
exec build/bin/verbd --config config/verbd.toml "$@"
