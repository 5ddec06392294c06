#!/bin/sh
# Builds the .deb with CPack from an up-to-date build tree, checks its
# Depends (every name an installed Debian package, every library the binary
# links owned by one of them), unpacks it into a fresh root with dpkg -x and
# runs the packaged binary from there. (No debootstrap/container here: the
# unpacked root uses the host's libraries.)
set -eu
build=$1
version=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpack --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log"; exit 1; }
deb=$(ls "$tmp"/out/*.deb)
echo "package: $deb"
dpkg-deb -I "$deb" >"$tmp/info"
depends=$(sed -n 's/^ Depends: //p' "$tmp/info")
echo "Depends: $depends"
[ -n "$depends" ] || { echo "no Depends"; exit 1; }
for pkg in $(echo "$depends" | tr ',' '\n' | sed 's/(.*)//; s/ //g'); do
  dpkg-query -W "$pkg" >/dev/null 2>&1 || { echo "Depends names '$pkg', not a Debian package here"; exit 1; }
done
dpkg-deb -x "$deb" "$tmp/root"
bin="$tmp/root/usr/bin/hubbatch"
[ -x "$bin" ] || { echo "no /usr/bin/hubbatch"; exit 1; }
# Every shared library the binary needs belongs to a package in Depends.
for lib in $(ldd "$bin" | awk '/=>/ {print $3}'); do
  owner=$(dpkg -S "$(realpath "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || true)
  owner=${owner%%:*}
  [ -n "$owner" ] || { echo "no package owns $lib"; exit 1; }
  echo "$depends" | tr ',' '\n' | sed 's/(.*)//; s/ //g' | grep -qx "$owner" || { echo "$lib ($owner) missing from Depends"; exit 1; }
done
"$bin" --version | grep -qx "hubbatch $version" || { echo "bad --version: $("$bin" --version)"; exit 1; }
ls "$tmp"/root/usr/share/man/man1/hubbatch.1* >/dev/null || { echo "no man page"; exit 1; }
grep -q "hubbatch $version" "$tmp"/root/usr/share/man/man1/hubbatch.1 || { echo "man page without version"; exit 1; }
bash -n "$tmp/root/usr/share/bash-completion/completions/hubbatch" || { echo "completion does not parse"; exit 1; }
[ -f "$tmp/root/usr/share/doc/hubbatch/examples/nightly-cleanup.toml" ] || { echo "no example configs"; exit 1; }
echo "ok"
