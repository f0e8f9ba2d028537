#!/usr/bin/env bash
# Sets up (tests/tools/setup.sh demo + the peers' npm packages + the benchmark models) and runs
# the benchmark, writing docs/benchmarks.md. Extra arguments go to bench/run.mjs.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash tests/tools/setup.sh demo
(cd bench && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
/usr/bin/python3 tests/tools/export_models.py --models resnet50,mobilenet_v2,efficientnet_b0,vit_b_16
/usr/bin/python3 bench/make_layer_models.py "$repo/.cache/bench"
# the same network as people ship it: float16 (float32 inputs and outputs kept) and dynamic int8
/usr/bin/python3 tests/tools/make_precision_models.py "$repo/.cache/models/resnet50.onnx"
/usr/bin/python3 tests/tools/quantize_dynamic.py "$repo/.cache/models/resnet50.onnx"
node bench/run.mjs --write docs/benchmarks.md "$@"
