#!/usr/bin/env bash
# Sets up (Debian + npm packages, the WebAssembly build, the demo model and photos), then serves
# the demo pages on http://127.0.0.1:8080/ (feature-map explorer, image retrieval).
# ONNXFX_NO_SETUP=1 skips the set-up. Arguments go to the server: demos/serve.sh --port 9000
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -n "${ONNXFX_NO_SETUP:-}" ]] || bash "$repo/tests/tools/setup.sh" demo
exec node "$repo/demos/explorer/serve.mjs" "$@"
