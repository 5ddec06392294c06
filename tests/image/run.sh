#!/usr/bin/env bash
# Tests of the container image built by scripts/build-image.sh (issue 16),
# with podman, as root, without any network beyond the containers' loopback:
#   1. the image: labels (version, revision), user 65532, ENTRYPOINT, size,
#      its files (the binary, its ldd closure, no shell, no package manager);
#   2. --version, and no shell to start;
#   3. the README demo inside the container, --network none, read-only root,
#      no capabilities: 200,000 pairs archived against the embedded sandbox,
#      exit 0, the report on the mounted volume, written by uid 65532;
#   4. a sandbox container and client containers in its network namespace:
#      both run as uid 65532; a token given as a podman secret file
#      (--token-file) is accepted, a wrong one refused (exit 4), and the token
#      is in no `podman logs` output and no file on the volume;
#   5. `podman stop` (SIGTERM) drains the client: exit 3, a resumable journal
#      on the volume; a second `podman run … --resume` finishes the job (the
#      sandbox holds no pair any more).
# Skips (exit 0) when podman is not installed. About a minute.
#   usage: tests/image/run.sh [BUILD_DIR]      # default: build/ (for gen-pairs)
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${1:-$src/build}

if ! command -v podman >/dev/null; then
  echo "image tests: skipped: podman is not installed (scripts/install-deps.sh --image)"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || { echo "image tests: need root (the volume is chowned to 65532, the sandbox's netns entered)"; exit 2; }
export CONTAINERS_CONF=$src/scripts/containers.conf

version=$(sed -n 's/^project(hubbatch VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
image=localhost/hubbatch:$version
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() { echo "image tests: $passed passed, $failed failed"; [[ $failed -eq 0 ]]; exit $?; }
# check DESCRIPTION COMMAND…: one test, passed when COMMAND succeeds.
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

podman image exists "$image" || { bad "no image $image: run scripts/build-image.sh first"; finish; }

run_id=hubbatch-test-$$
work=$(mktemp -d)
containers=() secrets=()
cleanup() {
  # Newest first: the clients share the sandbox's network namespace, and
  # podman keeps a container that others depend on.
  local i
  for ((i = ${#containers[@]} - 1; i >= 0; i--)); do
    podman rm -f "${containers[i]}" >/dev/null 2>&1 || echo "image tests: could not remove container ${containers[i]}"
  done
  ((${#secrets[@]})) && podman secret rm "${secrets[@]}" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

json_field() {  # FILE KEY: a number of the report
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" 2>/dev/null
}
job_total() {   # FILE KEY: a number of the report's job_totals
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["job_totals"][sys.argv[2]])' "$1" "$2" 2>/dev/null
}
uid_of() {      # CONTAINER: the real, effective, saved and fs uids of its process
  local pid
  pid=$(podman inspect --format '{{.State.Pid}}' "$1") && awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status"
}
wait_for_log() {  # CONTAINER TEXT SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    podman logs "$1" 2>&1 | grep -qF -- "$2" && return 0
    sleep 0.1
  done
  return 1
}

# 1. The image.
inspect() { podman image inspect --format "$1" "$image"; }
revision=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
check "label version $version" [ "$(inspect '{{index .Config.Labels "org.opencontainers.image.version"}}')" = "$version" ]
label_revision=$(inspect '{{index .Config.Labels "org.opencontainers.image.revision"}}')
check "label revision $label_revision is this checkout's $revision" [ "${label_revision%-dirty}" = "$revision" ]
check "user 65532:65532" [ "$(inspect '{{.Config.User}}')" = "65532:65532" ]
check 'ENTRYPOINT ["hubbatch"]' [ "$(inspect '{{json .Config.Entrypoint}}')" = '["hubbatch"]' ]
size=$(inspect '{{.Size}}')
check "size $size bytes <= 25 MB" [ "$size" -le 25000000 ]
check "one layer" [ "$(inspect '{{len .RootFS.Layers}}')" = 1 ]

ctr=$(podman create "$image") && containers+=("$ctr")
podman export "$ctr" | tar -t >"$work/files" 2>/dev/null
libs=$(grep -E '^usr/lib(64)?/.*\.so' "$work/files" | xargs -n1 basename | sort)
bin="$build_dir/hubbatch"
if [[ -x $bin ]]; then
  want=$( (ldd "$bin" | awk '$2 == "=>" {print $1}'; readelf -l "$bin" | sed -n 's/.*interpreter: .*\/\(.*\)]$/\1/p') | sort)
  check "the libraries are the ldd closure of $bin: $(echo $libs)" [ "$libs" = "$want" ]
fi
check "the only program is usr/bin/hubbatch" \
  [ "$(grep -E '^(usr/)?s?bin/' "$work/files" | grep -v '/$')" = usr/bin/hubbatch ]
check "no shell, busybox, dpkg or apt" \
  bash -c '! grep -Eq "(^|/)(sh|bash|dash|busybox|dpkg|apt|apt-get)$" "$1"' _ "$work/files"
check "CA bundle etc/ssl/certs/ca-certificates.crt" grep -qx etc/ssl/certs/ca-certificates.crt "$work/files"
check "passwd entry hubbatch:65532" bash -c 'podman cp "$1":/etc/passwd - | tar -xO | grep -q "^hubbatch:x:65532:65532:"' _ "$ctr"

# 2. --version; no shell to start.
check "--version prints hubbatch $version" [ "$(podman run --rm "$image" --version)" = "hubbatch $version" ]
check "no /bin/sh to start" bash -c '! podman run --rm --entrypoint /bin/sh "$1" -c true >/dev/null 2>&1' _ "$image"

# 3. The README demo, as Kubernetes would run it: no network but loopback,
# read-only root (podman mounts a tmpfs on /tmp), no capabilities.
gen_pairs=$build_dir/gen-pairs
[[ -x $gen_pairs ]] || cmake --build "$build_dir" --target gen-pairs -j2 >/dev/null
mkdir "$work/demo"
"$gen_pairs" --pairs 200000 >"$work/demo/demo-pairs.csv"
chown -R 65532:65532 "$work/demo"
podman run --rm --network none --read-only --cap-drop all --security-opt no-new-privileges \
  -v "$work/demo:/data" "$image" \
  archive --sandbox --from-type contacts --to-type companies --input demo-pairs.csv --report demo-report.json \
  >"$work/demo.out" 2>"$work/demo.err"
rc=$?
check "demo in the container: exit 0 (got $rc)" [ $rc = 0 ]
check "demo: 200000 pairs archived, in the report on the volume" \
  [ "$(json_field "$work/demo/demo-report.json" archived_pairs)" = 200000 ]
check "demo: the report was written by uid 65532" [ "$(stat -c %u "$work/demo/demo-report.json")" = 65532 ]
[[ $rc = 0 ]] || tail -5 "$work/demo.err"

# 4. A sandbox that accepts one token, and clients in its network namespace.
token=pat-na1-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
mkdir "$work/job"
"$gen_pairs" --pairs 200000 --seed 16 >"$work/job/pairs.csv"
chown -R 65532:65532 "$work/job"
sandbox=$run_id-sandbox
containers+=("$sandbox")
podman run -d --name "$sandbox" --network none -v "$work/job:/data" "$image" \
  sandbox --listen 127.0.0.1:8443 --write-ca /data/ca.pem --seed /data/pairs.csv --token "$token" >/dev/null
check "sandbox container listening" wait_for_log "$sandbox" "listening on" 30
check "sandbox runs as uid 65532" [ "$(uid_of "$sandbox")" = "65532 65532 65532 65532" ]

printf '%s\n' "$token" | podman secret create "$run_id-token" - >/dev/null && secrets+=("$run_id-token")
printf 'pat-na1-wrong\n' | podman secret create "$run_id-wrong" - >/dev/null && secrets+=("$run_id-wrong")
client() {  # NAME SECRET ARGS…: a detached client in the sandbox's namespace
  local name=$1 secret=$2; shift 2
  containers+=("$name")
  podman run -d --name "$name" --network "container:$sandbox" -v "$work/job:/data" \
    --secret "$secret,target=hubspot-token,uid=65532,gid=65532,mode=0400" "$image" \
    archive --token-file /run/secrets/hubspot-token --base-url https://127.0.0.1:8443 --ca-file /data/ca.pem \
    --from-type contacts --to-type companies --input /data/pairs.csv "$@" >/dev/null
}
exit_of() { podman wait "$1" 2>/dev/null | tail -1; }
pairs_left() {  # the pairs the sandbox still holds, read from inside its network namespace
  local pid out
  pid=$(podman inspect --format '{{.State.Pid}}' "$sandbox") &&
    out=$(nsenter -t "$pid" -n curl -sf --cacert "$work/job/ca.pem" \
            'https://127.0.0.1:8443/_sandbox/pairs?from=contacts&to=companies') &&
    grep -c '^[0-9]' <<<"$out"
}

client "$run_id-wrong" "$run_id-wrong" --max-requests 1
check "a wrong token file is refused: exit 4" [ "$(exit_of "$run_id-wrong")" = 4 ]

client "$run_id-first" "$run_id-token" --report /data/report.json --failures /data/failures.csv \
  --progress-interval 1s --log-level debug
check "client runs as uid 65532" [ "$(uid_of "$run_id-first")" = "65532 65532 65532 65532" ]

# 5. podman stop (SIGTERM, then SIGKILL after 60 s) once pairs are archived.
check "the client reports progress" wait_for_log "$run_id-first" "progress:" 30
podman stop -t 60 "$run_id-first" >/dev/null
rc=$(exit_of "$run_id-first")
check "podman stop drains: exit 3 (got $rc)" [ "$rc" = 3 ]
archived=$(json_field "$work/job/report.json" archived_pairs)
pending=$(json_field "$work/job/report.json" pending_pairs)
check "the stopped run's report: $archived archived, $pending pending, stop_reason $(json_field "$work/job/report.json" stop_reason)" \
  [ "${archived:-0}" -gt 0 -a "${pending:-0}" -gt 0 ]
check "a journal on the volume" [ -s "$work/job/report.json.journal" ]

left=$(pairs_left)
check "the sandbox still holds pairs ($left)" [ "${left:-0}" -gt 0 ]

client "$run_id-resume" "$run_id-token" --report /data/report.json --failures /data/failures.csv --resume
rc=$(exit_of "$run_id-resume")
check "podman run … --resume finishes the job: exit 0 (got $rc)" [ "$rc" = 0 ]
check "the job's totals: 200000 archived over 2 runs" \
  [ "$(job_total "$work/job/report.json" archived_pairs)" = 200000 -a "$(job_total "$work/job/report.json" runs)" = 2 ]
left=$(pairs_left)
check "the sandbox holds no pair any more (got ${left:-nothing})" [ "$left" = 0 ]

leaks=$(for c in "$run_id-wrong" "$run_id-first" "$run_id-resume"; do podman logs "$c" 2>&1; done | grep -cF -- "$token")
check "the token is in no client's podman logs" [ "$leaks" = 0 ]
check "the token is in no file on the volume" bash -c '! grep -rqF -- "$1" "$2"' _ "$token" "$work/job"
check "the secret file (uid 65532, mode 0400) draws no 'readable by other users' warning" \
  bash -c '! podman logs "$1" 2>&1 | grep -q "readable by other users"' _ "$run_id-resume"

finish
