#!/usr/bin/env bash
# The folders of host/ depend on each other in one direction: each may
# include only from the folders listed for it here, which are all below it.
# README ("How a request travels") draws the same picture.
#   layers.sh SOURCE_DIR
set -euo pipefail
host=$1/host
declare -A allowed=(
  [common]=""
  [config]="common"
  [log]="common config"
  [store]="common config log"
  [http]="common"
  [board]="common"
  [plugin]="common config log store"
  [dispatch]="common config log store http plugin board"
  [net]="common config log http"
  [supervisor]="common config log store net board"
  [main]="common config log store http plugin dispatch net board supervisor"
)
status=0
for folder in "$host"/*/; do
  part=$(basename "$folder")
  [[ -v allowed[$part] ]] || { echo "FAIL: host/$part/ is not in the layer table of $0"; status=1; continue; }
  while IFS= read -r line; do
    file=${line%%:*}
    used=$(sed -E 's|.*#include "([a-z_]+)/.*|\1|' <<<"$line")
    [[ $used == "$part" || " ${allowed[$part]} " == *" $used "* ]] && continue
    echo "FAIL: ${file#"$1"/} includes from host/$used/, which host/$part/ may not use"
    status=1
  done < <(grep -HE '^#include "[a-z_]+/' "$folder"* || true)
done
# The SDK stands alone: a plugin author has only its headers.
if grep -rnE '^#include "' "$1/sdk/include"; then
  echo "FAIL: an SDK header includes something of the host's"
  status=1
fi
((status == 0)) && echo "host/ folders depend one way; the SDK includes nothing of the host's"
exit $status
