#!/usr/bin/python3
"""Dynamic int8 quantization of an exported float32 model, in the form onnxruntime's
quantize_dynamic(model, weight_type=QuantType.QUInt8) writes (transformers.js' "q8"), for
tests/js/int8.test.mjs and the benchmark. Written here with Debian's python3-onnx and numpy
(there is no onnxruntime Python here); onnxruntime-node runs the result as the oracle.

Per Conv with an initializer weight (and per MatMul with a 2-D initializer B), as onnxruntime
names them:
  <x>_QuantizeLinear    DynamicQuantizeLinear(x) -> <x>_quantized, <x>_scale, <x>_zero_point
                        (once per activation tensor, however many nodes read it)
  <W>_quantized, <W>_scale, <W>_zero_point   uint8 weights, per tensor, asymmetric
  <node>_quant          ConvInteger / MatMulInteger -> <Y>_output_quantized (int32)
  <Y>_output_quantized_cast                  Cast to float
  <node>_quant_scales_mul                    Mul(x_scale, w_scale)
  <node>_quant_output_scale_mul              Mul(cast, scales) -> Y, or <Y>quant_scaled_output
  (no name)             Reshape(B, <Y>_bias_reshape_shape) -> <Y>_bias_reshape_output, hoisted to
                        the top of the graph, where a topological sort puts it
  <Y>_bias_add          Add(scaled, reshaped bias) -> Y
Everything else stays float32. Usage: quantize_dynamic.py MODEL.onnx [OUT.onnx]
(default OUT: MODEL.int8.onnx next to it); idempotent.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize_weight(array):
    """uint8, per tensor, asymmetric over [min(w, 0), max(w, 0)], numpy's round half to even."""
    rmin, rmax = min(float(array.min()), 0.0), max(float(array.max()), 0.0)
    scale = np.float32((rmax - rmin) / 255.0) if rmax > rmin else np.float32(1.0)
    zero_point = np.uint8(np.clip(np.round(-rmin / scale), 0, 255))
    q = np.clip(np.round(array / scale) + zero_point, 0, 255).astype(np.uint8)
    return q, scale, zero_point


def quantize(model):
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    new_inits, hoisted, nodes = [], [], []
    quantized_activations = {}  # x -> (quantized, scale, zero point) names
    used_float_weights = set()

    def activation(x):
        if x not in quantized_activations:
            names = (x + "_quantized", x + "_scale", x + "_zero_point")
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(names), x + "_QuantizeLinear"))
            quantized_activations[x] = names
        return quantized_activations[x]

    def weight(name):
        q, scale, zp = quantize_weight(numpy_helper.to_array(inits[name]).astype(np.float32))
        names = (name + "_quantized", name + "_scale", name + "_zero_point")
        if names[0] not in {t.name for t in new_inits}:
            new_inits.append(numpy_helper.from_array(q, names[0]))
            new_inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), names[1]))
            new_inits.append(numpy_helper.from_array(np.array(zp, dtype=np.uint8), names[2]))
        return names

    for node in graph.node:
        is_conv = node.op_type == "Conv" and node.input[1] in inits
        is_matmul = node.op_type == "MatMul" and node.input[1] in inits and len(inits[node.input[1]].dims) == 2
        if not (is_conv or is_matmul):
            nodes.append(node)
            used_float_weights.update(node.input)
            continue
        x_q, x_scale, x_zp = activation(node.input[0])
        w_q, w_scale, w_zp = weight(node.input[1])
        y = node.output[0]
        base = node.name + "_quant"
        integer_out = y + "_output_quantized"
        nodes.append(helper.make_node("ConvInteger" if is_conv else "MatMulInteger", [x_q, w_q, x_zp, w_zp], [integer_out], base))
        if is_conv:
            nodes[-1].attribute.extend(node.attribute)
        nodes.append(helper.make_node("Cast", [integer_out], [integer_out + "_cast_output"], integer_out + "_cast", to=TensorProto.FLOAT))
        nodes.append(helper.make_node("Mul", [x_scale, w_scale], [base + "_scales_mul:0"], base + "_scales_mul"))
        has_bias = is_conv and len(node.input) == 3 and node.input[2] != ""
        scaled = y + "quant_scaled_output" if has_bias else y
        nodes.append(helper.make_node("Mul", [integer_out + "_cast_output", base + "_scales_mul:0"], [scaled], base + "_output_scale_mul"))
        if has_bias:
            rank = len(inits[node.input[1]].dims)
            shape = np.ones(rank, dtype=np.int64)
            shape[1] = -1
            new_inits.append(numpy_helper.from_array(shape, y + "_bias_reshape_shape"))
            hoisted.append(helper.make_node("Reshape", [node.input[2], y + "_bias_reshape_shape"], [y + "_bias_reshape_output"]))
            used_float_weights.add(node.input[2])
            nodes.append(helper.make_node("Add", [scaled, y + "_bias_reshape_output"], [y], y + "_bias_add"))

    del graph.node[:]
    graph.node.extend(hoisted + nodes)
    kept = [t for t in graph.initializer if t.name in used_float_weights]
    del graph.initializer[:]
    graph.initializer.extend(kept + new_inits)
    if not any(o.domain in ("", "ai.onnx") and o.version >= 11 for o in model.opset_import):
        raise SystemExit("DynamicQuantizeLinear needs opset 11 or newer")
    return model


def main(argv):
    if not argv or len(argv) > 2:
        raise SystemExit(__doc__)
    source = argv[0]
    target = argv[1] if len(argv) > 1 else os.path.splitext(source)[0] + ".int8.onnx"
    if os.path.exists(target) and os.path.getmtime(target) >= max(os.path.getmtime(source), os.path.getmtime(__file__)):
        print(f"{os.path.basename(target)}: up to date")
        return
    model = quantize(onnx.load(source))
    onnx.checker.check_model(model)
    onnx.save(model, target)
    print(f"{os.path.basename(target)}: dynamic uint8 ({sum(n.op_type.endswith('Integer') for n in model.graph.node)} integer ops)")


if __name__ == "__main__":
    main(sys.argv[1:])
