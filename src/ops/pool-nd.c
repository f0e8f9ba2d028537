/* MaxPool and AveragePool over 1, 2 or 3 spatial dims (NCHW-style layout, plain loops), and
 * MaxPool's Indices output. pool.c keeps the fast 2-D path; its init hands a node here when
 * ofx_pool_nd_wanted() says so (kernel_shape with 1 or 3 values, or Indices requested) by
 * switching op->def to one of these definitions, so reshape and run, layout planning included,
 * use this file for that node.
 *
 *
 * 1-D and 3-D are the 2-D loops with the spatial shape padded to three dims by ones (kernel 1,
 * stride 1, no pads on the added dims). Indices are flat indices into the whole input tensor
 * (batch and channel included), the spatial part row-major (storage_order 0) or with the first
 * spatial axis fastest (storage_order 1). MaxPool takes int8/uint8 too, widened to float32
 * (ofx_pool_x8_run, shared with pool.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/status.h"
#include "ops/op.h"
#include "ops/pool-nd.h"
#include "ops/spatial.h"

typedef struct pool_nd_state {
  ofx_spatial_attrs spatial;
  bool count_include_pad, is_max, want_indices, column_major;
  /* shape of the last reshape, padded to 3 spatial dims */
  size_t planes, in[3], out[3], kernel[3], stride[3], dilation[3], pad_begin[3], pad_end[3];
} pool_nd_state;

bool ofx_pool_nd_wanted(const ofx_op *op) {
  size_t dims; /* a kernel_shape of the wrong type goes to the N-D init too, which reports it */
  if (ofx_node_has_attr(op->node, "kernel_shape") &&
      (ofx_node_attr_ints(op->node, "kernel_shape", NULL, 0, &dims) != OFX_OK || dims != 2))
    return true;
  return op->node->n_outputs > 1 && op->node->outputs[1] >= 0;
}

static ofx_status pool_nd_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(pool_nd_state)));
  pool_nd_state *s = op->state;
  s->is_max = op->def == &ofx_op_max_pool_nd;
  s->want_indices = op->node->n_outputs > 1 && op->node->outputs[1] >= 0;
  if (s->want_indices && !s->is_max) return ofx_op_error(op, OFX_BAD_MODEL, "AveragePool has one output");
  if (!ofx_node_has_attr(op->node, "kernel_shape"))
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'kernel_shape' is required");
  size_t dims;
  OFX_TRY(ofx_node_attr_ints(op->node, "kernel_shape", NULL, 0, &dims));
  if (dims < 1 || dims > 3)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "pooling over %zu spatial dims is not supported (1 to 3)", dims);
  OFX_TRY(ofx_spatial_attrs_read(op, (int)dims, NULL, false, &s->spatial));
  int64_t v;
  OFX_TRY(ofx_node_attr_int(op->node, "count_include_pad", 0, &v));
  s->count_include_pad = v != 0;
  OFX_TRY(ofx_node_attr_int(op->node, "storage_order", 0, &v));
  if (v != 0 && v != 1)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'storage_order' must be 0 or 1, got %lld", (long long)v);
  s->column_major = v == 1;
  return OFX_OK;
}

static ofx_status pool_nd_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  pool_nd_state *s = op->state;
  const int dims = s->spatial.dims;
  const bool x8 = s->is_max && ofx_pool_is_x8(in[0].dtype);
  OFX_TRY(ofx_op_check_input(op, in, 0, x8 ? in[0].dtype : OFX_DTYPE_FLOAT32, dims + 2));
  int64_t out_spatial[OFX_MAX_SPATIAL];
  size_t begin[OFX_MAX_SPATIAL], end[OFX_MAX_SPATIAL];
  OFX_TRY(ofx_spatial_output_shape(op, &s->spatial, in[0].dims + 2, out_spatial, begin, end));
  out[0] = in[0];
  out[0].data = NULL;
  out[0].layout = OFX_LAYOUT_NCHW;
  for (int i = 0; i < dims; i++) out[0].dims[2 + i] = out_spatial[i];
  if (s->want_indices) {
    out[1] = out[0];
    out[1].dtype = OFX_DTYPE_INT64;
  }
  s->planes = (size_t)(in[0].dims[0] * in[0].dims[1]);
  for (int i = 0; i < 3; i++) {
    bool real = i < dims;
    s->in[i] = real ? (size_t)in[0].dims[2 + i] : 1;
    s->out[i] = real ? (size_t)out_spatial[i] : 1;
    s->kernel[i] = real ? (size_t)s->spatial.kernel[i] : 1;
    s->stride[i] = real ? (size_t)s->spatial.strides[i] : 1;
    s->dilation[i] = real ? (size_t)s->spatial.dilations[i] : 1;
    s->pad_begin[i] = real ? begin[i] : 0;
    s->pad_end[i] = real ? end[i] : 0;
  }
  if (x8) op->scratch_bytes = ofx_pool_x8_scratch(in, out);
  return OFX_OK;
}

static void pool_nd_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  (void)ctx;
  const pool_nd_state *s = op->state;
  const size_t in_plane = s->in[0] * s->in[1] * s->in[2], out_plane = s->out[0] * s->out[1] * s->out[2];
  const float *x = in[0].data;
  float *y = out[0].data;
  int64_t *indices = s->want_indices ? out[1].data : NULL;
  for (size_t p = 0; p < s->planes; p++) {
    const float *xp = x + p * in_plane;
    for (size_t o0 = 0; o0 < s->out[0]; o0++)
      for (size_t o1 = 0; o1 < s->out[1]; o1++)
        for (size_t o2 = 0; o2 < s->out[2]; o2++) {
          const size_t o[3] = {o0, o1, o2};
          float sum = 0, best = -INFINITY;
          size_t count = 0, padded_count = 0, best_at = 0;
          bool found = false;
          for (size_t k0 = 0; k0 < s->kernel[0]; k0++)
            for (size_t k1 = 0; k1 < s->kernel[1]; k1++)
              for (size_t k2 = 0; k2 < s->kernel[2]; k2++) {
                const size_t k[3] = {k0, k1, k2};
                long long at[3];
                bool inside = true, in_padded = true;
                for (int d = 0; d < 3; d++) {
                  at[d] = (long long)(o[d] * s->stride[d] + k[d] * s->dilation[d]) - (long long)s->pad_begin[d];
                  inside &= at[d] >= 0 && at[d] < (long long)s->in[d];
                  in_padded &= at[d] < (long long)(s->in[d] + s->pad_end[d]);
                }
                if (in_padded) padded_count++;
                if (!inside) continue;
                size_t i = ((size_t)at[0] * s->in[1] + (size_t)at[1]) * s->in[2] + (size_t)at[2];
                float v = xp[i];
                sum += v;
                count++;
                if (!found || v > best) best = v, best_at = i, found = true;
              }
          size_t oi = p * out_plane + (o0 * s->out[1] + o1) * s->out[2] + o2;
          if (s->is_max) {
            y[oi] = best;
            if (indices) {
              size_t at = best_at;
              if (s->column_major) { /* the spatial index with the first axis fastest */
                size_t a2 = best_at % s->in[2], a1 = best_at / s->in[2] % s->in[1], a0 = best_at / s->in[2] / s->in[1];
                at = a0 + s->in[0] * (a1 + s->in[1] * a2);
              }
              indices[oi] = (int64_t)(p * in_plane + at);
            }
          } else {
            size_t divisor = s->count_include_pad ? padded_count : count;
            y[oi] = divisor ? sum / (float)divisor : 0.0f;
          }
        }
  }
}

bool ofx_pool_is_x8(ofx_dtype t) { return t == OFX_DTYPE_INT8 || t == OFX_DTYPE_UINT8; }

static size_t aligned_floats(size_t n) { return (n + 3) & ~(size_t)3; }

size_t ofx_pool_x8_scratch(const ofx_tensor *in, const ofx_tensor *out) {
  return (aligned_floats(ofx_tensor_numel(in)) + ofx_tensor_numel(out)) * sizeof(float);
}

void ofx_pool_x8_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx,
                     void (*run)(ofx_op *, const ofx_tensor *, ofx_tensor *, const ofx_run_context *)) {
  const bool is_signed = in[0].dtype == OFX_DTYPE_INT8;
  const size_t n_in = ofx_tensor_numel(&in[0]), n_out = ofx_tensor_numel(&out[0]);
  if (n_out == 0) return; /* nothing to write, and no scratch to offset (NULL when both are empty) */
  float *wide_in = ctx->scratch, *wide_out = wide_in + aligned_floats(n_in);
  for (size_t i = 0; i < n_in; i++) wide_in[i] = is_signed ? ((const int8_t *)in[0].data)[i] : ((const uint8_t *)in[0].data)[i];
  ofx_tensor wide[2] = {in[0], out[0]};
  wide[0].dtype = wide[1].dtype = OFX_DTYPE_FLOAT32;
  wide[0].data = wide_in;
  wide[1].data = wide_out;
  ofx_tensor outs[2] = {wide[1], op->node->n_outputs > 1 ? out[1] : wide[1]}; /* Indices are written as they are */
  run(op, wide, outs, ctx);
  const float lo = is_signed ? -128.0f : 0.0f, hi = is_signed ? 127.0f : 255.0f; /* an all-padding window: -FLT_MAX */
  for (size_t i = 0; i < n_out; i++) {
    const float v = wide_out[i] < lo ? lo : wide_out[i] > hi ? hi : wide_out[i];
    if (is_signed) ((int8_t *)out[0].data)[i] = (int8_t)v;
    else ((uint8_t *)out[0].data)[i] = (uint8_t)v;
  }
}

static void max_pool_nd_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  if (ofx_pool_is_x8(in[0].dtype)) ofx_pool_x8_run(op, in, out, ctx, pool_nd_run);
  else pool_nd_run(op, in, out, ctx);
}

const ofx_op_def ofx_op_max_pool_nd = {.op_type = "MaxPool", .kind = OFX_OP_MaxPool, .init = pool_nd_init,
                                       .reshape = pool_nd_reshape, .run = max_pool_nd_run};
const ofx_op_def ofx_op_average_pool_nd = {.op_type = "AveragePool", .kind = OFX_OP_AveragePool, .init = pool_nd_init,
                                           .reshape = pool_nd_reshape, .run = pool_nd_run};
