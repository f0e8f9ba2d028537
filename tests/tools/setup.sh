#!/usr/bin/env bash
# Installs what onnxfx needs on Debian 12 and builds it. Idempotent: a second run only
# rebuilds what changed.
#
#   tests/tools/setup.sh demo    Debian + npm packages, test models, the WebAssembly build
#   tests/tools/setup.sh tests   all of that plus the native build (sanitizers) for the tests
set -euo pipefail

mode="${1:-tests}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

log() { printf '\n== %s\n' "$*"; }

# Debian packages. /usr/bin/python3 is Debian's interpreter, the one that sees python3-torch.
debian_packages=(
  build-essential cmake pkg-config emscripten clang libclang-rt-14-dev
  clang-16 lld-16   # the relaxed-SIMD WebAssembly modules (CMakeLists.txt: OFX_RELAXED_SIMD)
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata
  python3 python3-torch python3-torchvision python3-onnx python3-numpy
  python3-pil python3-skimage chromium
)
# tests/js/slurm.test.mjs starts a single-node Slurm (slurmctld, slurmd, munged) of its own;
# nothing here configures or starts them.
if [[ "$mode" == tests ]]; then debian_packages+=(slurm-wlm munge); fi
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 18)); then
  echo "onnxfx needs Node.js 18 or newer (found $(node --version))" >&2
  exit 1
fi

# npm test dependencies. onnxruntime-node's install script downloads (and fails here); its CPU
# binary ships inside the package, so scripts are skipped.
# sharp (tests/js/decoders.test.mjs) needs no script either: libvips ships in @img/sharp-*.
if [[ "$mode" == tests ]]; then
  if [[ ! -d tests/node_modules/onnxruntime-node ]] || [[ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]]; then
    log "installing npm test dependencies"
    (cd tests && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
fi

log "exporting test models (random weights, torchvision references)"
/usr/bin/python3 tests/tools/export_models.py --out "$repo/.cache/models"
if [[ "$mode" == tests ]]; then
  # one small model per torchvision family, for tests/js/zoo.test.mjs (~3 min the first time)
  /usr/bin/python3 tests/tools/export_models.py --out "$repo/.cache/models" --family-smallest
fi
/usr/bin/python3 tests/tools/make_naming_models.py "$repo/.cache/models/naming"
/usr/bin/python3 tests/tools/quantize_dynamic.py "$repo/.cache/models/resnet18.onnx"   # int8, as quantize_dynamic writes it
# float16 conversions of resnet18.onnx, with and without float32 inputs/outputs (precision.test.mjs)
/usr/bin/python3 tests/tools/make_precision_models.py "$repo/.cache/models/resnet18.onnx"
/usr/bin/python3 tests/tools/make_image_fixtures.py "$repo/.cache/images"
bash tests/tools/fetch_demo_assets.sh   # demo models (npm pack + conversion) and CC0 photos
if [[ "$mode" == tests ]]; then
  # static int8 as quantize_static writes it, QDQ and QOperator (qdq.test.mjs): calibrated on the
  # photos above, running the float model with onnxruntime-node
  /usr/bin/python3 tests/tools/quantize_static.py "$repo/.cache/models/resnet18.onnx" --images "$repo/.cache/demos/photos"
fi

# Emscripten's tools need acorn from Debian's node modules.
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"
log "building the WebAssembly module (web/dist)"
if [[ ! -f build/wasm/CMakeCache.txt ]]; then
  emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build/wasm -j2 2>&1 | grep -v "Wpthreads-mem-growth" || true
test -f web/dist/onnxfx.wasm

if [[ "$mode" == tests ]]; then
  log "building the native core and tests (AddressSanitizer + UBSan)"
  if [[ ! -f build/native/CMakeCache.txt ]]; then
    cmake -S . -B build/native -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOFX_SANITIZE=ON >/dev/null
  fi
  cmake --build build/native -j2 >/dev/null
fi
