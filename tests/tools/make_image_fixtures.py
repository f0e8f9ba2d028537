#!/usr/bin/python3
"""Writes the image preprocessing references for tests/js/images.test.mjs and tests/browser/.

    /usr/bin/python3 tests/tools/make_image_fixtures.py .cache/images

Copies three CC0 photos from Debian's python3-skimage (chelsea, coffee, astronaut) and writes
what torchvision makes of them: float32 tensors (<image>.<case>.f32, little-endian, row-major)
and cases.json giving, per case, the imageToTensor options that should reproduce it. The
`imagenet` cases go through PIL (transforms.Resize/CenterCrop on a PIL image, the usual
pipeline); the others through torchvision's tensor functions on uint8 tensors with
antialias=True. chelsea.jpg (PIL, quality 95, 4:4:4) checks the Node JPEG decoder against PIL's.
Idempotent: nothing is rewritten when the outputs are newer than this script.
"""
import json
import os
import shutil
import sys

import numpy as np
import skimage
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def main(out):
    os.makedirs(out, exist_ok=True)
    manifest = os.path.join(out, 'cases.json')
    if os.path.exists(manifest) and os.path.getmtime(manifest) > os.path.getmtime(__file__):
        return
    data_dir = os.path.join(os.path.dirname(skimage.__file__), 'data')
    cases = []

    def save(image, case, options, tensor, kind, source=None):
        arr = tensor.detach().to(torch.float32).contiguous().numpy()
        file = f'{image}.{case}.f32'
        arr.astype('<f4').tofile(os.path.join(out, file))
        cases.append({'image': image, 'source': source or f'{image}.png', 'case': case, 'options': options, 'dims': list(arr.shape), 'file': file, 'kind': kind})

    def uint8_tensor(name):
        pil = Image.open(os.path.join(out, name)).convert('RGB')
        return torch.from_numpy(np.asarray(pil).copy()).permute(2, 0, 1).contiguous()

    for image in ('chelsea', 'coffee', 'astronaut'):
        shutil.copyfile(os.path.join(data_dir, f'{image}.png'), os.path.join(out, f'{image}.png'))
        pil = Image.open(os.path.join(out, f'{image}.png')).convert('RGB')
        pipeline = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
        save(image, 'imagenet', {'preset': 'imagenet'}, pipeline(pil).unsqueeze(0), 'resize')

    # Upsample one side, downsample the other; BGR, NHWC, 0-255, no normalization.
    t = F.resize(uint8_tensor('coffee.png'), [480, 300], antialias=True)
    save('coffee', 'exact-size-bgr-nhwc',
         {'preset': 'none', 'resize': [480, 300], 'scale': '0-255', 'channels': 'BGR', 'layout': 'NHWC'},
         t.flip(0).permute(1, 2, 0).unsqueeze(0).float(), 'resize')
    # Shorter side 200, then an odd crop whose offset rounds half to even.
    t = F.center_crop(F.resize(uint8_tensor('astronaut.png'), 200, antialias=True), [199, 150])
    save('astronaut', 'odd-crop', {'preset': 'imagenet', 'resize': 200, 'crop': [199, 150]},
         F.normalize(t.float() / 255, MEAN, STD).unsqueeze(0), 'resize')
    # A crop larger than the image pads with zeros; no resampling, so exact.
    t = F.center_crop(uint8_tensor('chelsea.png'), [320, 480])
    save('chelsea', 'pad-crop', {'preset': 'none', 'crop': [320, 480]}, (t.float() / 255).unsqueeze(0), 'exact')

    Image.open(os.path.join(out, 'chelsea.png')).convert('RGB').save(
        os.path.join(out, 'chelsea.jpg'), quality=95, subsampling=0)
    pil = Image.open(os.path.join(out, 'chelsea.jpg')).convert('RGB')
    save('chelsea-jpg', 'none', {'preset': 'none'}, T.ToTensor()(pil).unsqueeze(0), 'jpeg', 'chelsea.jpg')

    with open(manifest, 'w') as f:
        json.dump({'cases': cases}, f, indent=1)


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.cache/images')
