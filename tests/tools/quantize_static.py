#!/usr/bin/python3
"""Static int8 quantization of an exported float32 model in the two forms onnxruntime's
quantize_static writes, for tests/js/qdq.test.mjs. Written here with Debian's python3-onnx and
numpy (there is no onnxruntime Python here); the calibration runs the float model with
onnxruntime-node (tests/tools/calibrate_ranges.mjs), and onnxruntime-node runs the results as
the oracle.

    quantize_static.py MODEL.onnx [--images DIR] [--format qdq|qoperator|both]

writes MODEL.qdq.onnx and/or MODEL.qop.onnx next to MODEL.onnx (default: both), as

    quantize_static(model, out, reader, quant_format=QDQ or QOperator,
                    op_types_to_quantize=['Conv', 'MatMul', 'Gemm'], per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)

would, except that the QOperator form quantizes Conv and MatMul only: onnxruntime makes a Gemm
the com.microsoft QGemm, which is not an ONNX op, so the Gemm stays float32 there.

Calibration (MinMax): the smallest and largest element of every float input and output of the
quantized op types, over the images of DIR (*.png, *.jpg, *.jpeg, sorted by name; default:
.cache/demos/photos of this repository) preprocessed the torchvision way: Resize(256),
CenterCrop(224), ToTensor, Normalize(ImageNet mean, std). Activations are uint8, asymmetric over
[min(lo, 0), max(hi, 0)]; weights int8, symmetric (zero point 0), per output channel; biases
int32 with scale x_scale * w_scale[c], zero point 0 (a bias that would not fit int32, for which
newer onnxruntime enlarges the weight's scale, is refused). Rounding and float widths are
numpy's, as onnxruntime computes them (compute_scale_zp, quantize_nparray,
quantize_bias_static_impl).

Names, as onnxruntime's quantizer gives them (tensor T, weight W, bias B, node N with output Y):
  QDQ        every op stays float; its activation inputs and its output are quantized:
               T_QuantizeLinear    QuantizeLinear(T, T_scale, T_zero_point) -> T_QuantizeLinear_Output
               T_DequantizeLinear  DequantizeLinear(...) -> T_DequantizeLinear_Output, which every
                                   reader of T now reads (a graph output T keeps its name: the
                                   producer writes T_QuantizeLinear_Input and the DQ writes T)
               W_DequantizeLinear  DequantizeLinear(W_quantized, W_scale, W_zero_point, axis)
                                   -> W_DequantizeLinear_Output
               B_DequantizeLinear  DequantizeLinear(B_quantized, B_quantized_scale,
                                   B_quantized_zero_point, axis=0) -> B
  QOperator  N_quant           QLinearConv / QLinearMatMul(X_quantized, X_scale, X_zero_point,
                               W_quantized, W_scale, W_zero_point, Y_scale, Y_zero_point[, B_quantized])
                               -> Y_quantized
             X_QuantizeLinear  QuantizeLinear(X, X_scale, X_zero_point) -> X_quantized, once per
                               float tensor an 8-bit op reads; an 8-bit op's output goes on as is
             Y_DequantizeLinear  DequantizeLinear(Y_quantized, Y_scale, Y_zero_point) -> Y, before
                               the first float op (Relu, Add, pooling, Gemm) or graph output reading Y
Then, as onnxruntime does, unused initializers are dropped, the nodes sorted with its
topological sort (ONNXModel.topological_sort), the shape-inferred value_info kept, producer
"onnx.quantize" 0.1.0 and metadata onnx.infer=onnxruntime.quant set.

Idempotent: nothing is rewritten when the outputs are newer than the model, the images and
these scripts (setup.sh runs it each time).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import OrderedDict

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CALIBRATE = os.path.join(HERE, "calibrate_ranges.mjs")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
UINT8, INT8 = (np.uint8(0), np.uint8(255)), (np.int8(-127), np.int8(127))  # activation, symmetric weight ranges


# ---- quantization parameters, with numpy's widths and rounding as onnxruntime has them ----

def scale_zero_point(rmin, rmax, qrange, symmetric):
    """(zero point, float32 scale) mapping [rmin, rmax] (widened to hold 0) onto qrange."""
    qmin, qmax = qrange
    rmin = np.minimum(rmin, np.float32(0))
    rmax = np.maximum(rmax, np.float32(0))
    if symmetric:
        absmax = np.maximum(np.abs(rmin), np.abs(rmax))
        rmin, rmax = -absmax, absmax
    # the range is subtracted in float32, divided in float64; the zero point uses the float64 scale
    scale = np.float64(rmax - rmin) / (np.float64(qmax) - np.float64(qmin))
    if scale < np.finfo(np.float32).tiny:
        return qmin.dtype.type(0), np.float32(1.0)
    if symmetric:
        zero_point = np.round((np.float64(qmin) + np.float64(qmax)) / 2.0)
    else:
        zero_point = np.round(np.float64(qmin) - np.float64(rmin) / scale)
    return qmin.dtype.type(zero_point), np.float32(scale)


def quantize_array(data, scale, zero_point, dtype):
    """round(x / scale) + zero point in float32, clipped to the type's full range."""
    info = np.iinfo(dtype)
    q = (data.astype(np.float32) / np.float32(scale)).round() + np.float32(zero_point)
    return np.clip(q, info.min, info.max).astype(dtype)


def quantize_per_channel(weight, axis):
    """int8 symmetric per channel along axis: (quantized, scales float32[C], zero points int8[C])."""
    scales, zero_points, parts = [], [], []
    for c in range(weight.shape[axis]):
        channel = weight.take(c, axis).flatten()
        zp, scale = scale_zero_point(channel.min(), channel.max(), INT8, symmetric=True)
        shape = list(weight.shape)
        shape[axis] = 1
        parts.append(quantize_array(channel, scale, zp, np.int8).reshape(shape))
        scales.append(scale)
        zero_points.append(zp)
    return np.concatenate(parts, axis), np.array(scales, np.float32), np.array(zero_points, np.int8)


def quantize_bias(bias, x_scale, w_scale, beta=1.0):
    """int32 with scale x_scale * w_scale (* beta) in float32, divided and rounded in float64."""
    scale = (np.float32(x_scale) * w_scale * beta).astype(np.float32)
    q = (bias.astype(np.float64) / scale.astype(np.float64)).round()
    info = np.iinfo(np.int32)
    if np.any(np.abs(q) > info.max):  # newer onnxruntime then enlarges the weight's scale instead
        raise SystemExit("a bias does not fit int32 at scale x_scale * w_scale: not handled here")
    return np.clip(q, np.float64(info.min), np.float64(info.max)).astype(np.int32), scale.reshape(-1)


# ---- the graph, as onnxruntime's ONNXModel edits it ----

class Graph:
    def __init__(self, model):
        self.model, self.graph = model, model.graph
        self.types = {vi.name: vi.type.tensor_type.elem_type
                      for vi in list(model.graph.value_info) + list(model.graph.output) + list(model.graph.input)}

    def initializer(self, name):
        return next((t for t in self.graph.initializer if t.name == name), None)

    def add_initializer(self, tensor):  # onnxruntime's add_initializer keeps the first of a name
        if self.initializer(tensor.name) is None:
            self.graph.initializer.append(tensor)

    def is_float(self, name):
        init = self.initializer(name)
        if init is not None:
            return init.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16)
        return self.types.get(name) in (TensorProto.FLOAT, TensorProto.FLOAT16)

    def is_graph_output(self, name):
        return any(o.name == name for o in self.graph.output)

    def replace_input(self, old, new):
        for node in self.graph.node:
            for i, name in enumerate(node.input):
                if name == old:
                    node.input[i] = new

    def replace_output(self, old, new):
        for node in self.graph.node:
            for i, name in enumerate(node.output):
                if name == old:
                    node.output[i] = new

    def clean_initializers(self):
        """Drops initializers no node or graph output reads; returns names read but defined nowhere."""
        wanted = {name for node in self.graph.node for name in node.input if name}
        wanted.update(o.name for o in self.graph.output if o.name)
        wanted.difference_update(name for node in self.graph.node for name in node.output)
        unused = [t for t in self.graph.initializer if t.name not in wanted]
        for t in unused:
            self.graph.initializer.remove(t)
            for inp in [i for i in self.graph.input if i.name == t.name]:
                self.graph.input.remove(inp)
        wanted.difference_update(t.name for t in self.graph.initializer)
        wanted.difference_update(i.name for i in self.graph.input)
        return wanted

    def topological_sort(self):
        """onnxruntime's ONNXModel.topological_sort: nodes without inputs first, then those made
        ready by the graph's inputs and initializers in sorted name order, then breadth first."""
        nodes = list(self.graph.node)
        pending = [0] * len(nodes)
        readers = {}
        ordered = []
        for i, node in enumerate(nodes):
            pending[i] = sum(1 for name in node.input if name)
            if pending[i] == 0:
                ordered.append(node)
                continue
            for name in node.input:
                if name:
                    readers.setdefault(name, []).append(i)
        known = sorted(set([t.name for t in self.graph.initializer] + [i.name for i in self.graph.input]))

        def release(name):
            for i in readers.get(name, []):
                pending[i] -= 1
                if pending[i] == 0:
                    ordered.append(nodes[i])

        for name in known:
            release(name)
        k = 0
        while k < len(ordered):
            for name in ordered[k].output:
                release(name)
            k += 1
        if len(ordered) != len(nodes):
            raise SystemExit("the quantized graph is not a DAG")
        del self.graph.node[:]
        self.graph.node.extend(ordered)


def attributes(node, skip=()):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute if a.name not in skip}


def gemm_attr(node, name, default):
    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)


def activation_params(ranges, name):
    lo, hi = ranges[name]
    return scale_zero_point(np.float32(lo), np.float32(hi), UINT8, symmetric=False)


def add_scale_zero_point(g, name, zero_point, scale, dtype=TensorProto.UINT8):
    """<name>_zero_point and <name>_scale, scalars (zero point first, as onnxruntime adds them)."""
    g.add_initializer(helper.make_tensor(name + "_zero_point", dtype, [], [int(zero_point)]))
    g.add_initializer(helper.make_tensor(name + "_scale", TensorProto.FLOAT, [], [float(scale)]))
    return name + "_scale", name + "_zero_point"


def add_weight_per_channel(g, name, axis):
    """W_scale, W_zero_point, W_quantized (onnxruntime's order); returns their names."""
    init = g.initializer(name)
    q, scales, zero_points = quantize_per_channel(numpy_helper.to_array(init).astype(np.float32), axis)
    g.add_initializer(helper.make_tensor(name + "_scale", init.data_type, [len(scales)], scales.tolist()))
    g.add_initializer(helper.make_tensor(name + "_zero_point", TensorProto.INT8, [len(scales)], zero_points.tolist()))
    g.add_initializer(numpy_helper.from_array(q.reshape(tuple(init.dims)), name + "_quantized"))
    return name + "_quantized", name + "_scale", name + "_zero_point"


def add_bias(g, bias_name, x_scale_name, w_scale_name, beta=1.0):
    """B_quantized, B_quantized_scale, B_quantized_zero_point; returns their names."""
    bias = numpy_helper.to_array(g.initializer(bias_name))
    x_scale = numpy_helper.to_array(g.initializer(x_scale_name))
    w_scale = numpy_helper.to_array(g.initializer(w_scale_name))
    q, scale = quantize_bias(bias, x_scale, w_scale, beta)
    name = bias_name + "_quantized"
    g.add_initializer(numpy_helper.from_array(q.reshape(bias.shape), name))
    g.add_initializer(numpy_helper.from_array(scale, name + "_scale"))
    zero = np.zeros(scale.shape, np.int32)
    g.add_initializer(numpy_helper.from_array(zero, name + "_zero_point") if scale.size > 1
                      else helper.make_tensor(name + "_zero_point", TensorProto.INT32, [], [0]))
    return name, name + "_scale", name + "_zero_point", (0 if scale.size > 1 else None)


# ---- QDQ (QDQQuantizer) ----

def quantize_qdq(model, ranges, op_types):
    g = Graph(model)
    marked = OrderedDict()  # tensor -> per-channel axis of a weight, or None for an activation
    biases = OrderedDict()  # bias -> (input, weight, beta)

    def activation(name):
        if name not in marked and g.is_float(name):
            marked[name] = None

    def weight(name, axis):
        if g.initializer(name) is not None and g.is_float(name):
            marked[name] = axis

    for node in g.graph.node:
        if node.op_type not in op_types:
            continue
        if node.op_type == "Conv":
            activation(node.input[0])
            activation(node.output[0])
            weight(node.input[1], 0)
            if len(node.input) == 3 and g.initializer(node.input[2]) is not None:
                biases[node.input[2]] = (node.input[0], node.input[1], 1.0)
        elif node.op_type == "Gemm":
            activation(node.input[0])
            activation(node.output[0])
            weight(node.input[1], 0 if gemm_attr(node, "transB", 0) else 1)
            if len(node.input) == 3 and node.input[2]:
                if g.initializer(node.input[2]) is None:
                    raise SystemExit(f"Gemm {node.name}: a bias that is not an initializer is not handled here")
                biases[node.input[2]] = (node.input[0], node.input[1], float(gemm_attr(node, "beta", 1.0)))
                for a in node.attribute:
                    if a.name == "beta":
                        a.f = 1.0
        elif node.op_type == "MatMul":
            for name in list(node.input) + list(node.output):
                if g.initializer(name) is not None:
                    weight(name, 1)
                else:
                    activation(name)

    scale_of = {}
    for name, axis in marked.items():
        if g.initializer(name) is not None:
            if axis is None:
                raise SystemExit(f"{name}: an initializer read as an activation is not handled here")
            q, scale, zp = add_weight_per_channel(g, name, axis)
            scale_of[name] = scale
            g.replace_input(name, name + "_DequantizeLinear_Output")
            g.graph.node.append(helper.make_node("DequantizeLinear", [q, scale, zp], [name + "_DequantizeLinear_Output"],
                                                 name + "_DequantizeLinear", axis=axis))
            continue
        if name not in ranges:
            raise SystemExit(f"no calibrated range for {name}")
        zp, scale = activation_params(ranges, name)
        scale_name, zp_name = add_scale_zero_point(g, name, zp, scale)
        scale_of[name] = scale_name
        q_input, dq_output = name, name + "_DequantizeLinear_Output"
        if g.is_graph_output(name):
            q_input, dq_output = name + "_QuantizeLinear_Input", name
            g.replace_output(name, q_input)
        else:
            g.replace_input(name, dq_output)
        g.graph.node.extend([
            helper.make_node("QuantizeLinear", [q_input, scale_name, zp_name], [name + "_QuantizeLinear_Output"],
                             name + "_QuantizeLinear"),
            helper.make_node("DequantizeLinear", [name + "_QuantizeLinear_Output", scale_name, zp_name], [dq_output],
                             name + "_DequantizeLinear"),
        ])

    for bias_name, (x, w, beta) in biases.items():
        q, scale, zp, axis = add_bias(g, bias_name, scale_of[x], scale_of[w], beta)
        g.graph.initializer.remove(g.initializer(bias_name))
        g.graph.node.append(helper.make_node("DequantizeLinear", [q, scale, zp], [bias_name], bias_name + "_DequantizeLinear",
                                             axis=axis))
    g.clean_initializers()
    return g


# ---- QOperator (ONNXQuantizer, QuantizationMode.QLinearOps) ----

def quantize_qoperator(model, ranges, op_types):
    g = Graph(model)
    new_nodes = []
    quantized = {}  # float tensor -> (8-bit tensor, scale, zero point)
    produced = {i.name for i in g.graph.input if g.initializer(i.name) is None}  # tensors some node (or the caller) makes

    def params(name):
        if name not in ranges:
            return None
        zp, scale = activation_params(ranges, name)
        return add_scale_zero_point(g, name, zp, scale)

    def quantize_input(name, nodes):
        """The 8-bit form of a float activation: a QuantizeLinear once per tensor."""
        if name in quantized:
            return quantized[name]
        found = params(name)
        if found is None:
            return None
        scale, zp = found
        nodes.append(helper.make_node("QuantizeLinear", [name, scale, zp], [name + "_quantized"], name + "_QuantizeLinear"))
        quantized[name] = (name + "_quantized", scale, zp)
        return quantized[name]

    def quantize_weight(name, axis):
        if name not in quantized:
            quantized[name] = add_weight_per_channel(g, name, axis)
        return quantized[name]

    def dequantize(name):
        """DequantizeLinear back to `name` before its first float reader, once."""
        if name not in quantized or name in produced:
            return None
        if any(n.name == name + "_DequantizeLinear" for n in new_nodes + list(g.graph.node)):
            return None
        q, scale, zp = quantized[name]
        return helper.make_node("DequantizeLinear", [q, scale, zp], [name], name + "_DequantizeLinear")

    def keep_float(node):
        for name in node.input:
            dq = dequantize(name)
            if dq is not None:
                new_nodes.append(dq)
        new_nodes.append(node)

    def quantize_node(node):
        # onnxruntime makes the output's parameters first for Conv, last for MatMul
        out = params(node.output[0]) if node.op_type == "Conv" else None
        nodes = []
        x = quantize_input(node.input[0], nodes)
        if node.op_type == "Conv":
            w = quantize_weight(node.input[1], 0) if g.initializer(node.input[1]) is not None else quantize_input(node.input[1], nodes)
        else:  # MatMul: a constant B per column (axis -1), else an activation
            rank = len(g.initializer(node.input[1]).dims) if g.initializer(node.input[1]) is not None else 0
            w = quantize_weight(node.input[1], rank - 1) if rank else quantize_input(node.input[1], nodes)
            out = params(node.output[0])
        if out is None or x is None or w is None:
            return keep_float(node)
        inputs = [*x, *w, *out]
        if node.op_type == "Conv" and len(node.input) == 3 and node.input[2]:
            bias = node.input[2]
            if bias not in quantized:
                q, _, _, _ = add_bias(g, bias, x[1], w[1])
                quantized[bias] = (q, None, None)
            inputs.append(quantized[bias][0])
        op = "QLinearConv" if node.op_type == "Conv" else "QLinearMatMul"
        kwargs = attributes(node) if node.op_type == "Conv" else {}
        nodes.append(helper.make_node(op, inputs, [node.output[0] + "_quantized"], node.name + "_quant" if node.name else "",
                                      **kwargs))
        quantized[node.output[0]] = (node.output[0] + "_quantized", *out)
        new_nodes.extend(nodes)

    for node in g.graph.node:
        first = len(new_nodes)
        if node.op_type in op_types and g.is_float(node.input[0]):
            quantize_node(node)
        else:
            keep_float(node)
        produced.update(name for n in new_nodes[first:] for name in n.output)
    for output in g.graph.output:
        dq = dequantize(output.name)
        if dq is not None:
            new_nodes.append(dq)
    del g.graph.node[:]
    g.graph.node.extend(new_nodes)
    missing = g.clean_initializers()
    if missing:
        raise SystemExit(f"the quantized graph reads tensors defined nowhere: {sorted(missing)}")
    return g


# ---- calibration ----

def calibration_tensors(model, op_types):
    """Float inputs and outputs (not initializers) of the nodes of op_types, in graph order."""
    g = Graph(model)
    names = []
    for node in model.graph.node:
        if node.op_type in op_types:
            for name in list(node.input) + list(node.output):
                if name and name not in names and g.initializer(name) is None and \
                        g.types.get(name) in (TensorProto.FLOAT, TensorProto.FLOAT16):
                    names.append(name)
    return names


def images_in(directory):
    files = sorted(f for f in os.listdir(directory) if f.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise SystemExit(f"no images (*.png, *.jpg) in {directory}")
    return [os.path.join(directory, f) for f in files]


def calibrate(model, tensors, images, workdir):
    """{tensor: (min, max)} over the images, from onnxruntime-node running the float model (the
    graph input's range from the images themselves)."""
    from PIL import Image
    import torchvision.transforms as T

    preprocess = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
    arrays = [preprocess(Image.open(image).convert("RGB")).numpy().astype(np.float32) for image in images]
    inputs = {i.name for i in model.graph.input}
    if len(inputs) != 1:
        raise SystemExit(f"expected a model with one input, got {sorted(inputs)}")
    augmented = onnx.ModelProto()
    augmented.CopyFrom(model)
    outputs = {o.name for o in augmented.graph.output}
    infos = {vi.name: vi for vi in augmented.graph.value_info}
    for name in tensors:
        if name not in outputs and name not in inputs:
            augmented.graph.output.append(infos[name])
    model_path = os.path.join(workdir, "augmented.onnx")
    onnx.save(augmented, model_path)
    paths = []
    for i, array in enumerate(arrays):
        paths.append(os.path.join(workdir, f"{i}.f32"))
        array.astype("<f4").tofile(paths[-1])
    ranges_path = os.path.join(workdir, "ranges.json")
    subprocess.run(["node", CALIBRATE, model_path, ranges_path, *paths], check=True)
    with open(ranges_path) as f:
        found = {name: (np.float32(lo), np.float32(hi)) for name, (lo, hi) in json.load(f).items()}
    for name in inputs:
        found[name] = (min(a.min() for a in arrays), max(a.max() for a in arrays))
    return {name: found[name] for name in tensors}


# ---- main ----

FORMATS = {
    # format: (file suffix, op types quantized)
    "qdq": (".qdq.onnx", ("Conv", "MatMul", "Gemm")),
    "qoperator": (".qop.onnx", ("Conv", "MatMul")),  # Gemm would be com.microsoft QGemm: kept float
}


def finish(g, target):
    model = g.model
    model.producer_name, model.producer_version = "onnx.quantize", "0.1.0"
    g.topological_sort()
    onnx.checker.check_model(model)
    onnx.save(model, target)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--images", default=os.path.join(REPO, ".cache", "demos", "photos"))
    parser.add_argument("--format", choices=("qdq", "qoperator", "both"), default="both")
    args = parser.parse_args(argv)
    formats = ["qdq", "qoperator"] if args.format == "both" else [args.format]
    stem = os.path.splitext(args.model)[0]
    targets = {f: stem + FORMATS[f][0] for f in formats}
    images = images_in(args.images)
    newest_source = max(os.path.getmtime(p) for p in [args.model, __file__, CALIBRATE, *images])
    if all(os.path.exists(t) and os.path.getmtime(t) >= newest_source for t in targets.values()):
        print(", ".join(os.path.basename(t) for t in targets.values()) + ": up to date")
        return

    model = onnx.shape_inference.infer_shapes(onnx.load(args.model))
    helper.set_model_props(model, {"onnx.infer": "onnxruntime.quant", **{p.key: p.value for p in model.metadata_props}})
    if not any(o.domain in ("", "ai.onnx") and o.version >= 13 for o in model.opset_import):
        raise SystemExit("per-channel QDQ needs opset 13 or newer")
    tensors = []
    for f in formats:
        tensors += [t for t in calibration_tensors(model, FORMATS[f][1]) if t not in tensors]
    with tempfile.TemporaryDirectory(prefix="onnxfx-calibrate-") as workdir:
        ranges = calibrate(model, tensors, images, workdir)
    for f in formats:
        copy = onnx.ModelProto()
        copy.CopyFrom(model)
        op_types = FORMATS[f][1]
        g = quantize_qdq(copy, ranges, op_types) if f == "qdq" else quantize_qoperator(copy, ranges, op_types)
        finish(g, targets[f])
        ops = sorted({n.op_type for n in g.graph.node if "Linear" in n.op_type})
        print(f"{os.path.basename(targets[f])}: static int8, {f}, calibrated on {len(images)} images ({', '.join(ops)})")


if __name__ == "__main__":
    main(sys.argv[1:])
