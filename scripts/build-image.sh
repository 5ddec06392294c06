#!/usr/bin/env bash
# Builds the container image hubbatch:VERSION (OCI format, podman's local
# storage) from this checkout, without pulling anything: there is no base
# image. The image holds
#   /usr/bin/hubbatch                 the Release binary, stripped
#   /usr/lib/<arch>/…, /usr/lib64/…   exactly the shared libraries it loads
#                                     (its ldd closure and its ELF interpreter),
#                                     copied from the Debian packages installed
#                                     here and checked against their md5sums
#   /etc/ssl/certs/ca-certificates.crt  Debian's CA bundle (OpenSSL's default
#                                     /usr/lib/ssl/cert.pem points to it)
#   /etc/passwd, /etc/group           root and hubbatch (uid/gid 65532)
#   /etc/nsswitch.conf                files, then DNS
#   /etc/os-release, /var/lib/dpkg/status.d/<package>, /usr/share/doc/<package>/copyright
#                                     what a vulnerability scanner and a
#                                     licence audit need to know the packages
#   /tmp (1777), /data (65532, the working directory)
# and no shell, package manager or other program. It runs as 65532:65532 with
# ENTRYPOINT ["hubbatch"], and its labels give the version, the git revision
# and the Debian package of every file taken from the machine.
#
# The image is reproducible: every file's time is the commit's time, owners
# and modes are set here, and podman build --timestamp fixes the image's
# creation time, so the same commit (and the same Debian packages) gives the
# same layer digest and the same image id.
#
#   scripts/build-image.sh [--build-dir DIR]     # default: build/
#
# Configures DIR as a Release build if it is not one yet, builds the hubbatch
# target there, and installs podman first (scripts/install-deps.sh --image).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

build_dir=build
while (($#)); do
  case $1 in
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
    *) echo "usage: $0 [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
say() { echo "build-image: $*"; }
die() { echo "build-image: error: $*" >&2; exit 1; }

./scripts/install-deps.sh --image
export CONTAINERS_CONF=$src/scripts/containers.conf

# 1. The Release binary.
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
sanitize=$(sed -n 's/^HUBBATCH_SANITIZE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
[[ $build_type == Release ]] || die "$build_dir is a '$build_type' build; the image takes a Release build (--build-dir)"
[[ -z $sanitize ]] || die "$build_dir is a sanitizer build ($sanitize)"
cmake --build "$build_dir" --target hubbatch -j2
bin=$build_dir/hubbatch
version=$("$bin" --version)
version=${version#hubbatch }
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "cannot read the version from '$bin --version'"

# 2. The commit: the revision label, and the time given to every file.
revision=unknown
epoch=${SOURCE_DATE_EPOCH:-}
if git rev-parse --git-dir >/dev/null 2>&1; then
  revision=$(git rev-parse HEAD)
  epoch=${epoch:-$(git log -1 --format=%ct)}
  if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
    revision+=-dirty
    say "warning: the work tree has uncommitted changes; the image is labelled $revision"
  fi
fi
epoch=${epoch:-0}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

# 3. The root file system, in a staging directory.
stage=$build_dir/image
root=$stage/root
rm -rf "$stage"
install -d -m 0755 "$root"/{etc/ssl/certs,usr/bin,usr/lib/ssl,usr/lib64,var/lib/dpkg/status.d,usr/share/doc,data}
install -d -m 1777 "$root/tmp"
ln -s usr/lib "$root/lib"        # Debian 12's merged /usr: /lib and /lib64 are links
ln -s usr/lib64 "$root/lib64"

install -m 0755 "$bin" "$root/usr/bin/hubbatch"
strip --strip-unneeded "$root/usr/bin/hubbatch"

# owner NAME…: "PACKAGE PATH" for the first NAME that dpkg says a package
# installed (merged /usr: a package may have shipped /lib/… or /usr/lib/…).
owner() {
  local name out
  for name in "$@"; do
    out=$(dpkg-query -S "$name" 2>/dev/null | grep -v '^diversion' | head -1) || true
    [[ -n $out ]] && { echo "${out%%: *} $name"; return 0; }
  done
  return 1
}
# The package's recorded md5sum of PATH.
packaged_md5() {
  local pkg=$1 path=${2#/} list
  for list in "/var/lib/dpkg/info/$pkg.md5sums" "/var/lib/dpkg/info/${pkg%%:*}.md5sums"; do
    [[ -f $list ]] && { awk -v p="$path" '$2 == p {print $1}' "$list"; return 0; }
  done
}

declare -A packages=()   # package (with :arch) -> version
interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
[[ -n $interp ]] || die "no ELF interpreter in $bin"
closure=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
grep -q 'not found' <(ldd "$bin") && die "ldd $bin: a library is not found"
say "closure of $bin:"
for lib in $closure $interp; do
  real=$(realpath "$lib")
  read -r pkg registered < <(owner "$real" "${real#/usr}" "$lib" "/usr$lib") ||
    die "no Debian package owns $lib ($real)"
  want=$(packaged_md5 "$pkg" "$registered")
  [[ -n $want ]] || want=$(packaged_md5 "$pkg" "${real#/usr}")
  have=$(md5sum <"$real" | cut -d' ' -f1)
  [[ $want == "$have" ]] || die "$real differs from what $pkg installed (md5 $have, package $want)"
  packages[$pkg]=$(dpkg-query -W -f='${Version}' "$pkg")
  # The name the loader asks for, under merged /usr: /lib/x/libssl.so.3 ->
  # /usr/lib/x/libssl.so.3, /lib64/ld-linux-x86-64.so.2 -> /usr/lib64/….
  dest=$root/usr${lib#/usr}
  install -d -m 0755 "$(dirname "$dest")"
  install -m "$(stat -c %a "$real")" "$real" "$dest"
  printf '  %-42s %s %s\n' "$lib" "$pkg" "${packages[$pkg]}"
done

# CA certificates: the bundle update-ca-certificates built from Debian's
# ca-certificates package, where OpenSSL looks by default.
bundle=/etc/ssl/certs/ca-certificates.crt
[[ -s $bundle ]] || die "no $bundle (apt-get install ca-certificates)"
install -m 0644 "$bundle" "$root$bundle"
ln -s "$bundle" "$root/usr/lib/ssl/cert.pem"
ln -s /etc/ssl/certs "$root/usr/lib/ssl/certs"
packages[ca-certificates]=$(dpkg-query -W -f='${Version}' ca-certificates)

printf 'root:x:0:0:root:/root:/sbin/nologin\nhubbatch:x:65532:65532:hubbatch:/data:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nhubbatch:x:65532:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
install -m 0644 "$(realpath /etc/os-release)" "$root/etc/os-release"
chmod 0644 "$root"/etc/{passwd,group,nsswitch.conf}

label_packages=
for pkg in $(printf '%s\n' "${!packages[@]}" | sort); do
  name=${pkg%%:*}
  dpkg-query -s "$pkg" >"$root/var/lib/dpkg/status.d/$name"
  chmod 0644 "$root/var/lib/dpkg/status.d/$name"
  if [[ -f /usr/share/doc/$name/copyright ]]; then
    install -d -m 0755 "$root/usr/share/doc/$name"
    install -m 0644 "/usr/share/doc/$name/copyright" "$root/usr/share/doc/$name/copyright"
  fi
  label_packages+="${label_packages:+ }$name=${packages[$pkg]}"
done

# 4. One layer: a tar with fixed order, times and owners (root, but /data is
# 65532's), so that it does not depend on who builds or when.
tar_opts=(--sort=name --format=posix --numeric-owner --mtime="@$epoch"
          --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
tar -C "$root" -cf "$stage/rootfs.tar" "${tar_opts[@]}" --owner=0 --group=0 --exclude=./data .
tar -C "$root" -rf "$stage/rootfs.tar" "${tar_opts[@]}" --owner=65532 --group=65532 ./data

cat >"$stage/Containerfile" <<EOF
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/bin
USER 65532:65532
WORKDIR /data
ENTRYPOINT ["hubbatch"]
LABEL org.opencontainers.image.title="hubbatch" \\
      org.opencontainers.image.description="Bulk HubSpot CRM association batches" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.revision="$revision" \\
      org.opencontainers.image.created="$created" \\
      io.hubbatch.debian-packages="$label_packages"
EOF

image=hubbatch:$version
previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
say "podman build $image"
podman build --quiet --pull=never --layers=false --format oci --timestamp "$epoch" \
  --tag "$image" --file "$stage/Containerfile" "$stage" >/dev/null

# The image this one replaced (another commit's) would stay as <none>: drop
# it unless a container still uses it.
if [[ -n $previous && $previous != "$(podman image inspect --format '{{.Id}}' "$image")" ]]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi

size=$(podman image inspect --format '{{.Size}}' "$image")
layers=$(podman image inspect --format '{{range .RootFS.Layers}}{{.}} {{end}}' "$image" | sed 's/ $//')
id=$(podman image inspect --format '{{.Id}}' "$image")
say "built localhost/$image: $(awk -v s="$size" 'BEGIN {printf "%.1f MB", s / 1e6}') ($size bytes)"
say "  layer  $layers"
say "  image  sha256:$id"
say "  revision $revision, created $created"
say "for docker: podman save --format docker-archive -o hubbatch-$version.tar $image && docker load -i hubbatch-$version.tar"
say "for a registry: podman push $image REGISTRY/hubbatch:$version"
