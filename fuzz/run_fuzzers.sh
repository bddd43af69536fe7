#!/bin/sh
# Runs the libFuzzer harnesses one after the other (one process each: the
# build machine has 2 cores shared with other work).
#
#   fuzz/run_fuzzers.sh BUILD_DIR [SECONDS] [HARNESS...]
#
# BUILD_DIR is a build configured with the fuzz preset, e.g.
#   cmake --preset fuzz -B build/fuzz && cmake --build build/fuzz -j2
#   fuzz/run_fuzzers.sh build/fuzz 120
# Each harness reads fuzz/seeds/<h>/ and BUILD_DIR/fuzz/corpus/<h>/ (derived
# from tests/conformance), writes new inputs to BUILD_DIR/fuzz/work/<h>/ and
# crash/leak/timeout inputs to BUILD_DIR/fuzz/artifacts/<h>/. Extra libFuzzer
# flags can be passed in FUZZ_FLAGS. Exit status is non-zero if any harness
# found something; minimize it with
#   BUILD_DIR/fuzz/<h> -minimize_crash=1 -max_total_time=60 -exact_artifact_path=OUT CRASH
# and save OUT as fuzz/regressions/<h>/<name>.
set -u
if [ $# -lt 1 ]; then
  sed -n '2,19p' "$0"
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=${2:-120}
[ $# -ge 2 ] && shift 2 || shift 1
src=$(cd "$(dirname "$0")" && pwd)
harnesses=${*:-"xml_response_fuzzer json_response_fuzzer sigv4_verify_fuzzer config_file_fuzzer sigma_rule_fuzzer"}

UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export UBSAN_OPTIONS
# CLOUDAUDIT_FUZZ_IGNORE=tag,... skips a harness invariant while a reported
# bug is being fixed (see response_harness.h IgnoredInvariant). None today.
export CLOUDAUDIT_FUZZ_IGNORE=${CLOUDAUDIT_FUZZ_IGNORE-}

status=0
for h in $harnesses; do
  exe="$build/fuzz/$h"
  [ -x "$exe" ] || { echo "no $exe: build the fuzz preset first" >&2; exit 2; }
  dict=""
  case $h in
    xml_response_fuzzer) dict="-dict=$src/dicts/xml.dict" ;;
    json_response_fuzzer) dict="-dict=$src/dicts/json.dict" ;;
    sigv4_verify_fuzzer) dict="-dict=$src/dicts/sigv4.dict" ;;
    config_file_fuzzer) dict="-dict=$src/dicts/config_file.dict" ;;
    sigma_rule_fuzzer) dict="-dict=$src/dicts/sigma.dict" ;;
  esac
  mkdir -p "$build/fuzz/work/$h" "$build/fuzz/artifacts/$h" "$build/fuzz/corpus/$h"
  echo "== $h for ${seconds}s"
  # shellcheck disable=SC2086  # FUZZ_FLAGS and dict are word lists
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz/artifacts/$h/" $dict ${FUZZ_FLAGS:-} \
    "$build/fuzz/work/$h" "$src/seeds/$h" "$build/fuzz/corpus/$h" \
    > "$build/fuzz/artifacts/$h/log.txt" 2>&1
  rc=$?
  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
    "$build/fuzz/artifacts/$h/log.txt"
  if [ $rc -ne 0 ]; then
    echo "!! $h exited with $rc; see $build/fuzz/artifacts/$h/log.txt" >&2
    grep -E '^SUMMARY|invariant violated|runtime error' "$build/fuzz/artifacts/$h/log.txt" | head -5 >&2
    status=1
  fi
done
exit $status
