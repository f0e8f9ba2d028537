/* Shared by the files of src/graph only: what reads the decoded ONNX structs behind the IR. */
#ifndef OFX_GRAPH_GRAPH_INTERNAL_H
#define OFX_GRAPH_GRAPH_INTERNAL_H

#include "graph/graph.h"

/* A TensorProto without raw_data keeps its elements in a typed field (float_data, int64_data,
 * ...): how many there are, and (once that count is checked against the dims) decoding them
 * into `out`, which holds numel * max(element size, 8) bytes; the first numel * element size
 * bytes then are the elements in the tensor's type. graph-build.c. */
size_t ofx_tensor_proto_count(const onnx_tensor *t);
void ofx_tensor_proto_decode(const onnx_tensor *t, size_t numel, void *out);

#endif
