/* ScatterND (opset 11-18): a copy of `data` with the slices that `indices` address replaced by
 * (or, from opset 16, combined with) `updates`. Exporters emit it for masks and in-place
 * assignments (torchvision's Swin builds its shifted-window mask with it). */
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "ops/op.h"
#include "ops/typed.h"

typedef enum scatter_reduction { R_NONE, R_ADD, R_MUL, R_MAX, R_MIN } scatter_reduction;

typedef struct scatter_state {
  scatter_reduction reduction;
  size_t n_updates, slice, k;       /* index tuples, elements per slice, tuple length */
  int64_t strides[OFX_MAX_RANK];    /* elements per step of each data axis */
  int64_t dims[OFX_MAX_RANK];
} scatter_state;

static ofx_status scatter_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(scatter_state)));
  scatter_state *s = op->state;
  char reduction[16];
  OFX_TRY(ofx_node_attr_string(op->node, "reduction", "none", reduction, sizeof reduction));
  static const char *const names[] = {"none", "add", "mul", "max", "min"};
  for (int r = 0; r < 5; r++)
    if (strcmp(reduction, names[r]) == 0) {
      s->reduction = (scatter_reduction)r;
      return OFX_OK;
    }
  return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'reduction' has unknown value '%s'", reduction);
}

static ofx_status scatter_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  scatter_state *s = op->state;
  for (size_t k = 0; k < 3; k++)
    if (k >= op->node->n_inputs || in[k].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu is missing", k);
  const ofx_tensor *data = &in[0], *indices = &in[1], *updates = &in[2];
  if (ofx_dtype_size(data->dtype) == 0) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "data has an unsupported type");
  if (indices->dtype != OFX_DTYPE_INT64) return ofx_op_error(op, OFX_BAD_MODEL, "indices must be int64");
  if (updates->dtype != data->dtype) return ofx_op_error(op, OFX_BAD_MODEL, "updates and data have different types");
  if (s->reduction != R_NONE && !ofx_dtype_is_numeric(data->dtype))
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "reductions need a numeric type");
  if (indices->rank < 1 || data->rank < 1) return ofx_op_error(op, OFX_BAD_INPUT, "data and indices must have rank >= 1");
  int64_t k = indices->dims[indices->rank - 1];
  if (k < 1 || k > data->rank) return ofx_op_error(op, OFX_BAD_INPUT, "index tuples have %lld elements, data has rank %d", (long long)k, data->rank);
  /* updates' shape must be indices.shape[:-1] + data.shape[k:] */
  int expected_rank = indices->rank - 1 + data->rank - (int)k;
  bool ok = updates->rank == expected_rank;
  for (int d = 0; ok && d < indices->rank - 1; d++) ok = updates->dims[d] == indices->dims[d];
  for (int d = (int)k; ok && d < data->rank; d++) ok = updates->dims[indices->rank - 1 + d - (int)k] == data->dims[d];
  if (!ok) return ofx_op_error(op, OFX_BAD_INPUT, "updates' shape does not match indices.shape[:-1] + data.shape[k:]");
  s->k = (size_t)k;
  s->n_updates = ofx_tensor_numel(indices) / (size_t)k;
  s->slice = 1;
  for (int d = (int)k; d < data->rank; d++) s->slice *= (size_t)data->dims[d];
  int64_t stride = 1;
  for (int d = data->rank - 1; d >= 0; d--) {
    s->strides[d] = stride;
    s->dims[d] = data->dims[d];
    stride *= data->dims[d];
  }
  /* indices known at plan time are checked now; unknown ones are clamped at run (run cannot fail) */
  if (indices->data) {
    const int64_t *idx = indices->data;
    for (size_t i = 0; i < s->n_updates * s->k; i++) {
      int64_t v = idx[i], dim = s->dims[i % s->k];
      if (v < -dim || v >= dim) return ofx_op_error(op, OFX_BAD_INPUT, "index %lld is out of range for a dim of %lld", (long long)v, (long long)dim);
    }
  }
  out[0] = *data;
  out[0].data = NULL;
  return OFX_OK;
}

static void scatter_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const scatter_state *s = op->state;
  const size_t es = ofx_dtype_size(in[0].dtype);
  if (out[0].data != in[0].data) memcpy(out[0].data, in[0].data, ofx_tensor_numel(&in[0]) * es);
  const int64_t *idx = in[1].data;
  for (size_t u = 0; u < s->n_updates; u++) {
    int64_t offset = 0;
    for (size_t j = 0; j < s->k; j++) {
      int64_t v = idx[u * s->k + j], dim = s->dims[j];
      if (v < 0) v += dim;
      v = v < 0 ? 0 : v >= dim ? dim - 1 : v;
      offset += v * s->strides[j];
    }
    if (s->reduction == R_NONE) {
      memcpy((char *)out[0].data + (size_t)offset * es, (const char *)in[2].data + u * s->slice * es, s->slice * es);
      continue;
    }
    for (size_t e = 0; e < s->slice; e++) {
      size_t o = (size_t)offset + e;
      double a = ofx_load_f64(out[0].data, out[0].dtype, o), b = ofx_load_f64(in[2].data, in[2].dtype, u * s->slice + e);
      double r = s->reduction == R_ADD ? a + b : s->reduction == R_MUL ? a * b : s->reduction == R_MAX ? (a > b ? a : b) : (a < b ? a : b);
      ofx_store_f64(out[0].data, out[0].dtype, o, r);
    }
  }
}

const ofx_op_def ofx_op_scatter_nd = {.op_type = "ScatterND", .kind = OFX_OP_ScatterND, .init = scatter_init,
                                      .reshape = scatter_reshape, .run = scatter_run};
