#!/usr/bin/python3
"""Converts nsfwjs's MobileNetV2 (TensorFlow.js layers format, uint8-quantized weights) to ONNX.

    convert_nsfwjs.py MODEL_JSON WEIGHTS_BIN OUT.onnx

MODEL_JSON holds {modelTopology, weightsManifest} (fetch_demo_assets.sh extracts it from the
package's model.min.js); WEIGHTS_BIN is the decoded shard. The graph is NCHW, input `image`
[1, 3, height, width] with values in 0..1 (nsfwjs divides bytes by 255), any size that is a
multiple of 32. BatchNorm is folded into the Conv before it, as PyTorch's exporter does; ZeroPadding2D
goes into the Conv's pads. Node names follow the TorchScript exporter's scopes with torchvision's
MobileNetV2 numbering, so onnxfx names them `features.0.conv` ... `features.18.relu`, `pool`,
`flatten`, `classifier.dense_1` ... `classifier.softmax`:

    Keras                        onnxfx name
    Conv1 + bn_Conv1             features.0.conv
    expanded_conv_*              features.1.*
    block_N_expand(+_BN)         features.{N+1}.expand      (then .expand_relu, .depthwise,
                                                              .depthwise_relu, .project, .add)
    Conv_1 + Conv_1_bn, out_relu features.18.conv, features.18.relu
    average_pooling2d_1          pool   (GlobalAveragePool: the 1280-d descriptor)
"""
import json
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def load_weights(manifest, blob):
    weights, offset = {}, 0
    for group in manifest:
        for spec in group['weights']:
            shape = spec['shape']
            count = int(np.prod(shape)) if shape else 1
            q = spec.get('quantization')
            if q:
                assert q['dtype'] == 'uint8', q
                raw = np.frombuffer(blob, np.uint8, count, offset).astype(np.float32)
                offset += count
                # tfjs dequantizes in float32: value * scale + min
                value = raw * np.float32(q['scale']) + np.float32(q['min'])
            else:
                assert spec['dtype'] == 'float32', spec
                value = np.frombuffer(blob, np.float32, count, offset).copy()
                offset += 4 * count
            weights[spec['name']] = value.reshape(shape)
    assert offset == len(blob), (offset, len(blob))
    return weights


def scope_of(layer):
    """Keras layer name -> (block scope, part)."""
    name = layer
    if name in ('Conv1', 'bn_Conv1', 'Conv1_pad', 'Conv1_relu'):
        return 'features.0', {'Conv1': 'conv', 'bn_Conv1': 'conv', 'Conv1_pad': 'conv', 'Conv1_relu': 'relu'}[name]
    if name in ('Conv_1', 'Conv_1_bn', 'out_relu'):
        return 'features.18', 'relu' if name == 'out_relu' else 'conv'
    m = re.match(r'^(expanded_conv|block_(\d+))_(.*)$', name)
    if m:
        block = 1 if m.group(1) == 'expanded_conv' else int(m.group(2)) + 1
        part = m.group(3)
        part = re.sub(r'_BN$', '', part)
        if part == 'pad':
            part = 'depthwise'
        return f'features.{block}', part
    raise ValueError(f'unexpected layer {name}')


def main(model_json, weights_bin, out_path):
    with open(model_json) as f:
        spec = json.load(f)
    with open(weights_bin, 'rb') as f:
        blob = f.read()
    weights = load_weights(spec['weightsManifest'], blob)
    layers = spec['modelTopology']['model_config']['config']['layers']

    nodes, inits = [], []
    value_of = {}          # keras layer name -> ONNX value name
    pending_pad = {}       # value -> [top, left, bottom, right] from a ZeroPadding2D
    conv_of = {}           # value -> index in nodes of the Conv producing it (for BN folding)
    used = set()

    def init(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def node_name(scope, part, op):
        top = scope.split('.')[0]
        path = f'/{top}/{scope}/{part}/{op}' if scope != top else f'/{top}/{part}/{op}'
        assert path not in used, path
        used.add(path)
        return path

    init('clip_min', np.array(0, np.float32))
    init('clip_max', np.array(6, np.float32))

    for layer in layers:
        cls, name, cfg = layer['class_name'], layer['name'], layer['config']
        inbound = [n[0] for n in layer['inbound_nodes'][0]] if layer['inbound_nodes'] else []
        src = [value_of[i] for i in inbound]
        if cls == 'InputLayer':
            value_of[name] = 'image'
        elif cls == 'ZeroPadding2D':
            (t, b), (l, r) = cfg['padding']
            value_of[name] = src[0]
            pending_pad[name] = [t, l, b, r]
        elif cls in ('Conv2D', 'DepthwiseConv2D'):
            scope, part = scope_of(name)
            k = weights[f'{name}/kernel' if cls == 'Conv2D' else f'{name}/depthwise_kernel']
            kh, kw = k.shape[:2]
            if cls == 'Conv2D':
                w = k.transpose(3, 2, 0, 1)
                group = 1
            else:
                assert cfg['depth_multiplier'] == 1
                w = k.transpose(2, 3, 0, 1)
                group = w.shape[0]
            assert cfg['dilation_rate'] == [1, 1] and cfg['activation'] == 'linear'
            stride = cfg['strides']
            pads = pending_pad.pop(inbound[0], None)
            if cfg['padding'] == 'same':
                assert pads is None and stride == [1, 1]
                pads = [(kh - 1) // 2, (kw - 1) // 2, kh // 2, kw // 2]
            elif pads is None:
                pads = [0, 0, 0, 0]
            out = f'{name}_out'
            nodes.append(helper.make_node(
                'Conv', [src[0], init(f'{name}.weight', w)] + ([init(f'{name}.bias', weights[f'{name}/bias'])] if cfg['use_bias'] else []),
                [out], name=node_name(scope, part, 'Conv'), kernel_shape=[kh, kw], strides=stride,
                pads=[pads[0], pads[1], pads[2], pads[3]], group=group))
            conv_of[out] = len(nodes) - 1
            value_of[name] = out
        elif cls == 'BatchNormalization':
            idx = conv_of[src[0]]
            conv = nodes[idx]
            eps = cfg['epsilon']
            gamma, beta = weights[f'{name}/gamma'], weights[f'{name}/beta']
            mean, var = weights[f'{name}/moving_mean'], weights[f'{name}/moving_variance']
            scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
            wname = conv.input[1]
            wi = next(i for i, t in enumerate(inits) if t.name == wname)
            w = numpy_helper.to_array(inits[wi]).astype(np.float64)
            inits[wi] = numpy_helper.from_array((w * scale[:, None, None, None]).astype(np.float32), wname)
            bias = beta.astype(np.float64) - mean.astype(np.float64) * scale
            if len(conv.input) == 3:
                bi = next(i for i, t in enumerate(inits) if t.name == conv.input[2])
                bias = bias + numpy_helper.to_array(inits[bi]).astype(np.float64) * scale
                inits[bi] = numpy_helper.from_array(bias.astype(np.float32), conv.input[2])
            else:
                conv.input.append(init(f'{conv.input[1].rsplit(".", 1)[0]}.bias', bias))
            value_of[name] = src[0]
        elif cls == 'ReLU':
            scope, part = scope_of(name)
            assert cfg['max_value'] == 6 and cfg['negative_slope'] == 0 and cfg['threshold'] == 0
            out = f'{name}_out'
            nodes.append(helper.make_node('Clip', [src[0], 'clip_min', 'clip_max'], [out], name=node_name(scope, part, 'Clip')))
            value_of[name] = out
        elif cls == 'Add':
            scope, _ = scope_of(name)
            out = f'{name}_out'
            nodes.append(helper.make_node('Add', src, [out], name=f'/features/{scope}/Add'))
            value_of[name] = out
        elif cls == 'AveragePooling2D':
            # 7x7 on 224x224 inputs is the global average; global keeps other sizes working.
            out = 'pool_out'
            nodes.append(helper.make_node('GlobalAveragePool', src, [out], name='/pool/GlobalAveragePool'))
            value_of[name] = out
        elif cls == 'Flatten':
            # NCHW [1, 1280, 1, 1] flattens in the same order as Keras's NHWC [1, 1, 1, 1280].
            out = 'flatten_out'
            nodes.append(helper.make_node('Flatten', src, [out], name='/Flatten', axis=1))
            value_of[name] = out
        elif cls == 'Dense':
            out = f'{name}_out'
            nodes.append(helper.make_node('Gemm', [src[0], init(f'{name}.weight', weights[f'{name}/kernel']), init(f'{name}.bias', weights[f'{name}/bias'])],
                                          [out], name=f'/classifier/{name}/Gemm'))
            act = cfg['activation']
            if act == 'relu':
                nodes.append(helper.make_node('Relu', [out], [f'{out}_relu'], name=f'/classifier/{name}_relu/Relu'))
                out = f'{out}_relu'
            elif act == 'softmax':
                nodes.append(helper.make_node('Softmax', [out], ['probabilities'], name='/classifier/softmax/Softmax', axis=1))
                out = 'probabilities'
            else:
                assert act == 'linear', act
            value_of[name] = out
        elif cls == 'Dropout':
            value_of[name] = src[0]
        else:
            raise ValueError(f'unsupported layer {cls} ({name})')
    assert not pending_pad, pending_pad

    graph = helper.make_graph(
        nodes, 'nsfwjs_mobilenet_v2',
        [helper.make_tensor_value_info('image', TensorProto.FLOAT, [1, 3, 'height', 'width'])],
        [helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, [1, 5])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)], producer_name='onnxfx convert_nsfwjs.py')
    model.doc_string = ('MobileNetV2 from nsfwjs 4.4.0 (MIT), converted from TensorFlow.js layers format. '
                        'Input: RGB in 0..1, NCHW. Classes: Drawing, Hentai, Neutral, Porn, Sexy.')
    onnx.checker.check_model(model)
    onnx.save(model, out_path)
    print(f'wrote {out_path}: {len(nodes)} nodes')


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
