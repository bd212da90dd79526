#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of hostile input (fuzz/, cargo-fuzz
# with libFuzzer; no sanitizer, which stable Rust cannot build: TOOLCHAIN.md).
#
#   scripts/fuzz.sh smoke   each target replays its corpus, then runs
#                           FUZZ_SMOKE_RUNS (default 20,000) executions from a
#                           fixed seed: `make test`
#   scripts/fuzz.sh run     each target until FUZZ_RUNS executions (default
#                           10 million) or FUZZ_SECONDS (default 1800); writes
#                           the executions per target to fuzz/RESULTS.md: `make fuzz`
#
# fuzz/seeds/<target>/ holds hand-picked inputs (real documents, edge cases);
# inputs that add coverage are kept in fuzz/corpus/<target>/ (minimised with
# `cargo fuzz cmin` before they are committed). A crash is written to
# fuzz/artifacts/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
mode=${1:-smoke}
targets=$(cargo fuzz list)
say() { echo "[fuzz] $*"; }

say "building $(echo $targets | wc -w) targets"
cargo fuzz build --sanitizer none -O >/dev/null 2>build.log || { cat build.log >&2; exit 1; }
rm -f build.log

results=()
for t in $targets; do
  mkdir -p "corpus/$t"
  if [ "$mode" = smoke ]; then
    # A fixed seed and count: the same executions on every run, so a smoke
    # check cannot fail by chance (new crashes are found by `make fuzz`).
    args=(-runs="${FUZZ_SMOKE_RUNS:-20000}" -seed=1)
  else
    args=(-runs="${FUZZ_RUNS:-10000000}" -max_total_time="${FUZZ_SECONDS:-1800}")
  fi
  # A scratch copy of the corpus for smoke runs, so `make test` leaves the
  # kept corpus as it is.
  dir="corpus/$t"
  if [ "$mode" = smoke ]; then dir=$(mktemp -d); cp -r "corpus/$t/." "$dir/"; fi
  log=$(mktemp)
  if ! cargo fuzz run --sanitizer none -O "$t" "$dir" "seeds/$t" -- -max_len=1024 -print_final_stats=1 "${args[@]}" >"$log" 2>&1; then
    grep -E "panicked|SUMMARY|Test unit written" "$log" >&2 || tail -20 "$log" >&2
    say "$t: FAILED"
    exit 1
  fi
  runs=$(awk '/stat::number_of_executed_units/{print $2}' "$log")
  secs=$(awk '/^Done [0-9]+ runs in/{print $5}' "$log")
  say "$t: $runs executions in ${secs}s, no crash"
  results+=("| \`$t\` | $runs | $secs |")
  [ "$mode" = smoke ] && rm -rf "$dir"
  rm -f "$log"
done

if [ "$mode" = run ]; then
  {
    echo "# Fuzzing results"
    echo
    echo "Written by \`make fuzz\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(rustc --version),"
    echo "cargo-fuzz $(cargo fuzz --version | awk '{print $2}'), libFuzzer without sanitizer."
    echo
    echo "| target | executions | seconds |"
    echo "|---|---:|---:|"
    printf '%s\n' "${results[@]}"
  } > RESULTS.md
  say "wrote fuzz/RESULTS.md"
fi
