#!/usr/bin/env bash
# The Debian package: cpack builds it from this build, for /usr; lintian
# finds no error in it, the config files are conffiles, the systemd unit is
# sound, and its config names the packaged plugins.
#   deb.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d /tmp/verbd-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/build" -D CPACK_PACKAGING_INSTALL_PREFIX=/usr \
  >"$work/log" 2>&1 || { tail -30 "$work/log"; exit 1; }
deb=$(ls "$work"/build/verbd_*.deb)
lintian --fail-on error --suppress-tags no-manual-page "$deb"
[[ $(dpkg-deb -f "$deb" Package) == verbd ]]
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/verbd/verbd.toml
dpkg-deb -x "$deb" "$work/root"
grep -q '^directory = "/usr/lib/[^"]*verbd/plugins"' "$work/root/etc/verbd/verbd.toml"
grep -q '^root = "/var/lib/verbd"' "$work/root/etc/verbd/verbd.toml"
plugins=$(sed -n 's/^directory = "\([^"]*\)".*/\1/p' "$work/root/etc/verbd/verbd.toml")
for plugin in get head post put delete; do
  test -f "$work/root$plugins/$plugin.so" || { echo "FAIL: the config names $plugins, which has no $plugin.so"; exit 1; }
done
test -x "$work/root/usr/bin/verbd" && test -x "$work/root/usr/bin/verb"
test -f "$work/root/usr/include/verbd/plugin.h"
if command -v systemd-analyze >/dev/null; then
  # The unit as systemd reads it, its programs taken from the package.
  sed "s|/usr/bin/verbd|$work/root/usr/bin/verbd|g" "$work/root/usr/lib/systemd/system/verbd.service" \
    >"$work/verbd.service"
  verified=$(systemd-analyze verify "$work/verbd.service" 2>&1 || true)
  [[ -z $verified ]] || { echo "FAIL: systemd-analyze verify: $verified"; exit 1; }
fi
echo "$(basename "$deb"): lintian clean of errors, conffiles, unit and paths as installed"
