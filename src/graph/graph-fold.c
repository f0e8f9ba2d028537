/* Folding nodes into constants after the runtime evaluated them (runtime/pass-fold-constants.c):
 * the graph layer does no maths, it only records the values it is given and drops the nodes
 * that made them, keeping the node list compact and every producer index right, as graph-build.c
 * does for Constant nodes. Runs before naming, so folded nodes never take a name or a counter. */
#include <stdio.h>
#include <string.h>

#include "base/half.h"
#include "base/status.h"
#include "graph/graph.h"

void *ofx_graph_alloc(ofx_graph *g, size_t bytes) { return ofx_arena_alloc(&g->arena, bytes ? bytes : 1, 1); }

void ofx_graph_make_constant(ofx_graph *g, int v, ofx_dtype dtype, int rank, const int64_t *dims, const void *data,
                             size_t nbytes) {
  ofx_value *value = &g->values[v];
  value->kind = OFX_VALUE_CONSTANT;
  value->producer = -1;
  value->dtype = dtype;
  value->rank = rank;
  for (int d = 0; d < OFX_MAX_RANK; d++) {
    value->dims[d] = d < rank ? dims[d] : 0;
    value->dim_params[d] = NULL;
  }
  value->data = data;
  value->nbytes = nbytes;
  /* onnx_producer stays: write-pruned.c writes the original ONNX node back for a pruned model */
  value->onnx_initializer = -1;
  value->dequantized.q = -1;
  ofx_value_not_deferred(value);
}

ofx_status ofx_graph_remove_nodes(ofx_graph *g, const bool *remove) {
  size_t kept = 0;
  for (size_t i = 0; i < g->n_nodes; i++) {
    ofx_node *node = &g->nodes[i];
    if (remove[i]) {
      for (size_t k = 0; k < node->n_outputs; k++)
        if (node->outputs[k] >= 0 && g->values[node->outputs[k]].kind != OFX_VALUE_CONSTANT)
          return ofx_node_error(node, OFX_INVALID_ARGUMENT, "removed while output %zu is not a constant", k);
      continue;
    }
    if (kept != i) g->nodes[kept] = *node;
    node = &g->nodes[kept];
    for (size_t k = 0; k < node->n_outputs; k++)
      if (node->outputs[k] >= 0) g->values[node->outputs[k]].producer = (int)kept;
    kept++;
  }
  g->n_nodes = kept;
  return OFX_OK;
}

void ofx_graph_set_constant_data(ofx_graph *g, int v, ofx_dtype dtype, const void *data, size_t nbytes) {
  ofx_value *value = &g->values[v];
  value->dtype = dtype;
  value->data = data;
  value->nbytes = nbytes;
  ofx_value_not_deferred(value);
}

bool ofx_value_scalar_f32(const ofx_value *v, float *out) {
  if (v == NULL || v->dtype != OFX_DTYPE_FLOAT32 || v->nbytes != sizeof *out || v->data == NULL) return false;
  memcpy(out, v->data, sizeof *out);
  return true;
}

bool ofx_value_scalar_8bit(const ofx_value *v, int32_t *out, ofx_dtype *type) {
  if (v == NULL || v->nbytes != 1 || v->data == NULL || (v->dtype != OFX_DTYPE_UINT8 && v->dtype != OFX_DTYPE_INT8)) return false;
  *type = v->dtype;
  *out = v->dtype == OFX_DTYPE_INT8 ? *(const int8_t *)v->data : *(const uint8_t *)v->data;
  return true;
}

void ofx_graph_defer_widening(ofx_graph *g, int v) {
  ofx_value *value = &g->values[v];
  value->deferred.widen_half = true;
  value->deferred.bfloat16 = value->dtype == OFX_DTYPE_BFLOAT16;
  value->dtype = OFX_DTYPE_FLOAT32;
  value->nbytes *= 2;
}

void ofx_graph_defer_in_memory_half(ofx_graph *g, int v) {
  ofx_value *value = &g->values[v];
  value->deferred.stored = value->data;
  value->data = NULL;
  ofx_graph_defer_widening(g, v);
}

ofx_status ofx_graph_read_constant(const ofx_graph *g, int v, void *dest) {
  const ofx_value *value = &g->values[v];
  if (!ofx_value_deferred(value)) {
    if (value->nbytes) memcpy(dest, value->data, value->nbytes);
    return OFX_OK;
  }
  if (value->deferred.recompute >= 0) {
    if (g->recompute == NULL) return ofx_error(OFX_INVALID_ARGUMENT, "constant '%s' has nothing to compute it", value->name);
    return g->recompute(g, v, dest);
  }
  const size_t stored = value->deferred.widen_half ? value->nbytes / 2 : value->nbytes;
  /* float16 is read into the upper half and widened forward: element i's float32 (bytes 4i..4i+3)
   * never reaches a half not yet read (at 2n + 2j, j > i) */
  char *at = (char *)dest + (value->nbytes - stored);
  ofx_status s = OFX_OK;
  if (value->deferred.stored) memcpy(at, value->deferred.stored, stored);
  else if (g->read_external == NULL)
    return ofx_error(OFX_INVALID_ARGUMENT, "constant '%s' is in an external file nobody can read", value->name);
  else s = g->read_external(g->read_ctx, (size_t)value->deferred.file, value->deferred.offset, stored, at);
  if (s != OFX_OK) {
    char why[256];
    snprintf(why, sizeof why, "%s", ofx_last_error());
    return ofx_error(s, "tensor '%s': reading its %zu bytes of external data (file '%s', offset %llu) failed%s%s", value->name,
                     stored, g->external_locations ? g->external_locations[value->deferred.file] : "?",
                     (unsigned long long)value->deferred.offset, why[0] ? ": " : "", why);
  }
  if (value->deferred.widen_half) {
    float *wide = dest;
    for (size_t i = 0, n = stored / 2; i < n; i++) {
      uint16_t h;
      memcpy(&h, at + 2 * i, sizeof h);
      wide[i] = value->deferred.bfloat16 ? ofx_bf16_to_f32(h) : ofx_f16_to_f32(h);
    }
  }
  return OFX_OK;
}
