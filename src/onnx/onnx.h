/* ONNX messages decoded zero-copy from the wire format. Strings and tensor bytes are views into
 * the model bytes (not NUL-terminated); structs live in the caller's arena. Field numbers follow
 * onnx.proto; fields this reader does not know are skipped, as protobuf requires. */
#ifndef OFX_ONNX_ONNX_H
#define OFX_ONNX_ONNX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "onnxfx.h"

typedef struct onnx_str {
  const char *ptr;
  size_t len;
} onnx_str;

/* A repeated scalar field (packed or not, possibly split over several occurrences): `count`
 * elements, read with onnx_repeated_read_*. Views the enclosing message, so nothing is copied
 * until asked. */
typedef struct onnx_repeated {
  const uint8_t *msg;
  const uint8_t *msg_end;
  uint32_t field;
  uint32_t elem_wire_type;
  bool sign_extend_32; /* int32 fields: values are sign-extended from their low 32 bits */
  size_t count;
} onnx_repeated;

/* Messages that a pruned model copies verbatim keep `raw`, their encoded bytes. */
typedef struct onnx_string_entry {
  onnx_str key, value;
  onnx_str raw;
} onnx_string_entry;

typedef struct onnx_opset {
  onnx_str domain;
  int64_t version;
  onnx_str raw;
} onnx_opset;

typedef struct onnx_dim {
  bool has_value, has_param;
  int64_t value;
  onnx_str param;
  onnx_str denotation;
} onnx_dim;

enum onnx_type_kind {
  ONNX_TYPE_NONE = 0,
  ONNX_TYPE_TENSOR = 1,
  ONNX_TYPE_SEQUENCE = 4,
  ONNX_TYPE_MAP = 5,
  ONNX_TYPE_SPARSE_TENSOR = 8,
  ONNX_TYPE_OPTIONAL = 9,
};

typedef struct onnx_type {
  int kind;
  int32_t elem_type; /* tensor, sparse tensor */
  bool has_shape;
  size_t rank;
  onnx_dim *dims;
  int32_t map_key_type;
  struct onnx_type *elem; /* sequence/optional element, map value */
  onnx_str denotation;
} onnx_type;

typedef struct onnx_value_info {
  onnx_str raw;
  onnx_str name, doc_string;
  onnx_type *type; /* NULL when absent */
  size_t n_metadata;
  onnx_string_entry *metadata;
} onnx_value_info;

typedef struct onnx_tensor {
  onnx_str raw;
  onnx_str name, doc_string;
  int32_t data_type;
  size_t n_dims;
  int64_t *dims;
  bool has_raw_data;
  onnx_str raw_data;
  onnx_repeated float_data, int32_data, int64_data, double_data, uint64_data;
  size_t n_string_data;
  onnx_str *string_data;
  bool has_segment;
  int64_t segment_begin, segment_end;
  int32_t data_location; /* 0 default, 1 external */
  size_t n_external_data;
  onnx_string_entry *external_data;
  size_t n_metadata;
  onnx_string_entry *metadata;
} onnx_tensor;

typedef struct onnx_sparse_tensor {
  onnx_tensor *values, *indices;
  size_t n_dims;
  int64_t *dims;
} onnx_sparse_tensor;

struct onnx_graph;

/* AttributeProto.AttributeType */
enum onnx_attribute_type {
  ONNX_ATTR_UNDEFINED = 0,
  ONNX_ATTR_FLOAT = 1,
  ONNX_ATTR_INT = 2,
  ONNX_ATTR_STRING = 3,
  ONNX_ATTR_TENSOR = 4,
  ONNX_ATTR_GRAPH = 5,
  ONNX_ATTR_FLOATS = 6,
  ONNX_ATTR_INTS = 7,
  ONNX_ATTR_STRINGS = 8,
  ONNX_ATTR_TENSORS = 9,
  ONNX_ATTR_GRAPHS = 10,
  ONNX_ATTR_SPARSE_TENSOR = 11,
  ONNX_ATTR_SPARSE_TENSORS = 12,
  ONNX_ATTR_TYPE_PROTO = 13,
  ONNX_ATTR_TYPE_PROTOS = 14,
};

typedef struct onnx_attribute {
  onnx_str name, ref_attr_name, doc_string;
  int32_t type;
  bool has_f, has_i, has_s;
  float f;
  int64_t i;
  onnx_str s;
  onnx_tensor *t;
  struct onnx_graph *g;
  onnx_sparse_tensor *sparse_tensor;
  onnx_type *tp;
  onnx_repeated floats, ints;
  size_t n_strings, n_tensors, n_graphs, n_sparse_tensors, n_type_protos;
  onnx_str *strings;
  onnx_tensor *tensors;
  struct onnx_graph *graphs;
  onnx_sparse_tensor *sparse_tensors;
  onnx_type *type_protos;
} onnx_attribute;

typedef struct onnx_node {
  onnx_str raw;
  onnx_str name, op_type, domain, overload, doc_string;
  size_t n_inputs, n_outputs, n_attributes, n_metadata;
  onnx_str *inputs;
  onnx_str *outputs;
  onnx_attribute *attributes;
  onnx_string_entry *metadata;
} onnx_node;

typedef struct onnx_graph {
  onnx_str name, doc_string;
  size_t n_nodes, n_initializers, n_sparse_initializers, n_inputs, n_outputs, n_value_infos,
      n_metadata;
  onnx_node *nodes;
  onnx_tensor *initializers;
  onnx_sparse_tensor *sparse_initializers;
  onnx_value_info *inputs, *outputs, *value_infos;
  onnx_string_entry *metadata;
} onnx_graph;

typedef struct onnx_model {
  int64_t ir_version, model_version;
  onnx_str producer_name, producer_version, domain, doc_string;
  size_t n_opsets, n_metadata;
  onnx_opset *opsets;
  onnx_graph *graph; /* NULL when absent */
  onnx_string_entry *metadata;
} onnx_model;

/* Decodes a ModelProto. On failure returns OFX_BAD_MODEL (or OFX_OUT_OF_MEMORY) with a message
 * naming the field path, e.g. "graph.node[3].attribute[1].t.dims: ...". */
ofx_status onnx_model_decode(const uint8_t *bytes, size_t size, ofx_arena *arena,
                             onnx_model **out);

/* Decodes a lone TensorProto (the .pb files of ONNX's conformance tests). */
ofx_status onnx_tensor_decode(const uint8_t *bytes, size_t size, ofx_arena *arena,
                              onnx_tensor **out);

/* Copies a repeated field's elements into `out` (room for r->count elements). */
void onnx_repeated_read_i64(const onnx_repeated *r, int64_t *out);
void onnx_repeated_read_u64(const onnx_repeated *r, uint64_t *out);
void onnx_repeated_read_f32(const onnx_repeated *r, float *out);
void onnx_repeated_read_f64(const onnx_repeated *r, double *out);

/* Element size in bytes for an ONNX data type, 0 for unknown or sub-byte/variable types. */
size_t onnx_dtype_size(int32_t data_type);
const char *onnx_dtype_name(int32_t data_type);

bool onnx_str_eq(onnx_str s, const char *c);

#endif
