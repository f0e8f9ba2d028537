#!/usr/bin/env bash
# Sets up onnxfx (Debian + npm packages, the WebAssembly build, the default model) and runs the
# quick-start demo: node names of ResNet-18, then features of layer1, layer4 and fc.
# Extra arguments go to the demo: demos/quickstart.sh [MODEL.onnx] [NODE ...]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/tests/tools/setup.sh" demo
printf '\n== demo\n'
exec node "$repo/demos/quickstart.mjs" "$@"
