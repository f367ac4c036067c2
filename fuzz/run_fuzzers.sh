#!/usr/bin/env bash
# Runs every fuzz target for a bounded time: run_fuzzers.sh BUILD_DIR SECONDS
# Fails (non-zero) on any finding: a crash, a sanitizer report, a timeout or running out of memory. Crashing
# inputs are saved under BUILD_DIR/fuzz-findings/. The seed corpora in fuzz/corpus/ are only read; new inputs
# go to a scratch corpus in BUILD_DIR so repeated runs keep what earlier runs learned.
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
findings="$build/fuzz-findings"
mkdir -p "$findings"

status=0
for target in fuzz_safetensors_header fuzz_model_config; do
  exe="$build/fuzz/$target"
  if [[ ! -x $exe ]]; then
    echo "error: $exe not built (cmake --build $build --target fuzz_targets)" >&2
    exit 1
  fi
  work="$build/fuzz-corpus/$target"
  mkdir -p "$work"
  echo "== $target for ${seconds}s" >&2
  # -timeout: one input taking >10 s is a finding; -rss_limit_mb: so is using >2 GB.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
      -dict="$here/json.dict" -artifact_prefix="$findings/$target-" "$work" "$here/corpus/$target" \
      2> "$build/fuzz-$target.log"; then
    echo "error: $target found a failing input (see $build/fuzz-$target.log and $findings/)" >&2
    tail -n 40 "$build/fuzz-$target.log" >&2
    status=1
  else
    grep -E "^(stat::number_of_executed_runs|stat::peak_rss_mb)|^Done" "$build/fuzz-$target.log" >&2 || true
  fi
done
exit $status
