#!/usr/bin/env bash
# Sets everything up (tests/tools/setup.sh) and runs every test: the native suite (ctest, under
# AddressSanitizer + UBSan) and the Node suite over the WebAssembly build.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
tests/tools/setup.sh tests

printf '\n== native tests (ctest)\n'
ctest --test-dir build/native --output-on-failure -j2

printf '\n== Node tests (WebAssembly build)\n'
node --test tests/js/
