#!/usr/bin/env bash
# Sets up (tests/tools/setup.sh demo + the peers' npm packages + the benchmark models) and runs
# the benchmark, writing docs/benchmarks.md. Extra arguments go to bench/run.mjs, e.g.
# `bench/run.sh --only relaxed,browser` for issue #16's tables (Node with and without
# --experimental-wasm-relaxed-simd; Debian's /usr/bin/chromium, driven by bench's playwright-core),
# which --write merges into the document next to the other tables.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash tests/tools/setup.sh demo
(cd bench && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
/usr/bin/python3 tests/tools/export_models.py --models resnet50,mobilenet_v2,efficientnet_b0,vit_b_16
/usr/bin/python3 bench/make_layer_models.py "$repo/.cache/bench"
# the same networks as people ship them: float16 (float32 inputs and outputs kept), dynamic int8,
# and static int8 as QDQ and QOperator (calibrated with onnxruntime-node, from tests/node_modules)
(cd tests && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
for net in resnet50 mobilenet_v2; do
  /usr/bin/python3 tests/tools/make_precision_models.py "$repo/.cache/models/$net.onnx"
  /usr/bin/python3 tests/tools/quantize_dynamic.py "$repo/.cache/models/$net.onnx"
  /usr/bin/python3 tests/tools/quantize_static.py "$repo/.cache/models/$net.onnx" --images "$repo/.cache/demos/photos"
done
node bench/run.mjs --write docs/benchmarks.md "$@"
