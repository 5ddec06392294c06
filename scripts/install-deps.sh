#!/usr/bin/env bash
# Installs hubbatch's build and test dependencies from Debian 12's archive.
# Idempotent: packages already present are skipped, so a second run is quick
# and needs no network. Works as root or through sudo.
#
#   scripts/install-deps.sh          # build and test (the README's test command)
#   scripts/install-deps.sh --fuzz   # also clang and libFuzzer (tests/fuzz/run.sh, CI)
#   scripts/install-deps.sh --image  # also podman (scripts/build-image.sh, tests/image/run.sh, CI)
set -euo pipefail

packages=(
  g++ cmake make pkg-config ccache
  libboost1.81-dev     # Asio, Beast (HTTP/1.1, TLS streams)
  libssl-dev           # OpenSSL: TLS, test CA generation
  libsimdjson-dev      # response and request body decoding
  libgtest-dev         # unit and integration tests
  libcli11-dev         # command-line flags
  libtomlplusplus-dev  # configs/*.toml
  libspdlog-dev libfmt-dev
  zlib1g-dev
  curl                 # README examples and smoke tests
  python3-yaml         # deploy/kubernetes manifests test (tests/deploy/)
)
for arg in "$@"; do
  case $arg in
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;  # libFuzzer and the sanitizer runtimes for clang 14
    # The container image: podman with runc (crun, podman's first choice,
    # refuses cgroups v1+v2 hybrids; scripts/containers.conf), and the CA
    # bundle the image carries.
    --image) packages+=(podman runc ca-certificates) ;;
    *) echo "usage: $0 [--fuzz] [--image]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
