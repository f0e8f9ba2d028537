#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan + LeakSanitizer) in build/fuzz and fuzzes
# each for SECONDS, one after the other (two cores are shared: one job at a time).
#
#   tests/fuzz/run.sh 30             # a quick look: 4 targets x 30 s
#   tests/fuzz/run.sh 3600           # the long run (see docs/robustness.md)
#   JOBS=2 tests/fuzz/run.sh 3600    # two fuzzing processes per target
#   FUZZ_SEED=1 FUZZ_RUNS=1500000 tests/fuzz/run.sh 180
#                                    # CI: a fixed number of runs from seed 1 and the committed
#                                    # seeds only, so a faster machine does not go further than
#                                    # runs here went (with a time limit alone, CI's machine once
#                                    # met a bug first); the time limit stays a cap. The inputs are
#                                    # close to, not exactly, the same on every run: coverage
#                                    # feedback varies a little (two clean runs of one commit kept
#                                    # 775 and 817 decode inputs)
#
# Seeds: the committed corpus (tests/fuzz/corpus), every crash ever found
# (tests/fuzz/regressions) and the small model.onnx files of Debian's libonnx-testdata, copied
# into build/fuzz/seeds at run time. What a run adds is kept in build/fuzz/corpus/<target>
# (not committed). A crash stops the run with a non-zero status; its input is written to
# build/fuzz/crashes/<target>/ and must be committed to tests/fuzz/regressions/ once fixed.
# The last line per target is libFuzzer's final stats; build/fuzz/summary.txt collects them.
set -euo pipefail
seconds="${1:?usage: tests/fuzz/run.sh SECONDS}"
jobs="${JOBS:-1}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$repo/build/fuzz"
cd "$repo"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  CC=clang cmake -S . -B "$build" -DOFX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 >/dev/null

seeds="$build/seeds"
mkdir -p "$seeds"
testdata=/usr/share/libonnx-testdata/data
if [[ -d "$testdata" ]]; then
  # small models only (the fuzzer mutates them; big ones slow every execution down)
  find "$testdata" -name model.onnx -size -6k -print0 | sort -z | while IFS= read -r -d '' f; do
    name="${f#"$testdata"/}"; name="${name//\//_}"
    [[ -f "$seeds/$name" ]] || cp "$f" "$seeds/$name"
  done
fi

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"
: >"$build/summary.txt"
status=0
parallel=()
((jobs > 1)) && parallel=(-jobs="$jobs" -workers="$jobs")
runs=()
[[ -n "${FUZZ_RUNS:-}" ]] && runs=(-runs="$FUZZ_RUNS")
for target in decode graph plan run; do
  corpus="$build/corpus/$target"
  # a fixed-length run starts from the committed seeds alone, as on a fresh clone
  [[ -n "${FUZZ_RUNS:-}" ]] && corpus="$build/corpus-fixed/$target" && rm -rf "$corpus"
  crashes="$build/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  log="$build/fuzz-$target.log"
  echo "== fuzz-$target: ${seconds}s"
  set +e
  "$build/tests/fuzz/fuzz-$target" "$corpus" tests/fuzz/corpus tests/fuzz/regressions "$seeds" \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -seed="${FUZZ_SEED:-0}" \
    ${runs[@]+"${runs[@]}"} ${parallel[@]+"${parallel[@]}"} -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$log" 2>&1
  rc=$?
  set -e
  if ((jobs > 1)); then cat fuzz-[0-9]*.log >>"$log" 2>/dev/null; rm -f fuzz-[0-9]*.log; fi
  execs=$( (grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" || true) | awk '{s += $2} END {print s + 0}')
  files=$(find "$corpus" -type f | wc -l)
  line="fuzz-$target: ${seconds}s, $execs executions, corpus $files files, exit $rc"
  echo "$line" | tee -a "$build/summary.txt"
  if ((rc != 0)); then
    status=1
    echo "fuzz-$target found a problem; the input is in $crashes, the report in $log:" >&2
    grep -m1 -A25 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|deadly signal' "$log" >&2 || tail -40 "$log" >&2
  fi
done
exit $status
