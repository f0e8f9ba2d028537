/* Target (a): the zero-copy protobuf/ONNX reader. Decodes the input as a ModelProto and as a
 * lone TensorProto, then reads every repeated scalar field it found (the lazy views are only
 * walked when read) and touches every string view, so ASan sees any view that points outside
 * the input. */
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "fuzz.h"
#include "onnx/onnx.h"

static volatile uint8_t sink;

static void touch(onnx_str s) {
  if (s.len) sink ^= (uint8_t)(s.ptr[0] ^ s.ptr[s.len - 1]);
}

static void read_repeated(const onnx_repeated *r) {
  if (r->count == 0) return;
  /* count elements were counted inside the message, each at least one byte */
  if ((size_t)(r->msg_end - r->msg) < r->count) __builtin_trap();
  uint64_t *buf = malloc(r->count * sizeof *buf);
  if (buf == NULL) return;
  onnx_repeated_read_u64(r, buf);
  onnx_repeated_read_i64(r, (int64_t *)buf);
  onnx_repeated_read_f64(r, (double *)buf);
  onnx_repeated_read_f32(r, (float *)buf);
  sink ^= (uint8_t)buf[0];
  free(buf);
}

static void walk_graph(const onnx_graph *g, int depth);

static void walk_tensor(const onnx_tensor *t) {
  touch(t->name);
  touch(t->raw_data);
  for (size_t i = 0; i < t->n_dims; i++) sink ^= (uint8_t)t->dims[i];
  for (size_t i = 0; i < t->n_string_data; i++) touch(t->string_data[i]);
  for (size_t i = 0; i < t->n_external_data; i++) touch(t->external_data[i].value);
  read_repeated(&t->float_data);
  read_repeated(&t->int32_data);
  read_repeated(&t->int64_data);
  read_repeated(&t->double_data);
  read_repeated(&t->uint64_data);
}

static void walk_type(const onnx_type *t, int depth) {
  if (t == NULL || depth > 100) return;
  for (size_t i = 0; i < t->rank; i++) touch(t->dims[i].param);
  walk_type(t->elem, depth + 1);
}

static void walk_sparse(const onnx_sparse_tensor *s) {
  if (s->values) walk_tensor(s->values);
  if (s->indices) walk_tensor(s->indices);
}

static void walk_graph(const onnx_graph *g, int depth) {
  if (depth > 100) __builtin_trap(); /* the decoder bounds nesting */
  touch(g->name);
  for (size_t i = 0; i < g->n_initializers; i++) walk_tensor(&g->initializers[i]);
  for (size_t i = 0; i < g->n_sparse_initializers; i++) walk_sparse(&g->sparse_initializers[i]);
  const onnx_value_info *lists[3] = {g->inputs, g->outputs, g->value_infos};
  size_t counts[3] = {g->n_inputs, g->n_outputs, g->n_value_infos};
  for (int l = 0; l < 3; l++)
    for (size_t i = 0; i < counts[l]; i++) {
      touch(lists[l][i].name);
      walk_type(lists[l][i].type, 0);
    }
  for (size_t i = 0; i < g->n_nodes; i++) {
    const onnx_node *n = &g->nodes[i];
    touch(n->op_type);
    for (size_t k = 0; k < n->n_inputs; k++) touch(n->inputs[k]);
    for (size_t k = 0; k < n->n_outputs; k++) touch(n->outputs[k]);
    for (size_t a = 0; a < n->n_attributes; a++) {
      const onnx_attribute *at = &n->attributes[a];
      touch(at->name);
      touch(at->s);
      read_repeated(&at->floats);
      read_repeated(&at->ints);
      for (size_t k = 0; k < at->n_strings; k++) touch(at->strings[k]);
      if (at->t) walk_tensor(at->t);
      for (size_t k = 0; k < at->n_tensors; k++) walk_tensor(&at->tensors[k]);
      if (at->g) walk_graph(at->g, depth + 1);
      for (size_t k = 0; k < at->n_graphs; k++) walk_graph(&at->graphs[k], depth + 1);
      if (at->sparse_tensor) walk_sparse(at->sparse_tensor);
      for (size_t k = 0; k < at->n_sparse_tensors; k++) walk_sparse(&at->sparse_tensors[k]);
      walk_type(at->tp, 0);
      for (size_t k = 0; k < at->n_type_protos; k++) walk_type(&at->type_protos[k], 0);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > OFX_FUZZ_MAX_INPUT) return 0;
  /* a copy of exactly `size` bytes, so that ASan catches any read past the end */
  uint8_t *copy = malloc(size ? size : 1);
  if (copy == NULL) return 0;
  memcpy(copy, data, size);
  ofx_arena arena = {0};
  onnx_model *model = NULL;
  ofx_status s = onnx_model_decode(copy, size, &arena, &model);
  ofx_fuzz_check_error(s);
  if (s == OFX_OK) {
    touch(model->producer_name);
    for (size_t i = 0; i < model->n_opsets; i++) touch(model->opsets[i].domain);
    if (model->graph) walk_graph(model->graph, 0);
  }
  ofx_arena_free(&arena);
  onnx_tensor *tensor = NULL;
  s = onnx_tensor_decode(copy, size, &arena, &tensor);
  ofx_fuzz_check_error(s);
  if (s == OFX_OK) walk_tensor(tensor);
  ofx_arena_free(&arena);
  free(copy);
  return 0;
}
