/* ONNX's 8-bit quantization ops, the three forms models ship in:
 *   dynamic (onnxruntime's quantize_dynamic, transformers.js "q8"): DynamicQuantizeLinear on
 *     activations, ConvInteger / MatMulInteger with 8-bit weights, int32 out, then Cast, scale Mul
 *     and bias Add in float;
 *   QDQ: QuantizeLinear / DequantizeLinear pairs around float ops, per-tensor or per-axis;
 *   QOperator: QLinearConv, QLinearMatMul (8-bit in and out).
 * These are the exact reference forms: integer sums in int32 as ONNX defines them, rounding half
 * to even, saturation. Fast float-output chains run on the 8-bit GEMM (kernels/q8-gemm) once the
 * planner fuses them. Scales must be positive and finite, zero points in their type's range,
 * per-axis parameters as long as the axis: each checked where it is known (init for constants,
 * reshape for data known at plan time) with an error naming the node and input. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/kernel-config.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "ops/op.h"
#include "ops/spatial.h"
#include "ops/typed.h"

static bool is_8bit(ofx_dtype t) { return t == OFX_DTYPE_UINT8 || t == OFX_DTYPE_INT8; }

static int32_t saturate(double v, ofx_dtype t) {
  const double lo = t == OFX_DTYPE_UINT8 ? 0 : t == OFX_DTYPE_INT8 ? -128 : -2147483648.0;
  const double hi = t == OFX_DTYPE_UINT8 ? 255 : t == OFX_DTYPE_INT8 ? 127 : 2147483647.0;
  return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Element i of a per-tensor (one element) or per-axis parameter; 0 for an absent zero point. */
static float param_f32(const ofx_tensor *t, size_t i) { return ((const float *)t->data)[ofx_tensor_numel(t) == 1 ? 0 : i]; }
static int32_t param_i32(const ofx_tensor *t, size_t i) {
  if (t->rank < 0) return 0;
  return (int32_t)ofx_load_i64(t->data, t->dtype, ofx_tensor_numel(t) == 1 ? 0 : i);
}

/* Input k, or an absent tensor (rank -1: a zero point of 0) when the node has no input k. */
static const ofx_tensor *optional_input(const ofx_op *op, const ofx_tensor *in, size_t k) {
  static const ofx_tensor none = {.rank = -1};
  return k < op->node->n_inputs && op->node->inputs[k] >= 0 ? &in[k] : &none;
}

/* Checks a scale (input k) and its zero point (input z, may be absent): per tensor, or 1-D with
 * `channels` elements (channels 0: per tensor only); scales positive and finite when known. */
static ofx_status check_params(const ofx_op *op, const ofx_tensor *in, size_t k, size_t z, size_t channels, bool zp_8bit) {
  const char *scale_name = op->graph->values[op->node->inputs[k]].name;
  if (in[k].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (scale) is missing", k);
  if (in[k].dtype != OFX_DTYPE_FLOAT32)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "scale '%s' (input %zu) has type %s, only float32 is supported", scale_name, k,
                        onnx_dtype_name((int32_t)in[k].dtype));
  const size_t n = ofx_tensor_numel(&in[k]);
  const bool per_tensor = n == 1 && in[k].rank <= 1;
  if (!per_tensor && !(channels && in[k].rank == 1 && n == channels))
    return ofx_op_error(op, OFX_BAD_MODEL, "scale '%s' (input %zu) has %zu elements: it must be a scalar%s", scale_name, k, n,
                        channels ? " or have one per channel of the quantized axis" : "");
  for (size_t i = 0; in[k].data && i < n; i++) {
    const float s = ((const float *)in[k].data)[i];
    if (!(s > 0) || !isfinite(s))
      return ofx_op_error(op, OFX_BAD_MODEL, "scale '%s' (input %zu) element %zu is %g: scales must be positive and finite",
                          scale_name, k, i, (double)s);
  }
  if (z >= op->node->n_inputs || op->node->inputs[z] < 0 || in[z].rank < 0) return OFX_OK;
  const char *zp_name = op->graph->values[op->node->inputs[z]].name;
  if (zp_8bit ? !is_8bit(in[z].dtype) : !(is_8bit(in[z].dtype) || in[z].dtype == OFX_DTYPE_INT32))
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "zero point '%s' (input %zu) has type %s: uint8 and int8 are supported", zp_name, z,
                        onnx_dtype_name((int32_t)in[z].dtype));
  if (ofx_tensor_numel(&in[z]) != n || in[z].rank != in[k].rank)
    return ofx_op_error(op, OFX_BAD_MODEL, "zero point '%s' (input %zu) has %zu elements, its scale %zu", zp_name, z,
                        ofx_tensor_numel(&in[z]), n);
  return OFX_OK;
}

/* The quantized axis and the element layout around it: element e is in channel (e / inner) % dim. */
typedef struct axis_state {
  int axis;
  size_t dim, inner;
} axis_state;

/* A one-element scale quantizes per tensor, whatever `axis` says (ONNX ignores it then). */
static ofx_status read_axis(ofx_op *op, const ofx_tensor *x, const ofx_tensor *scale, axis_state *s) {
  int64_t axis;
  OFX_TRY(ofx_node_attr_int(op->node, "axis", 1, &axis));
  s->axis = 0, s->dim = 1, s->inner = 1;
  if (x->rank == 0 || (scale->rank >= 0 && ofx_tensor_numel(scale) == 1)) return OFX_OK;
  OFX_TRY(ofx_op_axis_strict(op, "attribute 'axis'", axis, x->rank, &s->axis));
  s->dim = (size_t)x->dims[s->axis];
  for (int d = s->axis + 1; d < x->rank; d++) s->inner *= (size_t)x->dims[d];
  return OFX_OK;
}

static ofx_status axis_init(ofx_op *op) { return ofx_op_state_new(op, sizeof(axis_state)); }

/* QuantizeLinear: y = saturate(round(x / scale) + zero_point); y has the zero point's type
 * (uint8 without one). */
static ofx_status quantize_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  axis_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  OFX_TRY(read_axis(op, &in[0], &in[1], s));
  OFX_TRY(check_params(op, in, 1, 2, s->dim, true));
  out[0] = in[0];
  out[0].dtype = op->node->n_inputs > 2 && in[2].rank >= 0 ? in[2].dtype : OFX_DTYPE_UINT8;
  return OFX_OK;
}

static void quantize_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const axis_state *s = op->state;
  const float *x = in[0].data;
  const ofx_tensor *zp = optional_input(op, in, 2);
  for (size_t e = 0, n = ofx_tensor_numel(&out[0]); e < n; e++) {
    const size_t c = e / s->inner % s->dim;
    const double q = (double)nearbyintf(x[e] / param_f32(&in[1], c)) + param_i32(zp, c);
    ofx_store_i64(out[0].data, out[0].dtype, e, saturate(q, out[0].dtype));
  }
}

/* DequantizeLinear: y = (x - zero_point) * scale, x uint8, int8 or int32. */
static ofx_status dequantize_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  axis_state *s = op->state;
  if (in[0].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input 0 is missing");
  if (!is_8bit(in[0].dtype) && in[0].dtype != OFX_DTYPE_INT32)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input 0 has type %s: uint8, int8 and int32 are supported",
                        onnx_dtype_name((int32_t)in[0].dtype));
  OFX_TRY(read_axis(op, &in[0], &in[1], s));
  OFX_TRY(check_params(op, in, 1, 2, s->dim, false));
  if (op->node->n_inputs > 2 && in[2].rank >= 0 && in[2].dtype != in[0].dtype)
    return ofx_op_error(op, OFX_BAD_MODEL, "zero point has type %s, input 0 %s", onnx_dtype_name((int32_t)in[2].dtype),
                        onnx_dtype_name((int32_t)in[0].dtype));
  out[0] = in[0];
  out[0].dtype = OFX_DTYPE_FLOAT32;
  return OFX_OK;
}

static void dequantize_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const axis_state *s = op->state;
  const ofx_tensor *zp = optional_input(op, in, 2);
  float *y = out[0].data;
  for (size_t e = 0, n = ofx_tensor_numel(&out[0]); e < n; e++) {
    const size_t c = e / s->inner % s->dim;
    y[e] = (float)(ofx_load_i64(in[0].data, in[0].dtype, e) - param_i32(zp, c)) * param_f32(&in[1], c);
  }
}

/* DynamicQuantizeLinear: uint8 with the scale and zero point that map [min(x, 0), max(x, 0)]
 * onto [0, 255], in float32 as ONNX specifies it. */
static ofx_status dynamic_quantize_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  out[0] = in[0];
  out[0].dtype = OFX_DTYPE_UINT8;
  out[1] = (ofx_tensor){.dtype = OFX_DTYPE_FLOAT32, .rank = 0};
  out[2] = (ofx_tensor){.dtype = OFX_DTYPE_UINT8, .rank = 0};
  return OFX_OK;
}

static void dynamic_quantize_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const float *x = in[0].data;
  const size_t n = ofx_tensor_numel(&in[0]);
  float lo = 0, hi = 0;
  if (n) ofx_kernels()->f32_rminmax(n, x, &lo, &hi);
  lo = fminf(lo, 0.0f), hi = fmaxf(hi, 0.0f);
  const float scale = (hi - lo) / 255.0f;
  const int32_t zp = scale > 0 ? saturate(nearbyintf(0.0f - lo / scale), OFX_DTYPE_UINT8) : 0;
  if (scale > 0) ofx_kernels()->f32_qu8_vcvt(n, x, scale, zp, out[0].data);
  else memset(out[0].data, 0, n);
  if (out[1].data) *(float *)out[1].data = scale;
  if (out[2].data) *(uint8_t *)out[2].data = (uint8_t)zp;
}

/* ---- integer convolution and matrix product: exact int32 sums of (x - x_zp)(w - w_zp) ---- */

/* ConvInteger / MatMulInteger fused with their dequantizing chain (fuse_dequantize): float32
 * out, y = float(acc) * (x_scale * w_scale[j]) + bias[j], clamped by a fused activation. The
 * weights are packed for the 8-bit GEMM per group; the per-column scales in the packed blocks
 * are rewritten each run, as x_scale comes from the run's DynamicQuantizeLinear. */
typedef struct dequant_state {
  bool on;
  float *w_scale; /* per output column */
  size_t groups, group_n, k, k_stride; /* GEMM per group: N columns, K steps; rows k_stride int16 apart */
  char *packed;   /* groups x ofx_q8_packw_gemm_size(group_n, k, nr) bytes */
  size_t group_bytes, block_bytes, nr;
  float min, max;
} dequant_state;

typedef struct integer_state {
  bool qlinear; /* QLinearConv / QLinearMatMul: inputs (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp[, B]) */
  size_t x, x_zp, w, w_zp; /* input indices */
  ofx_spatial_attrs spatial;
  size_t groups, pads_begin[2];
  ofx_bcast bcast; /* MatMul batch dims: a, b -> y */
  size_t m, k, n;
  dequant_state dq;
} integer_state;

static void integer_destroy(ofx_op *op) {
  integer_state *s = op->state;
  if (s) free(s->dq.w_scale), free(s->dq.packed);
  free(s);
}

static ofx_status integer_init(ofx_op *op, bool qlinear) {
  OFX_TRY(ofx_op_state_new(op, sizeof(integer_state)));
  integer_state *s = op->state;
  s->qlinear = qlinear;
  s->x = 0;
  s->x_zp = 2;
  s->w = qlinear ? 3 : 1;
  s->w_zp = qlinear ? 5 : 3;
  return OFX_OK;
}

static ofx_status conv_integer_init(ofx_op *op) { return integer_init(op, false); }
static ofx_status qlinear_init(ofx_op *op) { return integer_init(op, true); }

/* The 8-bit operands and their zero points (and for QLinear ops the scales) of either form. */
static ofx_status check_integer_inputs(ofx_op *op, const ofx_tensor *in, size_t w_channels) {
  const integer_state *s = op->state;
  for (size_t k = 0; k < 2; k++) {
    const size_t i = k ? s->w : s->x;
    if (i >= op->node->n_inputs || in[i].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu is missing", i);
    if (!is_8bit(in[i].dtype))
      return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input %zu has type %s: uint8 and int8 are supported", i,
                          onnx_dtype_name((int32_t)in[i].dtype));
  }
  if (s->qlinear) {
    OFX_TRY(check_params(op, in, 1, 2, 0, true));
    OFX_TRY(check_params(op, in, 4, 5, w_channels, true));
    OFX_TRY(check_params(op, in, 6, 7, 0, true));
    return OFX_OK;
  }
  const size_t zps[2] = {s->x_zp, s->w_zp};
  for (size_t k = 0; k < 2; k++) {
    const size_t z = zps[k];
    if (z >= op->node->n_inputs || op->node->inputs[z] < 0) continue;
    const size_t n = ofx_tensor_numel(&in[z]);
    if (!is_8bit(in[z].dtype) || in[z].dtype != in[k ? s->w : s->x].dtype)
      return ofx_op_error(op, OFX_BAD_MODEL, "zero point (input %zu) has type %s, its operand %s", z,
                          onnx_dtype_name((int32_t)in[z].dtype), onnx_dtype_name((int32_t)in[k ? s->w : s->x].dtype));
    if (n != 1 && !(k == 1 && w_channels && n == w_channels))
      return ofx_op_error(op, OFX_BAD_MODEL, "zero point (input %zu) has %zu elements: a scalar%s is supported", z, n,
                          k == 1 && w_channels ? " or one per output channel" : "");
  }
  return OFX_OK;
}

/* The output type and the requantization of QLinear ops: y = saturate(round(acc * x_scale *
 * w_scale[c] / y_scale) + y_zp); ConvInteger / MatMulInteger store acc as int32. */
static void store_acc(const ofx_op *op, const ofx_tensor *in, ofx_tensor *out, size_t e, size_t c, int64_t acc) {
  const integer_state *s = op->state;
  if (!s->qlinear) {
    ((int32_t *)out[0].data)[e] = (int32_t)acc;
    return;
  }
  const float scale = param_f32(&in[1], 0) * param_f32(&in[4], c) / param_f32(&in[6], 0);
  const double q = (double)nearbyintf((float)acc * scale) + param_i32(&in[7], 0);
  ofx_store_i64(out[0].data, out[0].dtype, e, saturate(q, out[0].dtype));
}

static ofx_dtype integer_out_type(const ofx_op *op, const ofx_tensor *in) {
  const integer_state *s = op->state;
  return s->qlinear ? in[7].dtype : OFX_DTYPE_INT32;
}

/* ConvInteger / QLinearConv, 2-D, any groups. */
static ofx_status integer_conv_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  integer_state *s = op->state;
  const ofx_tensor *x = &in[s->x], *w = &in[s->w];
  OFX_TRY(check_integer_inputs(op, in, w->rank == 4 ? (size_t)w->dims[0] : 0));
  if (x->rank != 4 || w->rank != 4)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "only 2-D convolutions are supported (input rank %d, weights rank %d)", x->rank,
                        w->rank);
  int64_t group;
  OFX_TRY(ofx_node_attr_int(op->node, "group", 1, &group));
  if (group <= 0 || w->dims[0] % group != 0 || x->dims[1] != w->dims[1] * group)
    return ofx_op_error(op, OFX_BAD_MODEL, "group %lld does not fit %lld input and %lld output channels (weights per group %lld)",
                        (long long)group, (long long)x->dims[1], (long long)w->dims[0], (long long)w->dims[1]);
  if (s->qlinear && op->node->n_inputs > 8 && in[8].rank >= 0 &&
      (in[8].dtype != OFX_DTYPE_INT32 || ofx_tensor_numel(&in[8]) != (size_t)w->dims[0]))
    return ofx_op_error(op, OFX_BAD_MODEL, "bias (input 8) must be int32 with one value per output channel");
  s->groups = (size_t)group;
  OFX_TRY(ofx_spatial_attrs_read(op, 2, w->dims + 2, true, &s->spatial));
  int64_t spatial[2];
  OFX_TRY(ofx_spatial_output_shape(op, &s->spatial, x->dims + 2, spatial, s->pads_begin, NULL));
  out[0] = (ofx_tensor){.dtype = integer_out_type(op, in), .rank = 4, .dims = {x->dims[0], w->dims[0], spatial[0], spatial[1]}};
  return OFX_OK;
}

static void integer_conv_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const integer_state *s = op->state;
  const ofx_tensor *x = &in[s->x], *w = &in[s->w];
  const ofx_tensor *xz = optional_input(op, in, s->x_zp), *wz = optional_input(op, in, s->w_zp);
  const size_t batch = (size_t)x->dims[0], cin = (size_t)x->dims[1], ih = (size_t)x->dims[2], iw = (size_t)x->dims[3];
  const size_t cout = (size_t)w->dims[0], cg = (size_t)w->dims[1], kh = (size_t)w->dims[2], kw = (size_t)w->dims[3];
  const size_t oh = (size_t)out[0].dims[2], ow = (size_t)out[0].dims[3], og = cout / s->groups;
  const int32_t x_zp = param_i32(xz, 0);
  const bool has_bias = s->qlinear && op->node->n_inputs > 8 && in[8].rank >= 0;
  for (size_t b = 0; b < batch; b++)
    for (size_t oc = 0; oc < cout; oc++) {
      const size_t g = oc / og;
      const int32_t w_zp = param_i32(wz, oc);
      for (size_t y = 0; y < oh; y++)
        for (size_t xo = 0; xo < ow; xo++) {
          int64_t acc = has_bias ? ((const int32_t *)in[8].data)[oc] : 0;
          for (size_t c = 0; c < cg; c++)
            for (size_t i = 0; i < kh; i++) {
              const int64_t yy = (int64_t)(y * (size_t)s->spatial.strides[0] + i * (size_t)s->spatial.dilations[0]) - (int64_t)s->pads_begin[0];
              if (yy < 0 || yy >= (int64_t)ih) continue;
              for (size_t j = 0; j < kw; j++) {
                const int64_t xx = (int64_t)(xo * (size_t)s->spatial.strides[1] + j * (size_t)s->spatial.dilations[1]) - (int64_t)s->pads_begin[1];
                if (xx < 0 || xx >= (int64_t)iw) continue; /* padding is the zero point: contributes 0 */
                const size_t xi = ((b * cin + g * cg + c) * ih + (size_t)yy) * iw + (size_t)xx;
                const size_t wi = ((oc * cg + c) * kh + i) * kw + j;
                acc += (int64_t)(ofx_load_i64(x->data, x->dtype, xi) - x_zp) * (ofx_load_i64(w->data, w->dtype, wi) - w_zp);
              }
            }
          store_acc(op, in, out, ((b * cout + oc) * oh + y) * ow + xo, oc, acc);
        }
    }
}

/* MatMulInteger / QLinearMatMul: numpy matmul with batch broadcasting; a rank-1 operand is a
 * row (a) or a column (b). */
static ofx_status integer_matmul_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  integer_state *s = op->state;
  const ofx_tensor *a = &in[s->x], *b = &in[s->w];
  OFX_TRY(check_integer_inputs(op, in, b->rank >= 1 ? (size_t)b->dims[b->rank - 1] : 0));
  if (a->rank < 1 || b->rank < 1) return ofx_op_error(op, OFX_BAD_MODEL, "inputs must have rank 1 or more");
  ofx_tensor a2 = *a, b2 = *b;
  if (a2.rank == 1) a2.rank = 2, a2.dims[1] = a2.dims[0], a2.dims[0] = 1;
  if (b2.rank == 1) b2.rank = 2, b2.dims[1] = 1;
  s->m = (size_t)a2.dims[a2.rank - 2], s->k = (size_t)a2.dims[a2.rank - 1], s->n = (size_t)b2.dims[b2.rank - 1];
  if ((size_t)b2.dims[b2.rank - 2] != s->k) {
    char sa[96], sb[96];
    return ofx_op_error(op, OFX_BAD_INPUT, "shapes %s and %s do not multiply", ofx_shape_str(a->dims, a->rank, sa, sizeof sa),
                        ofx_shape_str(b->dims, b->rank, sb, sizeof sb));
  }
  /* per-row a zero points and per-column b zero points (MatMulInteger) */
  if (!s->qlinear && s->x_zp < op->node->n_inputs && op->node->inputs[s->x_zp] >= 0 && ofx_tensor_numel(&in[s->x_zp]) != 1)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "a_zero_point (input 2) with %zu elements: only a scalar is supported",
                        ofx_tensor_numel(&in[s->x_zp]));
  ofx_tensor ba = a2, bb = b2, shape;
  ba.rank -= 2, bb.rank -= 2;
  const ofx_tensor *operands[2] = {&ba, &bb};
  OFX_TRY(ofx_bcast_init(op, operands, 2, &s->bcast, &shape));
  out[0] = shape;
  out[0].dtype = integer_out_type(op, in);
  out[0].layout = OFX_LAYOUT_NCHW;
  out[0].dims[out[0].rank++] = (int64_t)s->m;
  out[0].dims[out[0].rank++] = (int64_t)s->n;
  if (a->rank == 1) out[0].dims[out[0].rank - 2] = out[0].dims[out[0].rank - 1], out[0].rank--;
  if (b->rank == 1) out[0].rank--;
  return OFX_OK;
}

static void integer_matmul_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const integer_state *s = op->state;
  const ofx_tensor *a = &in[s->x], *b = &in[s->w];
  const ofx_tensor *az = optional_input(op, in, s->x_zp), *bz = optional_input(op, in, s->w_zp);
  const int32_t a_zp = param_i32(az, 0);
  const size_t m = s->m, k = s->k, n = s->n;
  const ofx_bcast *bc = &s->bcast;
  OFX_BCAST_FOR(bc, {
    const size_t ao = off[0] * m * k, bo = off[1] * k * n, yo = e * m * n;
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        int64_t acc = 0;
        const int32_t b_zp = param_i32(bz, j);
        for (size_t kk = 0; kk < k; kk++)
          acc += (int64_t)(ofx_load_i64(a->data, a->dtype, ao + i * k + kk) - a_zp) *
                 (ofx_load_i64(b->data, b->dtype, bo + kk * n + j) - b_zp);
        store_acc(op, in, out, yo + i * n + j, j, acc);
      }
  });
}

const ofx_op_def ofx_op_quantize_linear = {.op_type = "QuantizeLinear", .kind = OFX_OP_QuantizeLinear, .init = axis_init,
                                           .reshape = quantize_reshape, .run = quantize_run, .trait_flags = OFX_TRAIT_QUANT_HELPER};
const ofx_op_def ofx_op_dequantize_linear = {.op_type = "DequantizeLinear", .kind = OFX_OP_DequantizeLinear, .init = axis_init,
                                             .reshape = dequantize_reshape, .run = dequantize_run,
                                             .trait_flags = OFX_TRAIT_QUANT_HELPER};
const ofx_op_def ofx_op_dynamic_quantize_linear = {.op_type = "DynamicQuantizeLinear", .kind = OFX_OP_DynamicQuantizeLinear,
                                                   .init = ofx_op_no_state, .reshape = dynamic_quantize_reshape,
                                                   .run = dynamic_quantize_run, .trait_flags = OFX_TRAIT_QUANT_HELPER};
/* ---- the fused dequantizing chain on the 8-bit GEMM ---- */

static bool integer_fuse_dequantize(ofx_op *op, int x_scale, const ofx_value *w_scale, const ofx_value *bias) {
  integer_state *s = op->state;
  dequant_state *d = &s->dq;
  const ofx_value *w = ofx_op_const_input(op, s->w), *w_zp = ofx_op_const_input(op, s->w_zp);
  const bool conv = op->def->kind == OFX_OP_ConvInteger;
  if (s->qlinear || d->on || op->shapes_only || w == NULL || !is_8bit(w->dtype) || w_scale->dtype != OFX_DTYPE_FLOAT32) return false;
  if (ofx_op_has_input(op, s->w_zp) && (w_zp == NULL || w_zp->dtype != w->dtype)) return false;
  if (conv ? w->rank != 4 : w->rank != 2) return false;
  const size_t n = (size_t)w->dims[conv ? 0 : 1], k_all = conv ? (size_t)(w->dims[1] * w->dims[2] * w->dims[3]) : (size_t)w->dims[0];
  const size_t n_scale = w_scale->nbytes / sizeof(float), n_zp = w_zp ? w_zp->nbytes / ofx_dtype_size(w_zp->dtype) : 1;
  if (n_scale != 1 && (conv || n_scale != n)) return false; /* per-column scales broadcast only along MatMul's last axis */
  if (n_zp != 1 && n_zp != n) return false;
  if (bias) { /* conv: [1, N, 1, 1] or [N, 1, 1]; MatMul: [N] */
    const size_t nb = bias->nbytes / sizeof(float);
    bool shaped = conv ? (bias->rank == 4 && bias->dims[0] == 1 && bias->dims[2] == 1 && bias->dims[3] == 1) ||
                             (bias->rank == 3 && bias->dims[1] == 1 && bias->dims[2] == 1)
                       : bias->rank == 1;
    if (bias->dtype != OFX_DTYPE_FLOAT32 || nb != n || !shaped) return false;
  }
  int64_t group = 1;
  if (conv && (ofx_node_attr_int(op->node, "group", 1, &group) != OFX_OK || group <= 0 || n % (size_t)group != 0)) return false;
  d->groups = (size_t)group;
  d->group_n = n / d->groups;
  d->k = k_all;
  d->k_stride = ofx_round_up(k_all, OFX_Q8_GEMM_KR);
  d->nr = ofx_kernels()->q8_gemm_nr;
  d->block_bytes = ofx_q8_packw_gemm_size(d->nr, d->k, d->nr);
  d->group_bytes = ofx_q8_packw_gemm_size(d->group_n, d->k, d->nr);
  d->w_scale = malloc(n * sizeof(float));
  float *bias_f = calloc(n, sizeof(float));
  int32_t *zp = calloc(n, sizeof(int32_t));
  d->packed = malloc(d->group_bytes * d->groups);
  if (!d->w_scale || !bias_f || !zp || !d->packed) {
    free(bias_f), free(zp), free(d->w_scale), free(d->packed);
    d->w_scale = NULL, d->packed = NULL;
    return false;
  }
  for (size_t j = 0; j < n; j++) {
    memcpy(&d->w_scale[j], (const char *)w_scale->data + (n_scale == 1 ? 0 : j) * sizeof(float), sizeof(float));
    if (bias) memcpy(&bias_f[j], (const char *)bias->data + j * sizeof(float), sizeof(float));
    if (w_zp) zp[j] = w_zp->dtype == OFX_DTYPE_INT8 ? ((const int8_t *)w_zp->data)[n_zp == 1 ? 0 : j]
                                                    : ((const uint8_t *)w_zp->data)[n_zp == 1 ? 0 : j];
  }
  const bool is_signed = w->dtype == OFX_DTYPE_INT8;
  for (size_t g = 0; g < d->groups; g++) {
    /* conv OIHW: column j at j * K; MatMul [K, N]: column j at j, step at N */
    const size_t first = g * d->group_n;
    const void *wg = (const char *)w->data + (conv ? first * d->k : 0);
    ofx_q8_packw_gemm(d->group_n, d->k, d->nr, wg, conv ? d->k : 1, conv ? 1 : n, is_signed, zp + first, true, d->w_scale + first,
                      bias_f + first, d->packed + g * d->group_bytes);
  }
  free(bias_f), free(zp);
  d->on = true;
  d->min = -INFINITY, d->max = INFINITY;
  op->packed_bytes = d->group_bytes * d->groups;
  ofx_op_mark_input(op, s->w, OFX_INPUT_PACKED);
  return true;
}

static bool integer_fuse_activation(ofx_op *op, const ofx_activation *act) {
  dequant_state *d = &((integer_state *)op->state)->dq;
  if (!d->on || act->kind != OFX_ACTIVATION_CLAMP) return false;
  d->min = fmaxf(d->min, act->min), d->max = fminf(d->max, act->max);
  return true;
}

/* This run's per-column scales, x_scale * w_scale[j] (as the model's scales Mul computes them),
 * into the packed blocks' headers. */
static void set_scales(dequant_state *d, float x_scale) {
  for (size_t g = 0; g < d->groups; g++)
    for (size_t j0 = 0; j0 < d->group_n; j0 += d->nr) {
      float *head = (float *)(d->packed + g * d->group_bytes + j0 / d->nr * d->block_bytes);
      for (size_t jj = 0; jj < d->nr && j0 + jj < d->group_n; jj++) head[jj] = x_scale * d->w_scale[g * d->group_n + j0 + jj];
    }
}

/* The 8-bit operand's zero point for this run (input z, absent: 0). */
static int32_t run_zero_point(const ofx_op *op, const ofx_tensor *in, size_t z) { return param_i32(optional_input(op, in, z), 0); }

/* Fused ConvInteger: per image and group, im2col rows of int16 (x - x_zp; padding 0) in scratch,
 * then the 8-bit GEMM writing NHWC float32. */
static void dequant_conv_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  integer_state *s = op->state;
  dequant_state *d = &s->dq;
  const ofx_tensor *x = &in[s->x];
  set_scales(d, *(const float *)in[op->node->n_inputs].data);
  const int32_t x_zp = run_zero_point(op, in, s->x_zp);
  const bool is_signed = x->dtype == OFX_DTYPE_INT8, nhwc = x->layout == OFX_LAYOUT_NHWC;
  const size_t batch = (size_t)x->dims[0], cin = (size_t)x->dims[1], ih = (size_t)x->dims[2], iw = (size_t)x->dims[3];
  const size_t oh = (size_t)out[0].dims[2], ow = (size_t)out[0].dims[3], m = oh * ow, cg = cin / d->groups;
  const size_t kh = (size_t)s->spatial.kernel[0], kw = (size_t)s->spatial.kernel[1], n = d->group_n * d->groups;
  int16_t *rows = ctx->scratch;
  for (size_t b = 0; b < batch; b++)
    for (size_t g = 0; g < d->groups; g++) {
      for (size_t p = 0; p < m; p++) {
        int16_t *row = rows + p * d->k_stride;
        const size_t y = p / ow, xo = p % ow;
        size_t kk = 0;
        for (size_t c = 0; c < cg; c++)
          for (size_t i = 0; i < kh; i++) {
            const int64_t yy = (int64_t)(y * (size_t)s->spatial.strides[0] + i * (size_t)s->spatial.dilations[0]) - (int64_t)s->pads_begin[0];
            for (size_t j = 0; j < kw; j++, kk++) {
              const int64_t xx = (int64_t)(xo * (size_t)s->spatial.strides[1] + j * (size_t)s->spatial.dilations[1]) - (int64_t)s->pads_begin[1];
              if (yy < 0 || yy >= (int64_t)ih || xx < 0 || xx >= (int64_t)iw) {
                row[kk] = 0; /* padding holds the zero point */
                continue;
              }
              const size_t ch = g * cg + c;
              const size_t at = nhwc ? ((b * ih + (size_t)yy) * iw + (size_t)xx) * cin + ch : ((b * cin + ch) * ih + (size_t)yy) * iw + (size_t)xx;
              row[kk] = (int16_t)((is_signed ? ((const int8_t *)x->data)[at] : ((const uint8_t *)x->data)[at]) - x_zp);
            }
          }
        for (; kk < d->k_stride; kk++) row[kk] = 0;
      }
      ofx_q8_gemm(m, d->group_n, d->k, rows, d->k_stride, d->packed + g * d->group_bytes,
                  (float *)out[0].data + b * m * n + g * d->group_n, n, d->min, d->max, ctx->pool);
    }
}

/* Fused MatMulInteger: A's rows widened into scratch, then the 8-bit GEMM (B is 2-D, so every
 * batch of A is more rows). */
static void dequant_matmul_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  integer_state *s = op->state;
  dequant_state *d = &s->dq;
  const ofx_tensor *a = &in[s->x];
  set_scales(d, *(const float *)in[op->node->n_inputs].data);
  const int32_t a_zp = run_zero_point(op, in, s->x_zp);
  const size_t rows = ofx_tensor_numel(a) / (d->k ? d->k : 1);
  int16_t *wide = ctx->scratch;
  for (size_t r = 0; r < rows; r++) {
    ofx_kernels()->x8_to_s16(d->k, (const uint8_t *)a->data + r * d->k, a->dtype == OFX_DTYPE_INT8, a_zp, wide + r * d->k_stride);
    for (size_t kk = d->k; kk < d->k_stride; kk++) wide[r * d->k_stride + kk] = 0;
  }
  ofx_q8_gemm(rows, d->group_n, d->k, wide, d->k_stride, d->packed, out[0].data, d->group_n, d->min, d->max, ctx->pool);
}

/* Reshape for either form: the reference's shapes, then float32 out and scratch when fused. */
static ofx_status integer_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  integer_state *s = op->state;
  const bool conv = op->def->kind == OFX_OP_ConvInteger || op->def->kind == OFX_OP_QLinearConv;
  OFX_TRY(conv ? integer_conv_reshape(op, in, out) : integer_matmul_reshape(op, in, out));
  if (!s->dq.on) return OFX_OK;
  const ofx_tensor *x_scale = &in[op->node->n_inputs];
  if (x_scale->rank < 0 || x_scale->dtype != OFX_DTYPE_FLOAT32 || ofx_tensor_numel(x_scale) != 1)
    return ofx_op_error(op, OFX_BAD_MODEL, "the activation scale its dequantizing Mul reads must be one float32");
  out[0].dtype = OFX_DTYPE_FLOAT32;
  size_t rows;
  if (conv) {
    out[0].layout = OFX_LAYOUT_NHWC; /* the GEMM writes pixels by channels */
    rows = (size_t)(out[0].dims[2] * out[0].dims[3]);
  } else {
    rows = ofx_tensor_numel(&in[s->x]) / (s->dq.k ? s->dq.k : 1);
  }
  if (rows > SIZE_MAX / 2 / s->dq.k_stride) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "its widened rows would not fit in memory");
  op->scratch_bytes = rows * s->dq.k_stride * sizeof(int16_t);
  return OFX_OK;
}

static void integer_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const integer_state *s = op->state;
  const bool conv = op->def->kind == OFX_OP_ConvInteger || op->def->kind == OFX_OP_QLinearConv;
  if (s->dq.on) (conv ? dequant_conv_run : dequant_matmul_run)(op, in, out, ctx);
  else (conv ? integer_conv_run : integer_matmul_run)(op, in, out, ctx);
}

const ofx_op_def ofx_op_conv_integer = {.op_type = "ConvInteger", .kind = OFX_OP_ConvInteger, .init = conv_integer_init,
                                        .reshape = integer_reshape, .run = integer_run, .destroy = integer_destroy,
                                        .fuse_dequantize = integer_fuse_dequantize, .fuse_activation = integer_fuse_activation,
                                        .torch_name = "conv", .trait_flags = OFX_TRAIT_INTEGER_PRODUCT};
const ofx_op_def ofx_op_qlinear_conv = {.op_type = "QLinearConv", .kind = OFX_OP_QLinearConv, .init = qlinear_init,
                                        .reshape = integer_reshape, .run = integer_run, .destroy = integer_destroy,
                                        .torch_name = "conv"};
const ofx_op_def ofx_op_matmul_integer = {.op_type = "MatMulInteger", .kind = OFX_OP_MatMulInteger, .init = conv_integer_init,
                                          .reshape = integer_reshape, .run = integer_run, .destroy = integer_destroy,
                                          .fuse_dequantize = integer_fuse_dequantize, .fuse_activation = integer_fuse_activation,
                                          .torch_name = "matmul", .trait_flags = OFX_TRAIT_INTEGER_PRODUCT};
const ofx_op_def ofx_op_qlinear_matmul = {.op_type = "QLinearMatMul", .kind = OFX_OP_QLinearMatMul, .init = qlinear_init,
                                          .reshape = integer_reshape, .run = integer_run, .destroy = integer_destroy,
                                          .torch_name = "matmul"};

