#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run each one briefly (CI's
# fuzzing step; docs/fuzzing.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 60 ref oci
#
# SECONDS per target (default 20); TARGETs are names without the fuzz_
# prefix (default: every fuzz/fuzz_*.c). Each target starts from a copy of
# fuzz/corpus/<target>/ in a temporary directory, so the tree is never
# written to, and uses fuzz/<target>.dict when there is one. Findings
# (crashes, broken invariants, leaks, timeouts, out-of-memory) are kept in
# $BUILD/fuzz-artifacts/<target>/; the script prints each reproducer's path
# and exits 1 when any target found something.
#
# Environment: BUILD (default build-fuzz), JOBS (default 2).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
shift || true
build=${BUILD:-build-fuzz}
case $build in /*) ;; *) build="$top/$build" ;; esac
jobs=${JOBS:-2}

die() {
  echo "fuzz: $*" >&2
  exit 1
}

case $seconds in
  '' | *[!0-9]*) die "invalid SECONDS '$seconds': want a positive integer" ;;
esac
[ "$seconds" -gt 0 ] || die "invalid SECONDS '$seconds': want a positive integer"
command -v clang >/dev/null || die "clang not found: install it (scripts/deps.sh)"

CC=clang cmake -S "$top" -B "$build" -DGANTRY_FUZZ=ON -DGANTRY_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" --target fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in "$top"/fuzz/fuzz_*.c; do
    name=${src##*/fuzz_}
    targets+=("${name%.c}")
  done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gantry-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Run one target; return 1 when it found something.
run_target() {
  local name=$1 bin="$build/fuzz/fuzz_$1" art="$build/fuzz-artifacts/$1"
  [ -x "$bin" ] || die "no fuzz target '$name' ($bin)"
  mkdir -p "$work/$name" "$art"
  if [ -d "$top/fuzz/corpus/$name" ]; then
    cp -R "$top/fuzz/corpus/$name/." "$work/$name/"
  fi
  local args=(-max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10
    -print_final_stats=1 -artifact_prefix="$art/")
  [ -f "$top/fuzz/$name.dict" ] && args+=(-dict="$top/fuzz/$name.dict")
  local log="$art/fuzz.log" rc=0 before
  before=$(find "$art" -type f ! -name fuzz.log | wc -l)
  echo "fuzz: $name for ${seconds}s"
  timeout $((seconds + 120)) "$bin" "${args[@]}" "$work/$name" >"$log" 2>&1 || rc=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed "s/^/fuzz: $name: /" || true
  if [ "$rc" -eq 0 ] && [ "$(find "$art" -type f ! -name fuzz.log | wc -l)" -eq "$before" ]; then
    return 0
  fi
  echo "fuzz: $name FAILED (exit $rc), log: $log" >&2
  grep -E 'ERROR: |SUMMARY: |invariant failed|^fuzz_' "$log" | head -n 20 >&2 || true
  find "$art" -type f ! -name fuzz.log -newer "$work" | while read -r f; do
    echo "fuzz: reproducer: $f (run: $bin $f)" >&2
  done
  return 1
}

failed=()
for t in "${targets[@]}"; do
  run_target "$t" || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  die "findings in: ${failed[*]}"
fi
echo "fuzz: no findings in ${targets[*]}"
