#!/usr/bin/env bash
# Batch descriptors with the `onnxfx` command: sets up (tests/tools/setup.sh demo, which also
# fetches the demo model and photos), installs the package the way a user does (npm pack +
# install into .cache/demos/cli), then runs `onnxfx ARGS...`. Without arguments it lists the
# demo MobileNetV2's nodes and extracts 1280-d descriptors of the demo gallery:
#
#   demos/extract.sh
#   demos/extract.sh extract MODEL.onnx IMAGES_DIR --nodes layer3,layer4 --pool avg -o feats.npy
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -n "${ONNXFX_NO_SETUP:-}" ]] || bash "$repo/tests/tools/setup.sh" demo >&2   # ONNXFX_NO_SETUP=1: already set up
cli="$repo/.cache/demos/cli"
mkdir -p "$cli/pack"
rm -f "$cli"/pack/*.tgz
(cd "$repo/web" && npm pack --silent --pack-destination "$cli/pack" >/dev/null)
[[ -f "$cli/package.json" ]] || echo '{"name": "onnxfx-demo-cli", "private": true}' > "$cli/package.json"
(cd "$cli" && npm install --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error ./pack/onnxfx-*.tgz >/dev/null)
onnxfx="$cli/node_modules/.bin/onnxfx"
printf '\n== demo (%s)\n' "$onnxfx" >&2
if (($#)); then exec "$onnxfx" "$@"; fi
model="$repo/.cache/demos/mobilenet_v2.onnx"
"$onnxfx" nodes "$model" | sed -n '1p;$p;/^pool /p;/^features\.18\.relu /p'
"$onnxfx" extract "$model" "$repo/.cache/demos/gallery" --nodes pool --preset none -o "$repo/.cache/demos/gallery.npy"
/usr/bin/python3 -c 'import numpy, sys; a = numpy.load(sys.argv[1]); print("numpy:", a.shape, a.dtype)' "$repo/.cache/demos/gallery.npy"
