#!/usr/bin/python3
"""Convert an exported float32 model to float16, for tests/js/precision.test.mjs.

Writes, next to the input model (default <repo>/.cache/models/resnet18.onnx):

  <model>.fp16.onnx       fully float16: float16 initializers, Constant values, value types,
                          graph input and outputs (the input is fed as float16 bits).
  <model>.fp16io.onnx     float16 inside, float32 at the borders, as onnxconverter-common's
                          convert_float_to_float16(keep_io_types=True) writes it: a Cast to
                          float16 after each float32 input (graph_input_cast_<i>) and a Cast to
                          float32 before each output (graph_output_cast_<i>).

Node names are kept, so that onnxfx names the float16 models' nodes as the float32 model's.
The converter is written here with Debian's python3-onnx and numpy only (no onnxruntime, no
onnxconverter-common): initializers to float16, Constant node values, Cast targets, value
types. Idempotent: outputs newer than the input are left alone.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, FLOAT16 = TensorProto.FLOAT, TensorProto.FLOAT16


def to_fp16_tensor(t):
    if t.data_type != FLOAT:
        return t
    arr = numpy_helper.to_array(t).astype(np.float16)
    out = numpy_helper.from_array(arr, t.name)
    return out


def set_type(value_info, elem):
    tt = value_info.type.tensor_type
    if tt.elem_type == FLOAT:
        tt.elem_type = elem


def convert(model, keep_io_types):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    for i, t in enumerate(g.initializer):
        g.initializer[i].CopyFrom(to_fp16_tensor(t))
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == FLOAT:
                a.t.CopyFrom(to_fp16_tensor(a.t))
            if n.op_type == "Cast" and a.name == "to" and a.i == FLOAT:
                a.i = FLOAT16
    for vi in g.value_info:
        set_type(vi, FLOAT16)
    if not keep_io_types:
        for vi in list(g.input) + list(g.output):
            set_type(vi, FLOAT16)
        return m
    casts_in, casts_out = [], []
    for i, vi in enumerate(g.input):
        if vi.type.tensor_type.elem_type != FLOAT or any(t.name == vi.name for t in g.initializer):
            continue
        cast_name = f"graph_input_cast_{i}"
        for n in g.node:
            for k, name in enumerate(n.input):
                if name == vi.name:
                    n.input[k] = cast_name
        casts_in.append(helper.make_node("Cast", [vi.name], [cast_name], name=cast_name, to=FLOAT16))
    for i, vi in enumerate(g.output):
        if vi.type.tensor_type.elem_type != FLOAT:
            continue
        cast_name = f"graph_output_cast_{i}"
        for n in g.node:
            for k, name in enumerate(n.output):
                if name == vi.name:
                    n.output[k] = cast_name
            for k, name in enumerate(n.input):
                if name == vi.name:
                    n.input[k] = cast_name
        casts_out.append(helper.make_node("Cast", [cast_name], [vi.name], name=cast_name, to=FLOAT))
    nodes = casts_in + list(g.node) + casts_out
    del g.node[:]
    g.node.extend(nodes)
    return m


def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", default=os.path.join(repo, ".cache", "models", "resnet18.onnx"))
    args = ap.parse_args()
    if not os.path.exists(args.model):
        sys.exit(f"{args.model} does not exist: run tests/tools/export_models.py first")
    base = args.model[: -len(".onnx")]
    model = onnx.load(args.model)
    for suffix, keep in ((".fp16.onnx", False), (".fp16io.onnx", True)):
        out = base + suffix
        if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(args.model) and \
                os.path.getmtime(out) >= os.path.getmtime(__file__):
            continue
        converted = convert(model, keep)
        onnx.checker.check_model(converted)
        onnx.save(converted, out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
