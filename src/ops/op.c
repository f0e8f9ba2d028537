#include "ops/op.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

#define OFX_OP(op_type, symbol) extern const ofx_op_def symbol;
#include "ops/op-defs.inc"
#undef OFX_OP

/* Indexed by kind: row k of op-defs.inc is op_table[k]. */
static const ofx_op_def *const op_table[] = {
#define OFX_OP(op_type, symbol) [OFX_OP_##op_type] = &symbol,
#include "ops/op-defs.inc"
#undef OFX_OP
};
_Static_assert(sizeof op_table / sizeof op_table[0] == OFX_OP_KIND_COUNT, "one definition per kind");

const ofx_op_def *ofx_op_def_of_kind(ofx_op_kind kind) { return op_table[kind]; }

/* The row of an op type in the default domain: the one op-type string compare. */
static const ofx_op_def *lookup(const char *domain, const char *op_type) {
  if (domain[0] != '\0' && strcmp(domain, "ai.onnx") != 0) return NULL;
  for (size_t k = 0; k < OFX_OP_KIND_COUNT; k++)
    if (strcmp(op_table[k]->op_type, op_type) == 0) return op_table[k];
  return NULL;
}

const ofx_op_def *ofx_op_find(const char *domain, const char *op_type) {
  const ofx_op_def *def = lookup(domain, op_type);
  return def && def->run ? def : NULL;
}

const ofx_op_def *ofx_op_for_node(const ofx_node *node) {
  int kind = node->traits.kind;
  if (kind < 0 || kind >= OFX_OP_KIND_COUNT) return NULL;
  return op_table[kind]->run ? op_table[kind] : NULL;
}

void ofx_op_describe(const char *domain, const char *op_type, ofx_op_traits *out) {
  const ofx_op_def *def = lookup(domain, op_type);
  *out = def ? (ofx_op_traits){.kind = (int)def->kind, .torch_name = def->torch_name,
                               .output_type = def->output_type, .flags = def->trait_flags}
             : OFX_OP_TRAITS_UNKNOWN;
}

ofx_status ofx_op_error(const ofx_op *op, ofx_status status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  ofx_status s = ofx_node_verror(op->node, status, fmt, args);
  va_end(args);
  return s;
}

ofx_status ofx_op_state_new(ofx_op *op, size_t size) {
  op->state = calloc(1, size);
  return op->state ? OFX_OK : ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory for its state");
}

const ofx_value *ofx_op_const_input(const ofx_op *op, size_t k) {
  if (k >= op->node->n_inputs || op->node->inputs[k] < 0) return NULL;
  const ofx_value *v = &op->graph->values[op->node->inputs[k]];
  return v->kind == OFX_VALUE_CONSTANT ? v : NULL;
}

bool ofx_op_has_input(const ofx_op *op, size_t k) {
  return k < op->node->n_inputs && op->node->inputs[k] >= 0;
}

const char *ofx_shape_str(const int64_t *dims, int rank, char *buf, size_t size) {
  size_t k = 0;
  k += (size_t)snprintf(buf + k, size - k, "[");
  for (int i = 0; i < rank && k < size; i++)
    k += (size_t)snprintf(buf + k, size - k, i ? ", %lld" : "%lld", (long long)dims[i]);
  if (k < size) snprintf(buf + k, size - k, "]");
  return buf;
}

ofx_status ofx_op_check_input(const ofx_op *op, const ofx_tensor *in, size_t k, ofx_dtype dtype,
                              int rank) {
  if (k >= op->node->n_inputs || in[k].rank < 0)
    return ofx_op_error(op, OFX_BAD_MODEL, "input %zu is missing", k);
  const char *name = op->graph->values[op->node->inputs[k]].name;
  if (in[k].dtype != dtype)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input %zu ('%s') has type %s, only %s is supported",
                        k, name, onnx_dtype_name((int32_t)in[k].dtype), onnx_dtype_name((int32_t)dtype));
  if (rank >= 0 && in[k].rank != rank) {
    char shape[96];
    return ofx_op_error(op, OFX_BAD_INPUT, "input %zu ('%s') must have rank %d, it has shape %s", k,
                        name, rank, ofx_shape_str(in[k].dims, in[k].rank, shape, sizeof shape));
  }
  return OFX_OK;
}

ofx_status ofx_op_axis(const ofx_op *op, const char *what, int64_t axis, int rank, int *out) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank)
    return ofx_op_error(op, OFX_BAD_MODEL, "%s %lld is out of range for rank %d", what, (long long)axis, rank);
  *out = (int)a;
  return OFX_OK;
}

size_t ofx_tensor_numel(const ofx_tensor *t) {
  size_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= (size_t)t->dims[i];
  return n;
}
