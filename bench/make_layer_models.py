#!/usr/bin/python3
"""Single-layer ONNX models for bench/run.mjs, the layers issue #5 measures against peers.

  conv3x3_64.onnx      3x3 conv 64->64 at 56x56, pad 1 (ResNet layer1)
  conv1x1_256_64.onnx  1x1 conv 256->64 at 56x56 (ResNet-50 bottleneck reduce)
  dwconv3x3_144.onnx   depthwise 3x3 x144 at 56x56, pad 1 (MobileNetV2 block 2)

Random weights, input "x" NCHW batch 1, output "y". Run with Debian's interpreter:
/usr/bin/python3 bench/make_layer_models.py OUT_DIR
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LAYERS = {
    # name: (in_channels, out_channels, kernel, group, size)
    "conv3x3_64": (64, 64, 3, 1, 56),
    "conv1x1_256_64": (256, 64, 1, 1, 56),
    "dwconv3x3_144": (144, 144, 3, 144, 56),
}


def layer_model(cin, cout, k, group, size, seed):
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array((rng.standard_normal((cout, cin // group, k, k)) * 0.1).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(cout).astype(np.float32), "b")
    pad = k // 2
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="/conv/Conv", group=group, pads=[pad] * 4,
                            kernel_shape=[k, k])
    graph = helper.make_graph([node], "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, size, size])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, size, size])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    meta = {}
    for seed, (name, (cin, cout, k, group, size)) in enumerate(LAYERS.items()):
        onnx.save(layer_model(cin, cout, k, group, size, seed), out / f"{name}.onnx")
        macs = size * size * cout * (cin // group) * k * k
        meta[name] = {"cin": cin, "cout": cout, "kernel": k, "group": group, "size": size, "macs": macs}
    (out / "layers.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"layer models: written to {out}")


if __name__ == "__main__":
    main()
