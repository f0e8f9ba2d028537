#!/usr/bin/env bash
# Fetches what the demos use into .cache/demos/ (idempotent; only the npm registry is contacted):
#   mobilenet_v2.onnx  nsfwjs@4.4.0's trained MobileNetV2 (MIT), converted by convert_nsfwjs.py
#   mlsd_320x320_tiny.onnx  jp.keijiro.mlsd@1.0.0's line detector (Apache-2.0), from the tarball
#   photos/            CC0 photos from Debian's python3-skimage
#   gallery/           the photos plus flipped, cropped and rotated copies (retrieval demo)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$repo/.cache/demos"
mkdir -p "$out/npm"
cd "$out/npm"

pack() {  # pack NAME@VERSION FILE: npm pack once
  [[ -f "$2" ]] || npm pack --silent "$1" >/dev/null
}

if [[ ! -f "$out/mlsd_320x320_tiny.onnx" ]]; then
  pack jp.keijiro.mlsd@1.0.0 jp.keijiro.mlsd-1.0.0.tgz
  tar xzf jp.keijiro.mlsd-1.0.0.tgz -O package/ONNX/mlsd_320x320_tiny.onnx > "$out/mlsd_320x320_tiny.onnx.tmp"
  mv "$out/mlsd_320x320_tiny.onnx.tmp" "$out/mlsd_320x320_tiny.onnx"
fi

# nsfwjs/model.json + weights.bin stay: tests/js/retrieval.test.mjs runs the original with TensorFlow.js.
if [[ ! -f "$out/mobilenet_v2.onnx" || ! -f nsfwjs/weights.bin || "$repo/tests/tools/convert_nsfwjs.py" -nt "$out/mobilenet_v2.onnx" ]]; then
  pack nsfwjs@4.4.0 nsfwjs-4.4.0.tgz
  rm -rf nsfwjs && mkdir nsfwjs
  tar xzf nsfwjs-4.4.0.tgz -C nsfwjs --strip-components=4 package/dist/models/mobilenet_v2
  # The model and its shard are UMD scripts: the topology object and the base64 weights.
  cp nsfwjs/model.min.js nsfwjs/model.cjs
  cp nsfwjs/group1-shard1of1.min.js nsfwjs/shard.cjs
  node -e '
    const fs = require("fs");
    const m = require(process.argv[1] + "/model.cjs");
    fs.writeFileSync(process.argv[1] + "/model.json", JSON.stringify(m));
    fs.writeFileSync(process.argv[1] + "/weights.bin", Buffer.from(require(process.argv[1] + "/shard.cjs"), "base64"));
  ' "$PWD/nsfwjs"
  /usr/bin/python3 "$repo/tests/tools/convert_nsfwjs.py" nsfwjs/model.json nsfwjs/weights.bin "$out/mobilenet_v2.onnx.tmp"
  mv "$out/mobilenet_v2.onnx.tmp" "$out/mobilenet_v2.onnx"
fi

skdata=$(/usr/bin/python3 -c 'import os, skimage.data; print(os.path.dirname(skimage.data.__file__))' 2>/dev/null)
/usr/bin/python3 - "$skdata" "$out" <<'PY'
import os, sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
names = ['chelsea.png', 'coffee.png', 'astronaut.png', 'rocket.jpg', 'brick.png', 'grass.png', 'gravel.png']
os.makedirs(f'{out}/photos', exist_ok=True)
os.makedirs(f'{out}/gallery', exist_ok=True)
for name in names:
    stem = name.rsplit('.', 1)[0]
    if os.path.exists(f'{out}/gallery/{stem}.rotated.png'):
        continue
    img = Image.open(os.path.join(src, name)).convert('RGB')
    img.save(f'{out}/photos/{stem}.png')
    img.save(f'{out}/gallery/{stem}.png')
    w, h = img.size
    img.transpose(Image.FLIP_LEFT_RIGHT).save(f'{out}/gallery/{stem}.flipped.png')
    img.crop((w // 10, h // 10, w - w // 10, h - h // 10)).save(f'{out}/gallery/{stem}.cropped.png')
    img.rotate(15, resample=Image.BILINEAR, expand=False).save(f'{out}/gallery/{stem}.rotated.png')
# The list the retrieval page loads.
import json
files = sorted(f for f in os.listdir(f'{out}/gallery') if f.endswith('.png'))
with open(f'{out}/gallery/gallery.json', 'w') as f:
    json.dump(files, f, indent=0)
PY
echo "demo assets in $out"
