#!/usr/bin/env bash
# Benchmarks hubbatch side by side with the official HubSpot Node SDK
# (bench/peer/sdk-archive.mjs) against a fresh `hubbatch sandbox` per run.
#
#   bench/run.sh            full run (about 80 minutes on 2 cores)
#   bench/run.sh --quick    smaller inputs, one run per tool (under 13 minutes)
#   bench/run.sh --only create [--quick]
#                           only the Create scenario (about 20 minutes; 4 with
#                           --quick): keeps the other scenarios' raw files and
#                           rewrites only the Create section of latest.md
#   bench/run.sh --only export [--quick]
#                           only the Export scenarios (export, and archive with
#                           and without --backup; about 15 minutes, 2 with
#                           --quick); rewrites only the Export section
#   bench/run.sh --only scale [--quick]
#                           only Scale to 100M: 100,000,000 pairs (a 2.4 GB
#                           CSV; 10M with --quick) archived unpaced end to end,
#                           RSS, pairs/s and temporary disk sampled every
#                           second, and 1M-pair reference runs (2-5 minutes,
#                           1 with --quick; needs about 5 GB of disk in
#                           $BENCH_SCALE_DIR, default /tmp); rewrites only
#                           that section and results/scale-100m.svg
#   bench/run.sh --only exempt [--quick]
#                           only the Exempt scenario: create against a sandbox
#                           whose batch routes leave the 10 s window but have a
#                           hidden capacity of 60/s (hubbatch's adaptive pace vs
#                           the SDK; about 30 minutes, 5 with --quick)
#   bench/run.sh --only batchsize [--quick]
#                           only the Batch size scenario: create 1M pairs at
#                           190/10s where batch/create takes 2,000 inputs,
#                           --batch-size auto vs 100 (about 10 minutes, 2 with
#                           --quick)
#
# Writes bench/results/latest.md, bench/results/*.png and the raw figures in
# bench/results/raw/ (runs.csv plus each run's sandbox stats and client report).
# Generated pair files go to bench/data/ (gitignored), or to $BENCH_DATA_DIR
# when set. See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
quick=0
only=""
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --only) only=${2:-}; shift
            [[ $only =~ ^(create|export|scale|exempt|batchsize)$ ]] ||
              { echo "run.sh: --only takes: create, export, scale, exempt, batchsize" >&2; exit 2; } ;;
    -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

data="${BENCH_DATA_DIR:-$here/data}"
results="$here/results"
raw="$results/raw"
build="$root/build"
hubbatch="$build/hubbatch"
work=$(mktemp -d /tmp/hubbatch-bench.XXXXXX)
token=bench-token
export HUBSPOT_ACCESS_TOKEN=$token

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ------------------------------------------------------------ processes
sandbox_pid=""
bg_pid=""
client_pid=""   # the Scale scenario's client (its /usr/bin/time) and sampler
sampler_pid=""
scale_dir=""    # the Scale scenario's pair files and temporary partitions
hb_log_args=()
cleanup() {
  # Only the processes this script started, by pid.
  [[ -n "$bg_pid" ]] && kill "$bg_pid" 2>/dev/null || true
  [[ -n "$client_pid" ]] && kill "$client_pid" 2>/dev/null || true
  [[ -n "$sampler_pid" ]] && kill "$sampler_pid" 2>/dev/null || true
  [[ -n "$sandbox_pid" ]] && kill "$sandbox_pid" 2>/dev/null || true
  [[ -n "$scale_dir" ]] && rm -rf "$scale_dir"
  rm -rf "$work"
}
trap cleanup EXIT

# ------------------------------------------------------------ install, build
install_deps() {
  "$root/scripts/install-deps.sh"
  local missing=()
  for p in gnuplot-nox time nodejs npm python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # nodejs/npm may come from elsewhere than Debian; only install what is absent.
  command -v node >/dev/null && command -v npm >/dev/null &&
    missing=("${missing[@]/nodejs}") && missing=("${missing[@]/npm}")
  # Same for python3 (bench/tools/*.py need only the standard library).
  command -v python3 >/dev/null && missing=("${missing[@]/python3}")
  local need=()
  for p in "${missing[@]}"; do [[ -n "$p" ]] && need+=("$p"); done
  if ((${#need[@]})); then
    local sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  # The SDK exactly as pinned by the committed lock file.
  if [[ ! -f "$here/peer/node_modules/@hubspot/api-client/package.json" ||
        "$here/peer/package-lock.json" -nt "$here/peer/node_modules/.package-lock.json" ]]; then
    log "npm ci in bench/peer"
    (cd "$here/peer" && npm ci --no-audit --no-fund --silent)
  fi
}

build_tools() {
  log "building hubbatch and gen-pairs (Release)"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" --target hubbatch gen-pairs >/dev/null
}

# gen_data NAME PAIRS SEED: bench/data/NAME.csv, regenerated only when missing.
gen_data() {
  local f="$data/$1.csv"
  if [[ ! -s "$f" || "$(head -c 0 "$f"; cat "$f.meta" 2>/dev/null)" != "$2 $3" ]]; then
    log "generating $1 ($2 pairs, seed $3)"
    "$build/gen-pairs" --pairs "$2" --seed "$3" > "$f.tmp" && mv "$f.tmp" "$f"
    echo "$2 $3" > "$f.meta"
  fi
}

# gen_labelled NAME PAIRS SEED: bench/data/NAME.csv, from_id,to_id,category,type_id
# with every other line HUBSPOT_DEFINED,1 (contact->company Primary, built into
# the sandbox) and USER_DEFINED,36 (seeded with --labels); plus NAME.expected.md5,
# the md5 of the sorted listing the sandbox must hold after the pairs are created
# (/_sandbox/pairs?labels=1: each pair's unlabelled type 279 and its label).
gen_labelled() {
  local f="$data/$1.csv"
  if [[ ! -s "$f" || ! -s "$f.expected.md5" || "$(cat "$f.meta" 2>/dev/null)" != "$2 $3 labelled" ]]; then
    log "generating $1 ($2 labelled pairs, seed $3)"
    "$build/gen-pairs" --pairs "$2" --seed "$3" |
      awk -F, 'NR == 1 { print $0 ",category,type_id"; next }
               { print $0 "," (NR % 2 ? "USER_DEFINED,36" : "HUBSPOT_DEFINED,1") }' > "$f.tmp"
    awk -F, 'NR > 1 { print $1 "," $2 ",HUBSPOT_DEFINED,279"; print $1 "," $2 "," $3 "," $4 }' "$f.tmp" |
      LC_ALL=C sort -u > "$work/expected.txt"
    wc -l < "$work/expected.txt" > "$f.expected.lines"
    md5sum < "$work/expected.txt" | cut -d' ' -f1 > "$f.expected.md5"
    rm -f "$work/expected.txt"
    mv "$f.tmp" "$f"
    echo "$2 $3 labelled" > "$f.meta"
  fi
}

# verify_listing: compares the sandbox's labelled listing with the input's
# expected one (create scenarios); sets listing_lines and listing_ok.
verify_listing() {
  curl -sf --cacert "$work/ca.pem" "$base_url/_sandbox/pairs?from=contacts&to=companies&labels=1" |
    LC_ALL=C sort > "$work/listing.txt" || true
  listing_lines=$(wc -l < "$work/listing.txt")
  if [[ "$(md5sum < "$work/listing.txt" | cut -d' ' -f1)" == "$(cat "$input.expected.md5")" ]]; then
    listing_ok=yes
  else
    listing_ok=no
  fi
  rm -f "$work/listing.txt"
}

# gen_export NAME ARGS...: the export scenarios' data set (bench/tools/gen_export.py):
# bench/data/NAME.csv (from_id,to_id: the sandbox's seed and archive's input),
# NAME.ids.csv (export's input), NAME.labels.csv (the pairs labelled USER_DEFINED 36
# before each run) and NAME.expected.txt (the sorted labelled listing); regenerated
# only when missing or made with other arguments. NAME.csv.meta starts with the pairs.
gen_export() {
  local name=$1; shift
  local f="$data/$name.csv" meta="$*"
  if [[ ! -s "$f" || ! -s "$data/$name.expected.txt" || "$(cut -d' ' -f2- "$f.meta" 2>/dev/null)" != "$meta" ]]; then
    log "generating $name ($meta)"
    python3 "$here/tools/gen_export.py" --out-prefix "$data/$name.tmp" "$@"
    local e
    for e in ids.csv labels.csv expected.txt; do mv "$data/$name.tmp.$e" "$data/$name.$e"; done
    mv "$data/$name.tmp.pairs.csv" "$f"
    echo "$(($(wc -l < "$f") - 1)) $meta" > "$f.meta"
  fi
}

# label_pairs: before the client starts, gives the data set's labelled pairs
# their USER_DEFINED 36 (hubbatch create, unpaced: about 1% of the pairs), checks
# that it worked, then lets the sandbox's 10 s rate window empty so the client
# starts with its whole budget.
label_pairs() {
  local labels="${input%.csv}.labels.csv"
  if ! "$hubbatch" create --from-type contacts --to-type companies --input "$labels" --base-url "$base_url" \
       --ca-file "$work/ca.pem" --rate 0 --no-journal --quiet > /dev/null 2> "$work/label.err"; then
    cat "$work/label.err" >&2; echo "labelling the pairs failed" >&2; exit 1
  fi
  [[ $rate == 0 ]] || sleep 10.5
}

# sorted_rows FILE: a from_id,to_id,category,type_id,label CSV (export's or
# backup's, or the SDK peer's) as the sorted from_id,to_id,category,type_id lines.
sorted_rows() { tail -n +2 "$1" | cut -d, -f1-4 | LC_ALL=C sort; }

# verify_export: the sandbox's labelled listing must be the data set's expected
# one (the labels were made), and the client's export must list exactly it, as
# a set (sorted). Sets listing_lines (the export's rows) and listing_ok.
verify_export() {
  curl -sf --cacert "$work/ca.pem" "$base_url/_sandbox/pairs?from=contacts&to=companies&labels=1" |
    LC_ALL=C sort > "$work/listing.txt" || true
  sorted_rows "$work/export.out" > "$work/export.sorted" 2>/dev/null || : > "$work/export.sorted"
  listing_lines=$(wc -l < "$work/export.sorted")
  if ! cmp -s "$work/listing.txt" "${input%.csv}.expected.txt"; then
    listing_ok=no-listing  # the sandbox does not hold what the run was to export
  elif cmp -s "$work/export.sorted" "$work/listing.txt"; then
    listing_ok=yes
  else
    listing_ok=no
  fi
  rm -f "$work/listing.txt" "$work/export.sorted" "$work/export.out"
}

# verify_backup: after an archive with --backup, the backup must hold exactly the
# pairs' associations as they were (the expected listing); without --backup there
# is nothing to check here (the sandbox's pairs left, in the stats, tells).
verify_backup() {
  [[ -f "$work/backup.csv" ]] || return 0
  sorted_rows "$work/backup.csv" > "$work/backup.sorted"
  listing_lines=$(wc -l < "$work/backup.sorted")
  if cmp -s "$work/backup.sorted" "${input%.csv}.expected.txt"; then listing_ok=yes; else listing_ok=no; fi
  rm -f "$work/backup.sorted" "$work/backup.csv"
}

# ------------------------------------------------------------ one run
# cpu_ticks PID: user+sys clock ticks of a live process.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start_sandbox RATE EXTRA_ARGS... ; seeds come from $seeds (array of --seed/--seed-types args).
start_sandbox() {
  local rate=$1; shift
  : > "$work/sb.out"
  "$hubbatch" sandbox --listen 127.0.0.1:0 --write-ca "$work/ca.pem" "${seeds[@]}" --rate "$rate" "$@" \
      > "$work/sb.out" 2> "$work/sb.err" &
  sandbox_pid=$!
  local i
  for ((i = 0; i < 600; i++)); do
    grep -q '^listening on ' "$work/sb.out" && break
    kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sb.err" >&2; echo "sandbox died" >&2; exit 1; }
    sleep 0.1
  done
  base_url=$(sed -n 's/^listening on \(https:[^ ]*\).*/\1/p' "$work/sb.out" | head -1)
  [[ -n "$base_url" ]] || { echo "sandbox did not start" >&2; exit 1; }
}

stop_sandbox() {
  kill -TERM "$sandbox_pid" 2>/dev/null || true
  wait "$sandbox_pid" 2>/dev/null || true
  sandbox_pid=""
}

stats() { curl -sf --cacert "$work/ca.pem" "$base_url/_sandbox/stats"; }

# client_cmd TOOL: the command line of one client run into the array `cmd`.
#   hubbatch     defaults, --rate $hb_rate
#   sdk          the SDK with DEFAULT_LIMITER_OPTIONS; sdk-nolimit with --no-limit
#   hubbatch-backup  archive with --backup (export scenarios)
#   hubbatch-bs100   --batch-size 100 (the Batch size scenario)
# With hb_log_args set (the pace scenarios), hubbatch logs with those flags
# (e.g. --log-format json --progress-interval 1s) instead of --quiet.
# $op is the operation: archive (bench/peer/sdk-archive.mjs), create (sdk-create.mjs)
# or export (sdk-export.mjs; both tools read NAME.ids.csv and write $work/export.out).
client_cmd() {
  local in=$input out=()
  if [[ $op == export ]]; then in="${input%.csv}.ids.csv"; out=(--output "$work/export.out"); fi
  case "$1" in
    hubbatch) cmd=("$hubbatch" "$op" --from-type contacts --to-type companies --input "$in"
                   --base-url "$base_url" --ca-file "$work/ca.pem" --rate "$hb_rate"
                   --report "$work/report.json" "${out[@]}")
              if ((${#hb_log_args[@]})); then cmd+=("${hb_log_args[@]}"); else cmd+=(--quiet); fi ;;
    hubbatch-backup) client_cmd hubbatch; cmd+=(--backup "$work/backup.csv") ;;
    hubbatch-bs100) client_cmd hubbatch; cmd+=(--batch-size 100) ;;
    sdk) cmd=(node "$here/peer/sdk-$op.mjs" --input "$in" --base-url "$base_url"
              --ca-file "$work/ca.pem" "${out[@]}") ;;
    sdk-nolimit) client_cmd sdk; cmd+=(--no-limit) ;;
  esac
}

# one_run SCENARIO TOOL RUN RATE [sandbox args...]
# Globals in: input, input_pairs, seeds, hb_rate; optional bg (shared budget).
one_run() {
  local scenario=$1 tool=$2 tool_id=$2 run=$3 rate=$4; shift 4
  local tag="$scenario-$tool-$run"
  # TOOL@DATASET: this run uses another data set (the Scale scenario's 1M
  # reference runs, alternated with the 10M runs so the ratio is side by side).
  local input=$input input_pairs=$input_pairs seeds=("${seeds[@]}")
  if [[ $tool == *@* ]]; then
    input="$data/${tool#*@}.csv"
    input_pairs=$(cut -d' ' -f1 "$input.meta")
    seeds=(--seed "$input" --seed-types contacts:companies)
    tool=${tool%@*}
  fi
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  start_sandbox "$rate" "$@"
  # Set-up that must not count as the client's (the export scenarios' labels).
  if [[ -n ${before_client:-} ]]; then "$before_client"; fi
  local sb_t0; sb_t0=$(cpu_ticks "$sandbox_pid")
  if ((${#bg_args[@]})); then
    # Shared budget: a second integration on the same token, started first.
    "$hubbatch" archive "${bg_args[@]}" --base-url "$base_url" --ca-file "$work/ca.pem" \
        --report "$work/bg.json" --quiet > /dev/null 2> "$work/bg.err" &
    bg_pid=$!
    sleep "$bg_lead_s"
  fi
  client_cmd "$tool"
  cmd=(timeout --signal=TERM "${client_timeout:-1800}" "${cmd[@]}")
  # hubbatch keeps a journal next to --report by default (REPORT.journal); a
  # journal left by the previous run of the same input would make it stop
  # with exit 2 ("resume or restart"), so every run starts without one.
  # archive --backup keeps its own journal beside it (REPORT.journal.backup), as
  # does a backup of BACKUP's; they would stop the next run the same way.
  rm -f "$work/report.json" "$work"/report.json.journal* "$work/bg.json.journal" "$work/export.out" "$work/backup.csv"
  # Where the client starts in the sandbox's per-second series.
  stats > "$work/pre.json"
  local t_start; t_start=$(date +%s.%N)
  local rc=0
  (cd "$here/peer" && /usr/bin/time -v -o "$work/time.txt" "${cmd[@]}" > "$work/client.out" 2> "$work/client.err") || rc=$?
  local t_end; t_end=$(date +%s.%N)
  local sb_t1; sb_t1=$(cpu_ticks "$sandbox_pid")
  local listing_lines="" listing_ok=""
  [[ $op == create ]] && verify_listing
  if [[ -n ${after_client:-} ]]; then "$after_client"; fi
  if [[ -n "$bg_pid" ]]; then
    kill -TERM "$bg_pid" 2>/dev/null || true
    wait "$bg_pid" 2>/dev/null || true
    bg_pid=""
  fi
  stats > "$raw/$tag.stats.json"
  stop_sandbox
  if [[ $tool == hubbatch* ]]; then
    cp "$work/report.json" "$raw/$tag.report.json" 2>/dev/null || echo '{}' > "$raw/$tag.report.json"
  else
    tail -n 1 "$work/client.out" > "$raw/$tag.report.json"
    grep -c 'will retry' "$work/client.err" > "$raw/$tag.sdk-retries.txt" || true
  fi
  [[ -f "$work/bg.json" ]] && mv "$work/bg.json" "$raw/$tag.bg-report.json"
  python3 "$here/tools/record_run.py" --runs "$runs_csv" --scenario "$scenario" --tool "$tool_id" \
      --loadavg "$load" \
      --run "$run" --exit "$rc" --time "$work/time.txt" --stats "$raw/$tag.stats.json" \
      --report "$raw/$tag.report.json" --input-pairs "$input_pairs" --rate "$rate" \
      --sandbox-cpu-s "$(awk -v a="$sb_t0" -v b="$sb_t1" -v hz="$(getconf CLK_TCK)" 'BEGIN{print (b-a)/hz}')" \
      --wall-s "$(awk -v a="$t_start" -v b="$t_end" 'BEGIN{print b-a}')" --stats-pre "$work/pre.json" \
      ${bg_args:+--bg-report "$raw/$tag.bg-report.json" --bg-rate "$bg_rate"} \
      --operation "$op" --listing-lines "$listing_lines" --listing-ok "$listing_ok" \
      ${count_from_pre:+--count-from-pre}
  log "  $tag: exit $rc, $(tail -n 1 "$runs_csv" | awk -F, '{printf "wall %ss cpu %ss rss %sMB %s pairs/s, %s requests, %s 429s, %s left", $7, $10, $11, $14, $16, $18, $19}')${listing_ok:+, listing $listing_lines lines, matches: $listing_ok}"
}

# scenario NAME RATE HB_RATE INPUT RUNS "TOOLS..." [sandbox args...]
# Alternates the tools run by run: A B A B A B.
scenario() {
  local name=$1 rate=$2 dataset=$4 runs=$5 tools=$6
  hb_rate=$3
  input="$data/$dataset.csv"
  shift 6
  input_pairs=$(cut -d' ' -f1 "$input.meta")
  log "scenario $name: $dataset, sandbox --rate $rate $*, $runs run(s) of: $tools"
  local r t
  for ((r = 1; r <= runs; r++)); do
    for t in $tools; do one_run "$name" "$t" "$r" "$rate" "$@"; done
  done
}

# ------------------------------------------------------------ scale to 100M
# scale_run TAG RUN PAIRS SEED CSV: one unpaced archive of CSV (gen-pairs
# --keyed PAIRS SEED) against a sandbox holding the same pairs as a generated
# seed (--seed-generated: 25 MB at 100M pairs where --seed would take about
# 3.5 GB, twice that while loading). The client's temporary partitions go to
# a directory of their own ($TMPDIR), which must be empty afterwards;
# bench/tools/scale_sample.py samples the client every second. Leaves
# raw/scale100m-TAG-RUN.{meta.json,report.json,stats.json,time.txt,samples.csv}.
scale_run() {
  local tag=$1 run=$2 n=$3 seed=$4 csv=$5
  local rdir="$scale_dir/run" out="$raw/scale100m-$tag-$run"
  rm -rf "$rdir" && mkdir -p "$rdir/tmp"
  local load0; load0=$(cut -d' ' -f1-3 /proc/loadavg)
  local started; started=$(date -u +%Y-%m-%dT%H:%MZ)
  seeds=(--seed-generated "$n:$seed" --seed-types contacts:companies)
  start_sandbox 0
  local sb_t0; sb_t0=$(cpu_ticks "$sandbox_pid")
  local t_start; t_start=$(date +%s.%N)
  TMPDIR="$rdir/tmp" /usr/bin/time -v -o "$rdir/time.txt" "$hubbatch" archive --from-type contacts \
      --to-type companies --input "$csv" --base-url "$base_url" --ca-file "$work/ca.pem" --rate 0 \
      --report "$rdir/report.json" --metrics-file "$rdir/metrics.prom" --progress-interval 1s \
      > "$rdir/client.out" 2> "$rdir/client.err" &
  client_pid=$!
  python3 "$here/tools/scale_sample.py" --pid "$client_pid" --sandbox-pid "$sandbox_pid" \
      --metrics "$rdir/metrics.prom" --out "$out.samples.csv" &
  sampler_pid=$!
  local rc=0
  wait "$client_pid" || rc=$?
  local t_end; t_end=$(date +%s.%N)
  client_pid=""
  wait "$sampler_pid" || true
  sampler_pid=""
  local sb_t1; sb_t1=$(cpu_ticks "$sandbox_pid")
  local sb_hwm; sb_hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$sandbox_pid/status")
  stats > "$out.stats.json"
  stop_sandbox
  cp "$rdir/report.json" "$out.report.json" 2>/dev/null || echo '{}' > "$out.report.json"
  cp "$rdir/time.txt" "$out.time.txt"
  grep -E 'partitioned|warn' "$rdir/client.err" > "$out.log" || true
  local tmp_left; tmp_left=$(find "$rdir/tmp" -mindepth 1 | wc -l)
  local journal_bytes; journal_bytes=$(stat -c %s "$rdir/report.json.journal" 2>/dev/null || echo 0)
  local wall; wall=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN{print b-a}')
  local sb_cpu; sb_cpu=$(awk -v a="$sb_t0" -v b="$sb_t1" -v hz="$(getconf CLK_TCK)" 'BEGIN{print (b-a)/hz}')
  printf '{"tag": "%s", "run": %d, "pairs": %d, "seed": %d, "exit": %d, "wall_s": %s, "sandbox_cpu_s": %s, "sandbox_hwm_kb": %d, "tmp_left": %d, "journal_bytes": %d, "csv_bytes": %d, "gen_s": %s, "load_before": "%s", "load_after": "%s", "started": "%s"}\n' \
      "$tag" "$run" "$n" "$seed" "$rc" "$wall" "$sb_cpu" "$sb_hwm" "$tmp_left" "$journal_bytes" \
      "$(stat -c %s "$csv")" "${gen_s[$tag]}" "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" "$started" > "$out.meta.json"
  rm -rf "$rdir"
  log "  scale $tag-$run: exit $rc, wall ${wall}s, $(scale_run_summary "$out" "$wall")"
}

# scale_run_summary RAW_PREFIX WALL_S: one line about a Scale run.
scale_run_summary() {
  python3 - "$1" "$2" <<'PY' || echo "no report"
import json, re, sys
out, wall = sys.argv[1], float(sys.argv[2])
r = json.load(open(out + ".report.json"))
p = r.get("partition") or {}
try:
    left = json.load(open(out + ".stats.json")).get("remaining_pairs")
except ValueError:
    left = "?"
rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(out + ".time.txt").read())
print(f"{r.get('archived_pairs', 0) / wall:,.0f} pairs/s, partition {p.get('seconds', 0)} s in {p.get('files', 0)} "
      f"files, peak RSS {int(rss.group(1)) / 1024 if rss else 0:.1f} MB, {left} pairs left")
PY
}

# Scale to 100M (issue 15): the big file once, the 1M reference twice before
# and three times after it (a 1M run lasts about a second: its median is
# compared). The files are generated into a temporary directory under
# $BENCH_SCALE_DIR (default /tmp) and removed with it.
declare -A gen_s
scale_scenarios() {
  local n_big=100000000 n_ref=1000000
  ((quick)) && n_big=10000000
  scale_dir=$(mktemp -d "${BENCH_SCALE_DIR:-/tmp}/hubbatch-scale.XXXXXX")
  local t0
  for spec in "big $n_big 15" "ref $n_ref 2"; do
    set -- $spec
    log "generating $1 ($2 pairs, gen-pairs --keyed --seed $3) in $scale_dir"
    t0=$(date +%s.%N)
    "$build/gen-pairs" --keyed --pairs "$2" --seed "$3" > "$scale_dir/$1.csv"
    gen_s[$1]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
  done
  log "scale: load before $(cut -d' ' -f1-3 /proc/loadavg); disk free $(df -h --output=avail "$scale_dir" | tail -1)"
  local r
  for r in 1 2; do scale_run ref "$r" "$n_ref" 2 "$scale_dir/ref.csv"; done
  scale_run big 1 "$n_big" 15 "$scale_dir/big.csv"
  for r in 3 4 5; do scale_run ref "$r" "$n_ref" 2 "$scale_dir/ref.csv"; done
  log "scale: load after $(cut -d' ' -f1-3 /proc/loadavg)"
  rm -rf "$scale_dir"
  scale_dir=""
}

# ------------------------------------------------------------ profile
profile_hubbatch() {
  local pairs=$1
  log "profiling hubbatch (perf, unthrottled, $pairs pairs)"
  seeds=(--seed "$data/profile.csv" --seed-types contacts:companies)
  start_sandbox 0
  local prof="$raw/profile"
  rm -f "$work/report.json.journal"
  if perf record -e cpu-clock -F 4000 -o "$work/perf.data" -- "$hubbatch" archive --from-type contacts \
       --to-type companies --input "$data/profile.csv" --base-url "$base_url" --ca-file "$work/ca.pem" \
       --rate 0 --report "$prof.report.json" --journal "$work/profile.journal" --quiet > /dev/null 2> "$work/perf.err"; then
    perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null \
      | grep -E '%|^# (Samples|Event count)' | sed 's/  */ /g' > "$prof.txt"
    echo "perf cpu-clock" > "$prof.tool"
  else
    # No perf events here: fall back to callgrind on a tenth of the input.
    head -n $((pairs / 10 + 1)) "$data/profile.csv" > "$work/small.csv"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$hubbatch" archive --from-type contacts \
      --to-type companies --input "$work/small.csv" --base-url "$base_url" --ca-file "$work/ca.pem" \
      --rate 0 --report "$prof.report.json" --journal "$work/profile-cg.journal" --quiet > /dev/null 2>&1
    callgrind_annotate "$work/cg.out" | sed -n '/Ir/,$p' | head -40 > "$prof.txt"
    echo "callgrind" > "$prof.tool"
  fi
  stop_sandbox
}

# ------------------------------------------------------------ main
cd "$root"
if [[ $only == scale ]]; then
  # Neither the SDK nor gnuplot: the build dependencies, time and python3.
  "$root/scripts/install-deps.sh"
  command -v python3 >/dev/null && [[ -x /usr/bin/time ]] || {
    echo "run.sh: --only scale needs python3 and /usr/bin/time (apt-get install python3 time)" >&2; exit 1; }
else
  install_deps
fi
build_tools
mkdir -p "$data" "$raw"
op=archive
runs_csv="$raw/runs.csv"
if [[ $only == scale ]]; then
  rm -f "$raw"/scale100m*   # not scale-*: the full run's 10M Scale scenario
elif [[ -n $only ]]; then
  rm -f "$raw"/"$only"*
else
  rm -f "$raw"/*
fi

if ((quick)); then
  p_pro=100000; p_unth=200000; p_scale=1000000; p_fault=50000; runs=1; sdk_scale_runs=0; p_create=50000
  # Export: records, pairs, heavy records (1,000-3,000 pairs each); records of
  # exactly 4 pairs for archive --backup's overhead; runs of the archive pair.
  x_records=50000; x_pairs=200000; x_heavy=20; x4_records=12500; x_archive_runs=1
else
  p_pro=200000; p_unth=1000000; p_scale=10000000; p_fault=200000; runs=3; sdk_scale_runs=1; p_create=200000
  x_records=250000; x_pairs=1000000; x_heavy=100; x4_records=50000; x_archive_runs=1
fi

# Create: labelled pairs contacts->companies into an empty sandbox that knows
# USER_DEFINED 36 (--labels) and the built-in Primary (HUBSPOT_DEFINED 1); every
# run is checked against the sandbox's listing (verify_listing). The sandbox
# answers the spec's 201, which SDK 13.5.0 accepts (it throws on HubSpot's 200,
# see bench/peer/sdk-create.mjs).
create_scenarios() {
  gen_labelled create "$p_create" 7
  printf 'category,type_id,label\nUSER_DEFINED,36,Billing contact\n' > "$work/labels.csv"
  local saved_op=$op saved_csv=$runs_csv
  op=create
  runs_csv="$raw/create-runs.csv"
  seeds=()
  bg_args=()
  scenario create 190/10s auto create "$runs" "hubbatch sdk" --labels "$work/labels.csv"
  scenario create-unpaced 0 0 create "$runs" "hubbatch sdk-nolimit" --labels "$work/labels.csv"
  op=$saved_op
  runs_csv=$saved_csv
}

# Export: every association of a list of records (POST .../batch/read, 1,000
# records a request, later pages by paging.next.after), then archive with and
# without --backup (which reads the same way first). Data: bench/tools/gen_export.py.
# Before each run about 1% of the pairs get the label USER_DEFINED 36
# (label_pairs, not counted); after each export run the output must equal the
# sandbox's labelled listing as a set (verify_export), after each archive
# --backup run the backup must equal it as it was (verify_backup).
export_scenarios() {
  gen_export export --records "$x_records" --pairs "$x_pairs" --heavy "$x_heavy" --seed 14
  gen_export export4 --records "$x4_records" --exact 4 --seed 15
  printf 'category,type_id,label\nUSER_DEFINED,36,Billing contact\n' > "$work/labels.csv"
  local saved_op=$op saved_csv=$runs_csv
  runs_csv="$raw/export-runs.csv"
  bg_args=()
  before_client=label_pairs
  count_from_pre=1
  op=export
  after_client=verify_export
  seeds=(--seed "$data/export.csv" --seed-types contacts:companies)
  scenario export 190/10s 190/10s export "$runs" "hubbatch sdk" --labels "$work/labels.csv"
  scenario export-unpaced 0 0 export "$runs" "hubbatch sdk-nolimit" --labels "$work/labels.csv"
  op=archive
  after_client=verify_backup
  scenario export-archive 190/10s 190/10s export "$x_archive_runs" "hubbatch hubbatch-backup" \
      --labels "$work/labels.csv"
  seeds=(--seed "$data/export4.csv" --seed-types contacts:companies)
  scenario export-archive4 190/10s 190/10s export4 "$runs" "hubbatch hubbatch-backup" --labels "$work/labels.csv"
  before_client="" after_client="" count_from_pre=""
  op=$saved_op
  runs_csv=$saved_csv
}

if [[ $only == scale ]]; then
  scale_scenarios
  log "writing the Scale to 100M section of $results/latest.md and $results/scale-100m.svg"
  python3 "$here/tools/scale_report.py" --raw "$raw" --out "$results" --splice
  log "done: $results/latest.md"
  exit 0
fi
# Pace (issue 15): hubbatch create with its defaults where the batch routes
# leave the 10 s window but the server has a hidden per-second capacity
# (Exempt), and where batch/create takes 2,000 inputs (Batch size). Each run
# also keeps a trace: the sandbox's counters about every second
# (raw/TAG.samples.csv), `uptime` before and after (raw/TAG.uptime.txt) and
# hubbatch's JSON log (raw/TAG.log.jsonl: the rate mode, each halving of the
# adaptive rate, the batch size, a progress line with the pace in force).
sampler_pid=""
# one_run's hooks; one_run's locals (tag, tool, t_start, t_end) are visible
# here, bash scoping dynamically.
pace_before_client() {
  uptime > "$work/uptime.txt"
  python3 "$here/tools/sample_stats.py" --url "$base_url" --ca-file "$work/ca.pem" \
      --out "$work/samples.csv" --sandbox-pid "$sandbox_pid" 2> "$work/sampler.err" &
  sampler_pid=$!
}
pace_after_client() {
  uptime >> "$work/uptime.txt"
  echo "client t_start $t_start t_end $t_end" >> "$work/uptime.txt"
  kill -TERM "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
  mv "$work/samples.csv" "$raw/$tag.samples.csv"
  mv "$work/uptime.txt" "$raw/$tag.uptime.txt"
  if [[ $tool == hubbatch* ]]; then
    cp "$work/client.err" "$raw/$tag.log.jsonl"
  else
    # The SDK's stderr: its retry lines, counted ("will retry [N] time in [MS] ms").
    sort "$work/client.err" | uniq -c | sort -rn > "$raw/$tag.sdk-stderr.txt"
  fi
}

# Exempt: sandbox --exempt-batch --capacity 60/s (the 10 s window, 190/10s,
# does not count the batch routes; above 60 accepted requests in a trailing
# second a 429 SECONDLY without Retry-After; answers slower from 45/s). About
# 2 minutes of requests at 55/s (30 s with --quick), 100 labelled pairs a
# request (batch/create takes 100 here). hubbatch with its defaults
# (--rate auto switches to its adaptive pace) alternated with the SDK and its
# README limiter; then the SDK unpaced once, to see what it does with 429
# SECONDLY (its README limiter stays at 9/s, far below the capacity).
exempt_scenarios() {
  local pairs=650000 runs_e=2
  ((quick)) && pairs=165000 runs_e=1
  gen_labelled exempt "$pairs" 8
  printf 'category,type_id,label\nUSER_DEFINED,36,Billing contact\n' > "$work/labels.csv"
  local saved_op=$op saved_csv=$runs_csv
  op=create
  runs_csv="$raw/exempt-runs.csv"
  seeds=()
  bg_args=()
  before_client=pace_before_client after_client=pace_after_client
  hb_log_args=(--log-format json --progress-interval 1s)
  local sb=(--exempt-batch --capacity 60/s --labels "$work/labels.csv")
  scenario exempt 190/10s auto exempt "$runs_e" "hubbatch sdk" "${sb[@]}"
  scenario exempt 190/10s auto exempt 1 "sdk-nolimit" "${sb[@]}"
  before_client="" after_client="" hb_log_args=()
  op=$saved_op
  runs_csv=$saved_csv
}

# Batch size: sandbox --max-inputs create:2000 at 190/10s (not exempt), 1M
# labelled pairs (100k with --quick): hubbatch's defaults (--batch-size auto)
# against --batch-size 100, in that order, then the defaults again in full mode.
batchsize_scenarios() {
  local pairs=1000000
  ((quick)) && pairs=100000
  gen_labelled batchsize "$pairs" 9
  printf 'category,type_id,label\nUSER_DEFINED,36,Billing contact\n' > "$work/labels.csv"
  local saved_op=$op saved_csv=$runs_csv
  op=create
  runs_csv="$raw/batchsize-runs.csv"
  seeds=()
  bg_args=()
  before_client=pace_before_client after_client=pace_after_client
  hb_log_args=(--log-format json --progress-interval 10s)
  local sb=(--max-inputs create:2000 --labels "$work/labels.csv")
  scenario batchsize 190/10s auto batchsize 1 "hubbatch hubbatch-bs100" "${sb[@]}"
  ((quick)) || one_run batchsize hubbatch 2 190/10s "${sb[@]}"
  before_client="" after_client="" hb_log_args=()
  op=$saved_op
  runs_csv=$saved_csv
}

if [[ -n $only ]]; then
  "${only}_scenarios"
  log "writing the ${only^} section of $results/latest.md"
  python3 "$here/tools/summarize.py" --raw "$raw" --out "$results" --hubbatch "$hubbatch" \
      --peer "$here/peer" --mode "$([[ $quick == 1 ]] && echo quick || echo full)" --only "$only"
  log "done: $results/latest.md"
  exit 0
fi
gen_data pro "$p_pro" 1
gen_data unthrottled "$p_unth" 2
gen_data scale "$p_scale" 3
gen_data faults "$p_fault" 4
gen_data background 200000 5
gen_data profile 200000 6

bg_args=()
seeds=(--seed "$data/pro.csv" --seed-types contacts:companies)
scenario professional 190/10s auto pro "$runs" "hubbatch sdk"
scenario free 100/10s auto pro "$runs" "hubbatch sdk"

seeds=(--seed "$data/unthrottled.csv" --seed-types contacts:companies)
scenario unthrottled 0 0 unthrottled "$runs" "hubbatch sdk-nolimit"

seeds=(--seed "$data/scale.csv" --seed-types contacts:companies)
scenario scale 0 0 scale "$runs" "hubbatch hubbatch@unthrottled"
if ((sdk_scale_runs)); then
  # The SDK holds the whole input in memory; give Node room, and a deadline.
  export NODE_OPTIONS=--max-old-space-size=12288
  client_timeout=600 scenario scale 0 0 scale "$sdk_scale_runs" "sdk-nolimit"
  unset NODE_OPTIONS
fi

seeds=(--seed "$data/faults.csv" --seed-types contacts:companies)
scenario faults 0 0 faults "$runs" "hubbatch sdk-nolimit" --fault-5xx 0.05 --fault-reset 0.05 --fault-seed 7

# Shared budget: a second integration (hubbatch --rate 60/10s on deals->companies,
# same token) runs throughout; the tool under test uses what is left of 190/10s.
seeds=(--seed "$data/pro.csv" --seed-types contacts:companies --seed "$data/background.csv" --seed-types deals:companies)
bg_args=(--from-type deals --to-type companies --input "$data/background.csv" --rate 60/10s)
bg_rate=60/10s
bg_lead_s=3
scenario shared 190/10s auto pro "$runs" "hubbatch sdk"
bg_args=()

create_scenarios
export_scenarios
scale_scenarios
exempt_scenarios
batchsize_scenarios

profile_hubbatch 200000

log "writing results"
python3 "$here/tools/summarize.py" --raw "$raw" --out "$results" --hubbatch "$hubbatch" \
    --peer "$here/peer" --mode "$([[ $quick == 1 ]] && echo quick || echo full)"
log "done: $results/latest.md"
