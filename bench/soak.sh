#!/usr/bin/env bash
# Fault soak (issue 4): archives PAIRS pairs (default 2,000,000) against a
# sandbox that injects 5xx, resets before and after applying, slow answers and
# 429s, and checks that every pair was archived and the store is exact (only
# the extra pairs that were never in the input are left). Not part of the
# default test run. Writes bench/results/soak.md.
#
#   bench/soak.sh [PAIRS]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-2000000}
extras=10000
work=$(mktemp -d /tmp/hubbatch-soak.XXXXXX)
trap 'kill $sandbox_pid 2>/dev/null || true; [[ -n "${KEEP:-}" ]] || rm -rf "$work"' EXIT

./scripts/install-deps.sh >/dev/null
[[ -x /usr/bin/time ]] || { sudo=(); [[ $(id -u) -eq 0 ]] || sudo=(sudo); "${sudo[@]}" apt-get install -y -qq time >/dev/null; }
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target hubbatch gen-pairs >/dev/null

./build/gen-pairs --pairs "$pairs" --seed 11 > "$work/pairs.csv"
# Extra pairs with ids outside the generator's range: they must survive.
awk -v n=$extras 'BEGIN { print "from_id,to_id"; for (i = 1; i <= n; i++) printf "%.0f,%.0f\n", 5000000000000 + i, 7000000000000 + i }' > "$work/extras.csv"

faults=(--fault-seed 2026 --fault-5xx 0.1 --fault-reset 0.02 --fault-reset-after-apply 0.02 --fault-slow 0.02:2000)
# 600 requests/s at most: the unpaced client runs into 429 bursts.
./build/hubbatch sandbox --listen 127.0.0.1:0 --write-ca "$work/ca.pem" --seed "$work/pairs.csv" \
  --seed "$work/extras.csv" --seed-types contacts:companies --rate 600/1s "${faults[@]}" > "$work/sandbox.out" &
sandbox_pid=$!
for _ in $(seq 1 600); do grep -q '^listening on ' "$work/sandbox.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/sandbox.out")
[[ -n "$url" ]] || { echo "soak: sandbox did not start" >&2; exit 1; }

start=$(date +%s.%N)
set +e
HUBSPOT_ACCESS_TOKEN=pat-soak /usr/bin/env time -v ./build/hubbatch archive --from-type contacts --to-type companies \
  --input "$work/pairs.csv" --base-url "$url" --ca-file "$work/ca.pem" --rate 0 --max-retries 30 \
  --report "$work/report.json" --failures "$work/failures.csv" --quiet 2> "$work/client.err"
code=$?
set -e
end=$(date +%s.%N)

curl -s --cacert "$work/ca.pem" "$url/_sandbox/stats" > "$work/stats.json"
curl -s --cacert "$work/ca.pem" "$url/_sandbox/pairs?from=contacts&to=companies" | sort > "$work/left.csv"
tail -n +2 "$work/extras.csv" | sort > "$work/extras.sorted"
if cmp -s "$work/left.csv" "$work/extras.sorted"; then store="exact (only the $extras extra pairs left)"; else store="WRONG: $(wc -l < "$work/left.csv") pairs left"; fi

field() { grep -o "\"$1\": *[0-9.]*" "$2" | head -1 | grep -o '[0-9.]*$'; }
rss=$(grep 'Maximum resident' "$work/client.err" | grep -o '[0-9]*$')
cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$work/client.err")
{
  echo "# Fault soak ($(date -u +%F))"
  echo
  echo "\`bench/soak.sh $pairs\` on $(nproc) cores: sandbox \`--rate 600/1s ${faults[*]}\`, client \`--rate 0 --max-retries 30\`."
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| exit code | $code |"
  echo "| input pairs | $(field input_pairs "$work/report.json") |"
  echo "| archived pairs | $(field archived_pairs "$work/report.json") |"
  echo "| failed / pending pairs | $(field failed_pairs "$work/report.json") / $(field pending_pairs "$work/report.json") |"
  echo "| requests (retries) | $(field requests "$work/report.json") ($(field retries "$work/report.json")) |"
  echo "| 429 responses | $(field rate_limited "$work/report.json") |"
  echo "| transport errors (resets, garbage) | $(field transport_errors "$work/report.json") |"
  echo "| sandbox faults injected | $(grep -o "\"faults_by_kind\":{[^}]*}" "$work/stats.json") |"
  echo "| store after the run | $store |"
  echo "| accounting | $(grep -o '"invariant_ok": [a-z]*' "$work/report.json") |"
  echo "| wall time | $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f s", b - a}') |"
  echo "| client CPU (user+sys) | ${cpu} s |"
  echo "| client peak RSS | $((rss / 1024)) MB |"
} > bench/results/soak.md
cat bench/results/soak.md
[[ $code -eq 0 && $store == exact* ]]
