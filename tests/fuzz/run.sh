#!/bin/sh
# Builds the libFuzzer targets with clang (ASan+UBSan, build-fuzz/) and runs
# each for SECONDS (default 60), niced, one after the other. The corpus each
# target grows is kept in build-fuzz/corpus/NAME (the seeds in
# tests/fuzz/corpus/NAME stay untouched); a crash leaves its input in
# build-fuzz/artifacts/ and makes the script exit 1.
#
#   tests/fuzz/run.sh 600                 # every target, 10 minutes each
#   tests/fuzz/run.sh 60 pair_parser      # one target
set -eu
seconds=${1:-60}
shift 2>/dev/null || true
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${HUBBATCH_FUZZ_BUILD:-$root/build-fuzz}
jobs=${HUBBATCH_FUZZ_JOBS:-2}

targets="$*"
[ -n "$targets" ] || targets="pair_parser read_pairs_file response_decoder rate_limit_headers config_parsers sandbox_request journal_reader read_response"

nice -n 19 cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DHUBBATCH_FUZZ=ON -DHUBBATCH_TESTS=OFF >/dev/null
for t in $targets; do
  nice -n 19 cmake --build "$build" -j"$jobs" --target "fuzz_$t" >/dev/null
done

mkdir -p "$build/artifacts"
status=0
for t in $targets; do
  mkdir -p "$build/corpus/$t"
  echo "== fuzz_$t: ${seconds}s"
  start=$(date +%s)
  if nice -n 19 "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/artifacts/$t-" \
      "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" >"$build/fuzz_$t.log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  end=$(date +%s)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz_$t.log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$build/fuzz_$t.log" | tail -1 | grep -o '[0-9]*' || echo "?")
  echo "fuzz_$t: $result in $((end - start))s, $execs runs, cov $cov (log: $build/fuzz_$t.log)"
done
exit $status
