#!/usr/bin/env bash
# Sets everything up (tests/tools/setup.sh) and runs every test:
#   - native ctest under AddressSanitizer + UBSan: the protobuf-c oracle for the ONNX reader,
#     the ONNX conformance suite, torchvision feature comparisons, graph rules, the fuzz corpora
#     and regressions, the kernels against their scalar references;
#   - the WebAssembly SIMD kernels against their scalar references (ctest under node);
#   - a short libFuzzer run of each fuzz target (fixed seed and number of runs);
#   - the Node suite over the WebAssembly build, and the browser suite in Debian's Chromium.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash tests/tools/setup.sh tests

printf '\n== native tests (ctest, AddressSanitizer + UBSan)\n'
ctest --test-dir build/native --output-on-failure -j2

printf '\n== WebAssembly SIMD kernels vs scalar references (ctest under node)\n'
ctest --test-dir build/wasm --output-on-failure -j2

printf '\n== short fuzz run (tests/fuzz/run.sh; the long one is in docs/robustness.md)\n'
FUZZ_SEED=1 FUZZ_RUNS=1500000 bash tests/fuzz/run.sh 180

printf '\n== Node tests (WebAssembly build)\n'
node --test tests/js/

printf '\n== browser tests (Debian Chromium via playwright-core)\n'
node --test tests/browser/
