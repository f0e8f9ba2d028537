#!/usr/bin/python3
"""Writes the fuzz seed corpus (tests/fuzz/corpus/*.onnx): small valid models, each covering
some feature of the reader, graph builder, naming, pruning or an op, plus a few that are valid
protobuf but invalid models. Deterministic: the same bytes on every run, so the committed
corpus can be regenerated and compared (new seeds go last: they draw weights from the same
random stream after the older ones). Uses Debian's python3-onnx (/usr/bin/python3).

    /usr/bin/python3 tests/tools/make_fuzz_seeds.py [OUT_DIR]
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '../fuzz/corpus')
F = TensorProto.FLOAT
rng = np.random.default_rng(0)


def w(name, *shape):
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.5).astype(np.float32), name)


def model(name, nodes, inputs, outputs, inits=(), opset=13, value_info=(), **kw):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits), value_info=list(value_info))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', opset)], producer_name='onnxfx-seeds', **kw)
    m.ir_version = 8
    with open(os.path.join(OUT, name + '.onnx'), 'wb') as f:
        f.write(m.SerializeToString())


def vi(name, dims, t=F):
    return helper.make_tensor_value_info(name, t, dims)


def main():
    os.makedirs(OUT, exist_ok=True)
    x = vi('x', [1, 3, 8, 8])
    # Conv + Relu, torchvision-like names (the exporter's /scope/op paths)
    model('conv_relu', [
        helper.make_node('Conv', ['x', 'conv1.weight', 'conv1.bias'], ['c'], name='/conv1/Conv', pads=[1, 1, 1, 1]),
        helper.make_node('Relu', ['c'], ['y'], name='/relu/Relu'),
    ], [x], [vi('y', [1, 4, 8, 8])], [w('conv1.weight', 4, 3, 3, 3), w('conv1.bias', 4)])
    # residual block with grouped, strided, dilated convs, pools, add
    model('block', [
        helper.make_node('Conv', ['x', 'w1'], ['a'], name='/layer1/layer1.0/conv1/Conv', strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node('Relu', ['a'], ['b'], name='/layer1/layer1.0/relu/Relu'),
        helper.make_node('Conv', ['b', 'w2'], ['c'], name='/layer1/layer1.0/conv2/Conv', group=2, pads=[2, 2, 2, 2], dilations=[2, 2]),
        helper.make_node('MaxPool', ['x'], ['p'], name='/layer1/layer1.0/downsample/MaxPool', kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node('Conv', ['p', 'w3'], ['d'], name='/layer1/layer1.0/downsample/Conv'),
        helper.make_node('Add', ['c', 'd'], ['e'], name='/layer1/layer1.0/Add'),
        helper.make_node('Relu', ['e'], ['f'], name='/layer1/layer1.0/relu_1/Relu'),
        helper.make_node('GlobalAveragePool', ['f'], ['g'], name='/avgpool/GlobalAveragePool'),
        helper.make_node('Flatten', ['g'], ['h'], name='/Flatten'),
        helper.make_node('Gemm', ['h', 'fcw', 'fcb'], ['y'], name='/fc/Gemm', transB=1),
    ], [x], [vi('y', [1, 5])], [w('w1', 4, 3, 3, 3), w('w2', 4, 2, 3, 3), w('w3', 4, 3, 1, 1), w('fcw', 5, 4), w('fcb', 5)])
    # elementwise with broadcasting, constants (folded), Identity, Clip, Sigmoid, Reshape
    model('elementwise', [
        helper.make_node('Constant', [], ['k'], value=numpy_helper.from_array(np.array([0.5], np.float32))),
        helper.make_node('Identity', ['k'], ['k2']),
        helper.make_node('Mul', ['x', 'k2'], ['a']),
        helper.make_node('Sub', ['a', 'bias'], ['b']),
        helper.make_node('Div', ['b', 'k'], ['c']),
        helper.make_node('Clip', ['c', 'lo', 'hi'], ['d']),
        helper.make_node('Sigmoid', ['d'], ['e']),
        helper.make_node('Reshape', ['e', 'shape'], ['y']),
    ], [x], [vi('y', [1, 192])], [w('bias', 3, 1, 1),
                                  numpy_helper.from_array(np.array(-1, np.float32), 'lo'),
                                  numpy_helper.from_array(np.array(1, np.float32), 'hi'),
                                  numpy_helper.from_array(np.array([1, -1], np.int64), 'shape')])
    # symbolic batch, two inputs, AveragePool with ceil_mode, value_info, doc strings, metadata
    xb = vi('x', ['batch', 3, 8, 8])
    model('two_inputs', [
        helper.make_node('AveragePool', ['x'], ['a'], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        helper.make_node('AveragePool', ['z'], ['b'], kernel_shape=[2, 2], strides=[2, 2], count_include_pad=1, pads=[1, 1, 1, 1]),
        helper.make_node('Add', ['a', 'b'], ['y'], doc_string='sum'),
    ], [xb, vi('z', ['batch', 3, 6, 6])], [vi('y', ['batch', 3, 4, 4])], value_info=[vi('a', ['batch', 3, 4, 4])],
        doc_string='two inputs')
    # float_data / int64_data (not raw), Dropout (train view only), opset 11
    t = helper.make_tensor('wd', F, [2, 3, 1, 1], [0.1, -0.2, 0.3, 0.4, -0.5, 0.6])
    model('typed_data', [
        helper.make_node('Conv', ['x', 'wd'], ['a'], name='/conv/Conv', auto_pad='SAME_UPPER'),
        helper.make_node('Dropout', ['a'], ['b'], name='/dropout/Dropout'),
        helper.make_node('Relu', ['b'], ['y'], name='/relu/Relu'),
    ], [x], [vi('y', [1, 2, 8, 8])], [t], opset=11)
    # If with two branches reading an outer value, Loop with a body (both unsupported ops: they
    # exercise subgraph capture, naming and pruning)
    then_g = helper.make_graph([helper.make_node('Relu', ['x'], ['t'])], 'then', [], [vi('t', [1, 3, 8, 8])])
    else_g = helper.make_graph([helper.make_node('Sigmoid', ['x'], ['e'])], 'else', [], [vi('e', [1, 3, 8, 8])])
    body = helper.make_graph([helper.make_node('Identity', ['cond_in'], ['cond_out']),
                              helper.make_node('Add', ['v_in', 'x'], ['v_out'])], 'body',
                             [vi('i', [], TensorProto.INT64), vi('cond_in', [], TensorProto.BOOL), vi('v_in', [1, 3, 8, 8])],
                             [vi('cond_out', [], TensorProto.BOOL), vi('v_out', [1, 3, 8, 8])])
    model('control_flow', [
        helper.make_node('Relu', ['x'], ['r'], name='/pre/Relu'),
        helper.make_node('If', ['c'], ['y'], then_branch=then_g, else_branch=else_g),
        helper.make_node('Loop', ['n', '', 'r'], ['z'], body=body),
    ], [x, vi('c', [], TensorProto.BOOL)], [vi('y', [1, 3, 8, 8]), vi('z', [1, 3, 8, 8])],
        [numpy_helper.from_array(np.array(2, np.int64), 'n')])
    # nodes listed out of order (topological sort), unnamed nodes, attributes of every kind
    model('out_of_order', [
        helper.make_node('Relu', ['a'], ['y']),
        helper.make_node('Mul', ['x', 'x'], ['a'], floats=[1.0, 2.0], ints=[1, -2], strings=[b's'], f=0.5, i=-3, s=b'str'),
    ], [x], [vi('y', [1, 3, 8, 8])])
    # graph input with a default initializer, int types, a string tensor, sparse initializer
    sparse = helper.make_sparse_tensor(numpy_helper.from_array(np.array([1.0], np.float32), 'sv'),
                                       numpy_helper.from_array(np.array([0], np.int64), 'si'), [4])
    g = helper.make_graph([helper.make_node('Add', ['x', 'd'], ['y'])], 'defaults', [x, vi('d', [1])], [vi('y', [1, 3, 8, 8])],
                          initializer=[numpy_helper.from_array(np.array([1.5], np.float32), 'd'),
                                       helper.make_tensor('names', TensorProto.STRING, [2], [b'a', b'b']),
                                       helper.make_tensor('i8', TensorProto.INT8, [3], [1, -2, 3])],
                          sparse_initializer=[sparse])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13), helper.make_opsetid('com.example', 1)])
    m.ir_version = 8
    helper.set_model_props(m, {'k': 'v'})
    with open(os.path.join(OUT, 'defaults.onnx'), 'wb') as f:
        f.write(m.SerializeToString())
    # a Gemm-only model with 2-D input
    model('gemm', [helper.make_node('Gemm', ['x', 'gw'], ['y'], alpha=0.5, beta=2.0, transA=0)],
          [vi('x', [2, 4])], [vi('y', [2, 3])], [w('gw', 4, 3)])
    # invalid models that still parse: a cycle, an undefined input, a duplicated value name
    model('cycle', [helper.make_node('Relu', ['b'], ['a']), helper.make_node('Relu', ['a'], ['b'])],
          [x], [vi('b', [1, 3, 8, 8])])
    model('undefined_input', [helper.make_node('Relu', ['nope'], ['y'])], [x], [vi('y', [1, 3, 8, 8])])
    model('duplicate_output', [helper.make_node('Relu', ['x'], ['y']), helper.make_node('Sigmoid', ['x'], ['y'])],
          [x], [vi('y', [1, 3, 8, 8])])
    float16_seeds()
    int8_seeds()
    conv_seeds()


def h(name, *shape):
    """A float16 initializer (widened to float32 when the model loads)."""
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.5).astype(np.float16), name)


def q(name, dtype, *shape):
    """An 8-bit initializer of random values."""
    lo, hi = (-127, 128) if dtype == np.int8 else (0, 256)
    return numpy_helper.from_array(rng.integers(lo, hi, shape).astype(dtype), name)


def scalar(name, value, dtype):
    return numpy_helper.from_array(np.array(value, dtype), name)


def float16_seeds():
    H, BF = TensorProto.FLOAT16, TensorProto.BFLOAT16
    x = vi('x', [1, 3, 6, 6])
    # keep_io_types: float32 in and out, Casts to float16 around a float16 Conv/Relu/MaxPool
    model('float16_keep_io', [
        helper.make_node('Cast', ['x'], ['xh'], to=H),
        helper.make_node('Conv', ['xh', 'w16', 'b16'], ['c'], name='/conv1/Conv', pads=[1, 1, 1, 1]),
        helper.make_node('Relu', ['c'], ['r'], name='/relu/Relu'),
        helper.make_node('MaxPool', ['r'], ['p'], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node('Cast', ['p'], ['y'], to=F),
    ], [x], [vi('y', [1, 4, 3, 3])], [h('w16', 4, 3, 3, 3), h('b16', 4)])
    # a float16 graph: float16 input, a float16 Constant and initializers, Cast to bfloat16 and
    # back (rounding), a float16 output
    model('float16_graph', [
        helper.make_node('Constant', [], ['k'], value=numpy_helper.from_array(np.array([0.25, -2], np.float16))),
        helper.make_node('Mul', ['x', 'g16'], ['a']),
        helper.make_node('Cast', ['a'], ['ab'], to=BF),
        helper.make_node('Cast', ['ab'], ['af'], to=H),
        helper.make_node('MatMul', ['af', 'm16'], ['b']),
        helper.make_node('Add', ['b', 'k'], ['y']),
    ], [vi('x', [2, 3], H)], [vi('y', [2, 2], H)], [h('g16', 3), h('m16', 3, 2)])


def int8_seeds():
    U8, I8 = TensorProto.UINT8, TensorProto.INT8
    x = vi('x', [1, 3, 6, 6])
    # dynamically quantized (onnxruntime quantize_dynamic): DynamicQuantizeLinear -> ConvInteger ->
    # Cast -> Mul(x_scale * w_scale) -> Add(bias), which the fuse pass makes one op
    model('int8_dynamic_conv', [
        helper.make_node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']),
        helper.make_node('ConvInteger', ['xq', 'wq', 'xz', 'wz'], ['ci'], name='/conv1/Conv_quant', pads=[1, 1, 1, 1]),
        helper.make_node('Cast', ['ci'], ['cf'], to=F),
        helper.make_node('Mul', ['xs', 'ws'], ['s']),
        helper.make_node('Mul', ['cf', 's'], ['m']),
        helper.make_node('Add', ['m', 'bias'], ['y'], name='/conv1/Conv'),
    ], [x], [vi('y', [1, 4, 6, 6])],
        [q('wq', np.uint8, 4, 3, 3, 3), scalar('wz', 131, np.uint8), scalar('ws', 0.01, np.float32), w('bias', 4, 1, 1)])
    model('int8_dynamic_matmul', [
        helper.make_node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']),
        helper.make_node('MatMulInteger', ['xq', 'wq', 'xz', 'wz'], ['mi']),
        helper.make_node('Cast', ['mi'], ['mf'], to=F),
        helper.make_node('Mul', ['xs', 'ws'], ['s']),
        helper.make_node('Mul', ['mf', 's'], ['m']),
        helper.make_node('Add', ['m', 'bias'], ['y'], name='/fc/MatMul'),
    ], [vi('x', [2, 5])], [vi('y', [2, 3])],
        [q('wq', np.int8, 5, 3), scalar('wz', 0, np.int8), scalar('ws', 0.02, np.float32), w('bias', 3)])
    # QDQ: per-tensor activations, per-channel (axis 0) int8 weights, a per-channel (axis 1)
    # Q/DQ pair on the output, an int8 Clip in between
    model('int8_qdq_axis', [
        helper.make_node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']),
        helper.make_node('DequantizeLinear', ['xq', 'xs', 'xz'], ['xd']),
        helper.make_node('DequantizeLinear', ['wq', 'ws', 'wz'], ['wd'], axis=0),
        helper.make_node('Conv', ['xd', 'wd', 'b'], ['c'], name='/conv1/Conv', pads=[1, 1, 1, 1]),
        helper.make_node('QuantizeLinear', ['c', 'cs', 'cz'], ['cq'], axis=1),
        helper.make_node('Clip', ['cq', 'lo', 'hi'], ['cc']),
        helper.make_node('DequantizeLinear', ['cc', 'cs', 'cz'], ['y'], axis=1),
    ], [x], [vi('y', [1, 4, 6, 6])],
        [scalar('xs', 0.02, np.float32), scalar('xz', 3, np.int8), q('wq', np.int8, 4, 3, 3, 3),
         numpy_helper.from_array(np.array([0.01, 0.02, 0.005, 0.04], np.float32), 'ws'),
         numpy_helper.from_array(np.zeros(4, np.int8), 'wz'), w('b', 4),
         numpy_helper.from_array(np.array([0.05, 0.1, 0.02, 0.03], np.float32), 'cs'),
         numpy_helper.from_array(np.array([0, -3, 5, 1], np.int8), 'cz'),
         scalar('lo', -100, np.int8), scalar('hi', 90, np.int8)])
    # QOperator: QLinearConv (int32 bias) -> uint8 MaxPool -> Flatten -> QLinearMatMul
    model('int8_qlinear', [
        helper.make_node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']),
        helper.make_node('QLinearConv', ['xq', 'xs', 'xz', 'wq', 'ws', 'wz', 'ys', 'yz', 'b32'], ['c'], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node('MaxPool', ['c'], ['p'], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node('Flatten', ['p'], ['f']),
        helper.make_node('QLinearMatMul', ['f', 'ys', 'yz', 'mq', 'ms', 'mz', 'os', 'oz'], ['mm']),
        helper.make_node('DequantizeLinear', ['mm', 'os', 'oz'], ['y']),
    ], [x], [vi('y', [1, 3])],
        [scalar('xs', 0.02, np.float32), scalar('xz', 128, np.uint8), q('wq', np.uint8, 4, 3, 3, 3),
         scalar('ws', 0.01, np.float32), scalar('wz', 128, np.uint8), scalar('ys', 0.05, np.float32), scalar('yz', 100, np.uint8),
         numpy_helper.from_array(rng.integers(-500, 500, 4).astype(np.int32), 'b32'),
         q('mq', np.uint8, 4, 3), scalar('ms', 0.01, np.float32), scalar('mz', 120, np.uint8),
         scalar('os', 0.1, np.float32), scalar('oz', 128, np.uint8)], opset=13)


def conv_seeds():
    # weights and bias as graph inputs (the unpacked path), one computed by another node
    model('conv_runtime_weights', [
        helper.make_node('Relu', ['wi'], ['w']),
        helper.make_node('Conv', ['x', 'w', 'b'], ['y'], group=3, pads=[1, 1, 1, 1]),
    ], [vi('x', [1, 3, 6, 6]), vi('wi', [6, 1, 3, 3]), vi('b', [6])], [vi('y', [1, 6, 6, 6])])
    # a 3-D network: Conv3d -> Relu -> MaxPool3d -> ConvTranspose3d -> AveragePool3d
    model('conv3d', [
        helper.make_node('Conv', ['x', 'w1', 'b1'], ['c'], name='/conv1/Conv', pads=[1, 1, 1, 1, 1, 1], strides=[1, 2, 2]),
        helper.make_node('Relu', ['c'], ['r']),
        helper.make_node('MaxPool', ['r'], ['p'], kernel_shape=[2, 2, 2], strides=[2, 2, 2]),
        helper.make_node('ConvTranspose', ['p', 'w2'], ['t'], strides=[2, 2, 2]),
        helper.make_node('AveragePool', ['t'], ['y'], kernel_shape=[3, 3, 3], pads=[1, 1, 1, 1, 1, 1]),
    ], [vi('x', [1, 2, 4, 6, 6])], [vi('y', [1, 2, 4, 2, 2])], [w('w1', 3, 2, 3, 3, 3), w('b1', 3), w('w2', 3, 2, 2, 2, 2)])


if __name__ == '__main__':
    main()
