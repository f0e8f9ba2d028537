#!/usr/bin/python3
"""Small ONNX models that exercise onnxfx's naming, views, selection and graph surgery.

Each model imitates one producer's naming convention (names and metadata as those producers
write them) on a tiny graph of ops onnxfx runs. Written to DIR (default <repo>/.cache/models/naming):

  dynamo.onnx      torch.export-based exporter: nodes "node_<fx name>" with
                   metadata pkg.torch.onnx.name_scopes (cumulative module paths, then the fx name)
  tf2onnx.onnx     TensorFlow paths "StatefulPartitionedCall/model/block1_conv1/Conv2D",
                   tensor names with ":0"
  flat.onnx        model-zoo names ("resnetv17_conv0_fwd"), nameless nodes, a name that ends in
                   "_2", duplicated and odd names
  dropout.onnx     Conv -> Dropout -> Relu: the train view lists the Dropout, the eval view not
  if_implicit.onnx an If whose branches read a value of the main graph (an implicit input)
  multi_output.onnx a node with two outputs (Split)

Run with Debian's interpreter: /usr/bin/python3 tests/tools/make_naming_models.py [DIR]
"""

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO_ROOT = Path(__file__).resolve().parents[2]
RNG = np.random.default_rng(0)


def weight(name, *shape):
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(np.float32), name)


def model(nodes, inputs, outputs, initializers=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnxfx-tests")
    m.ir_version = 8
    helper.set_model_props(m, {"purpose": "onnxfx naming tests"})
    onnx.checker.check_model(m)
    return m


def image(name, channels=3, size=8):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", channels, size, size])


def _varint(n):
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _len_field(number, payload):
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def with_scopes(node, scopes):
    """Adds NodeProto.metadata_props (field 9, newer than Debian's onnx 1.12) as raw bytes;
    protobuf keeps it as an unknown field and writes it back out."""
    entry = _len_field(1, b"pkg.torch.onnx.name_scopes") + _len_field(2, repr(scopes).encode())
    node.MergeFromString(_len_field(9, entry))
    return node


def dynamo():
    """A ResNet basic block as the torch.export-based exporter names it."""
    nodes = [
        with_scopes(helper.make_node("Conv", ["x", "w1"], ["conv2d"], name="node_conv2d", pads=[1, 1, 1, 1]),
                    ["", "layer1", "layer1.0", "layer1.0.conv1", "conv2d"]),
        with_scopes(helper.make_node("Relu", ["conv2d"], ["relu"], name="node_relu"),
                    ["", "layer1", "layer1.0", "layer1.0.relu", "relu"]),
        with_scopes(helper.make_node("Conv", ["relu", "w2"], ["conv2d_1"], name="node_conv2d_1", pads=[1, 1, 1, 1]),
                    ["", "layer1", "layer1.0", "layer1.0.conv2", "conv2d_1"]),
        with_scopes(helper.make_node("Add", ["conv2d_1", "x"], ["add_3"], name="node_add_3"),
                    ["", "layer1", "layer1.0", "add_3"]),
        # the same ReLU module called a second time
        with_scopes(helper.make_node("Relu", ["add_3"], ["relu_1"], name="node_relu_1"),
                    ["", "layer1", "layer1.0", "layer1.0.relu", "relu_1"]),
        with_scopes(helper.make_node("GlobalAveragePool", ["relu_1"], ["mean"], name="node_mean"),
                    ["", "avgpool", "mean"]),
        with_scopes(helper.make_node("Flatten", ["mean"], ["flatten"], name="node_flatten"), ["", "flatten"]),
    ]
    return model(nodes, [image("x", 4)], [helper.make_tensor_value_info("flatten", TensorProto.FLOAT, ["batch", 4])],
                 [weight("w1", 4, 4, 3, 3), weight("w2", 4, 4, 3, 3)])


def tf2onnx():
    p = "StatefulPartitionedCall/model/"
    nodes = [
        helper.make_node("Conv", ["input_1:0", "k1", "b1"], [p + "block1_conv1/BiasAdd:0"], name=p + "block1_conv1/Conv2D",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [p + "block1_conv1/BiasAdd:0"], [p + "block1_conv1/Relu:0"], name=p + "block1_conv1/Relu"),
        helper.make_node("MaxPool", [p + "block1_conv1/Relu:0"], [p + "block1_pool/MaxPool:0"], name=p + "block1_pool/MaxPool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", [p + "block1_pool/MaxPool:0"], ["Identity:0"], name=p + "flatten/Reshape"),
    ]
    return model(nodes, [image("input_1:0")], [helper.make_tensor_value_info("Identity:0", TensorProto.FLOAT, ["batch", 64])],
                 [weight("k1", 4, 3, 3, 3), weight("b1", 4)])


def flat():
    nodes = [
        helper.make_node("Conv", ["data", "w"], ["c0"], name="resnetv17_conv0_fwd", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c0"], ["r0"], name="resnetv17_relu0_fwd"),
        helper.make_node("Relu", ["r0"], ["r1"], name="conv_2"),
        helper.make_node("Relu", ["r1"], ["r2"]),
        helper.make_node("Relu", ["r2"], ["r3"]),
        helper.make_node("Relu", ["r3"], ["r4"], name="dup"),
        helper.make_node("Relu", ["r4"], ["r5"], name="dup"),
        helper.make_node("Relu", ["r5"], ["r6"], name="weird name!"),
    ]
    return model(nodes, [image("data")], [helper.make_tensor_value_info("r6", TensorProto.FLOAT, ["batch", 3, 8, 8])],
                 [weight("w", 3, 3, 3, 3)])


def dropout():
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="/features/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("Dropout", ["c", "ratio"], ["d"], name="/classifier/classifier.0/Dropout"),
        helper.make_node("Relu", ["d"], ["y"], name="/classifier/classifier.1/Relu"),
    ]
    ratio = numpy_helper.from_array(np.array(0.5, dtype=np.float32), "ratio")
    return model(nodes, [image("x")], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 8, 8])],
                 [weight("w", 3, 3, 3, 3), ratio])


def if_implicit():
    """The If's branches read `hidden`, produced in the main graph: pruning must keep its producer."""
    then_graph = helper.make_graph([helper.make_node("Add", ["hidden", "hidden"], ["then_out"])], "then", [],
                                   [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, ["batch", 3, 8, 8])])
    else_graph = helper.make_graph([helper.make_node("Relu", ["hidden"], ["else_out"])], "else", [],
                                   [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, ["batch", 3, 8, 8])])
    nodes = [
        helper.make_node("Relu", ["x"], ["hidden"], name="/encoder/Relu"),
        helper.make_node("Relu", ["x"], ["unrelated"], name="/side/Relu"),
        helper.make_node("If", ["cond"], ["y"], name="/head/If", then_branch=then_graph, else_branch=else_graph),
    ]
    cond = numpy_helper.from_array(np.array(True), "cond")
    return model(nodes, [image("x")], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 8, 8]),
                                        helper.make_tensor_value_info("unrelated", TensorProto.FLOAT, ["batch", 3, 8, 8])],
                 [cond])


def multi_output():
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="/stem/Relu"),
        helper.make_node("Split", ["r"], ["a", "b"], name="/split/Split", axis=1),
        helper.make_node("Add", ["a", "b"], ["y"], name="/Add"),
    ]
    return model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 2, 2])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 2, 2])])


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / ".cache/models/naming"
    out.mkdir(parents=True, exist_ok=True)
    for build in (dynamo, tf2onnx, flat, dropout, if_implicit, multi_output):
        onnx.save(build(), out / f"{build.__name__}.onnx")
    print(f"naming models: written to {out}")


if __name__ == "__main__":
    main()
