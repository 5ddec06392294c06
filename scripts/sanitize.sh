#!/bin/sh
# The CI sanitizer job: builds everything with ASan+UBSan into build-asan/
# (or $HUBBATCH_ASAN_BUILD) and runs the whole test suite there. Any
# sanitizer report fails the run (-fno-sanitize-recover=all, halt_on_error).
#
#   scripts/sanitize.sh                    # ASan+UBSan: build + ctest, 2 jobs
#   SANITIZE=thread scripts/sanitize.sh    # TSan instead, into build-tsan/
#   JOBS=4 scripts/sanitize.sh
#
# -O1 -g1: the cheapest build that keeps sanitizer reports readable. About
# 17 minutes to build on the 2-core machine from a cold ccache, 1 minute to
# run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sanitize=${SANITIZE:-address,undefined}
case "$sanitize" in
  thread) default_build=$root/build-tsan ;;
  *) default_build=$root/build-asan ;;
esac
build=${HUBBATCH_ASAN_BUILD:-$default_build}
jobs=${JOBS:-2}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

# No HUBBATCH_WERROR here: GCC 12 with -fsanitize reports false
# -Wmaybe-uninitialized inside Beast's headers (basic_parser content_length);
# the normal CI build keeps warnings fatal.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS="-O1 -g1" -DHUBBATCH_WERROR=OFF \
  -DHUBBATCH_SANITIZE="$sanitize"
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
