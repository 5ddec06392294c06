#!/usr/bin/env bash
# Journal cost (issue 4): archives PAIRS pairs (default 1,000,000) unthrottled
# against a fresh sandbox, alternating runs without and with --journal, RUNS
# times each (default 5), and prints the medians of wall time and client CPU.
#   bench/journal_overhead.sh [PAIRS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-1000000}
runs=${2:-5}
work=$(mktemp -d /tmp/hubbatch-journal.XXXXXX)
trap 'pkill -f "$work/ca.pem" 2>/dev/null || true; rm -rf "$work"' EXIT
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target hubbatch gen-pairs >/dev/null
./build/gen-pairs --pairs "$pairs" --seed 5 > "$work/pairs.csv"

one_run() {  # $1 = journal|plain; prints "wall cpu"
  ./build/hubbatch sandbox --listen 127.0.0.1:0 --write-ca "$work/ca.pem" --seed "$work/pairs.csv" --rate 0 > "$work/sb.out" &
  local pid=$!
  until grep -q '^listening on ' "$work/sb.out" 2>/dev/null; do sleep 0.1; done
  local url extra=()
  url=$(sed -n 's/^listening on //p' "$work/sb.out")
  rm -f "$work/j.journal"
  [[ $1 == journal ]] && extra=(--journal "$work/j.journal")
  HUBSPOT_ACCESS_TOKEN=pat-bench /usr/bin/time -f "%e %U %S" -o "$work/time" ./build/hubbatch archive \
    --from-type contacts --to-type companies --input "$work/pairs.csv" --base-url "$url" --ca-file "$work/ca.pem" \
    --rate 0 --quiet "${extra[@]}" 2>/dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$work/time"
}

: > "$work/plain"; : > "$work/journal"
for _ in $(seq 1 "$runs"); do
  one_run plain >> "$work/plain"
  one_run journal >> "$work/journal"
done
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
pw=$(cut -d' ' -f1 "$work/plain" | median); pc=$(cut -d' ' -f2 "$work/plain" | median)
jw=$(cut -d' ' -f1 "$work/journal" | median); jc=$(cut -d' ' -f2 "$work/journal" | median)
echo "pairs=$pairs runs=$runs"
echo "without journal: wall ${pw} s, client CPU ${pc} s (runs: $(cut -d' ' -f1 "$work/plain" | tr '\n' ' '))"
echo "with journal:    wall ${jw} s, client CPU ${jc} s (runs: $(cut -d' ' -f1 "$work/journal" | tr '\n' ' '))"
awk -v a="$pw" -v b="$jw" 'BEGIN {printf "throughput cost of the journal: %+.1f%% (median wall time)\n", (b - a) / a * 100}'
