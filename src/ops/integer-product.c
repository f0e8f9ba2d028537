/* The ops that multiply 8-bit values, in the three forms quantized models ship in:
 *   dynamic (onnxruntime's quantize_dynamic, transformers.js "q8"): ConvInteger / MatMulInteger,
 *     int32 out, then Cast, scale Mul and bias Add in float;
 *   QOperator: QLinearConv, QLinearMatMul, 8-bit in and out;
 *   QDQ: float Conv / MatMul between DequantizeLinear nodes.
 * Each integer op has an exact reference form (int32 sums of (x - x_zp)(w - w_zp) as ONNX defines
 * them, rounding half to even, saturation), used when its weights or parameters are not
 * constants. Otherwise it runs on the 8-bit GEMM (q8-product.h): QLinear ops from init, the
 * dynamic chain once the planner fuses it (.fuse_dequantize), QDQ Conv / MatMul once the planner
 * hands them their 8-bit operands (.fuse_quantized, given to conv.c's and matmul.c's rows). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/common.h"
#include "kernels/kernel-config.h"
#include "ops/op.h"
#include "ops/q8-product.h"
#include "ops/quantize.h"
#include "ops/spatial.h"
#include "ops/typed.h"

typedef enum integer_path {
  PATH_REFERENCE, /* exact int32 loops */
  PATH_DEQUANTIZE, /* ConvInteger / MatMulInteger + Cast + Mul [+ Add] fused: float32 out, scale per run */
  PATH_QLINEAR,   /* QLinearConv / QLinearMatMul with constant parameters: GEMM, then requantized */
  PATH_QDQ,       /* Conv / MatMul over QDQ operands: float input quantized here, float32 out */
} integer_path;

typedef struct integer_state {
  bool qlinear; /* QLinearConv / QLinearMatMul: inputs (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp[, B]) */
  size_t x, x_zp, w, w_zp; /* input indices */
  ofx_spatial_attrs spatial;
  size_t groups, pads_begin[2];
  ofx_bcast bcast; /* MatMul batch dims: a, b -> y */
  size_t m, k, n;
  integer_path path;
  ofx_q8_product q8;
  ofx_q8_geometry geometry; /* conv, set by reshape */
  size_t rows;              /* MatMul: rows of A, set by reshape */
  /* PATH_QLINEAR: the output's zero point; PATH_QDQ: how the float input is quantized */
  int32_t y_zero_point;
  float x_scale;
  int32_t x_zero_point;
  ofx_dtype x_type;
  /* a fused QuantizeLinear -> DequantizeLinear after the op (round_trip.scale 0: none), and the
   * clamp of an activation fused after it */
  ofx_activation round_trip;
  float after_min, after_max;
} integer_state;

static bool is_conv(const ofx_op *op) {
  const ofx_op_kind k = op->def->kind;
  return k == OFX_OP_ConvInteger || k == OFX_OP_QLinearConv || k == OFX_OP_Conv;
}

static void integer_destroy(ofx_op *op) {
  integer_state *s = op->state;
  if (s) ofx_q8_product_free(&s->q8);
  free(s);
}

/* Constant input k as a float32 scalar, or NAN. */
static float const_scalar_f32(const ofx_op *op, size_t k) {
  float f;
  return ofx_value_scalar_f32(ofx_op_const_input(op, k), &f) ? f : NAN;
}

/* Constant input k as an 8-bit scalar zero point (absent: 0), or false. Its type is its
 * operand's, which reshape checks (node outputs have no type before planning). */
static bool const_zero_point(const ofx_op *op, size_t k, int32_t *zp) {
  ofx_dtype type;
  *zp = 0;
  return !ofx_op_has_input(op, k) || ofx_value_scalar_8bit(ofx_op_const_input(op, k), zp, &type);
}

/* QLinearConv / QLinearMatMul with every parameter constant: weights packed for the 8-bit GEMM
 * with the requantizing scale x_scale * w_scale[j] / y_scale and the int32 bias folded into each
 * column's header. Anything else stays on the reference path, whose reshape reports what is
 * wrong. */
static void qlinear_pack(ofx_op *op, integer_state *s) {
  const bool conv = is_conv(op);
  const float x_scale = const_scalar_f32(op, 1), y_scale = const_scalar_f32(op, 6);
  int32_t x_zp, y_zp;
  const ofx_value *y_zp_value = ofx_op_const_input(op, 7);
  if (op->shapes_only || !(x_scale > 0) || !isfinite(x_scale) || !(y_scale > 0) || !isfinite(y_scale) || !y_zp_value) return;
  if (!const_zero_point(op, 2, &x_zp) || !const_zero_point(op, 7, &y_zp)) return;
  const ofx_value *w = ofx_op_const_input(op, 3), *w_scale = ofx_op_const_input(op, 4), *w_zp = ofx_op_const_input(op, 5);
  if (!w || !w_scale || (ofx_op_has_input(op, 5) && !w_zp)) return;
  for (size_t i = 0; w_scale->data && i < w_scale->nbytes / sizeof(float); i++) {
    float f;
    memcpy(&f, (const char *)w_scale->data + i * sizeof f, sizeof f);
    if (!(f > 0) || !isfinite(f)) return; /* reshape says which */
  }
  int64_t group = 1;
  if (conv && (ofx_node_attr_int(op->node, "group", 1, &group) != OFX_OK || group <= 0)) {
    ofx_error_clear();
    return;
  }
  int32_t *bias = NULL;
  if (conv && ofx_op_has_input(op, 8)) {
    const ofx_value *b = ofx_op_const_input(op, 8);
    if (!b || b->dtype != OFX_DTYPE_INT32 || w->rank != 4 || b->nbytes != (size_t)w->dims[0] * sizeof(int32_t)) return;
    if ((bias = malloc(b->nbytes)) == NULL) return;
    memcpy(bias, b->data, b->nbytes);
  }
  const ofx_q8_weights weights = {w, w_scale, w_zp, conv ? 0 : 1, (size_t)group};
  if (ofx_q8_product_pack(&s->q8, conv, &weights, NULL, bias, x_scale / y_scale)) {
    s->path = PATH_QLINEAR;
    s->x_zero_point = x_zp;
    s->y_zero_point = y_zp;
    op->packed_bytes = s->q8.packed_bytes;
    ofx_op_mark_input(op, 3, OFX_INPUT_PACKED);
  }
  free(bias);
}

static ofx_status integer_init(ofx_op *op, bool qlinear) {
  OFX_TRY(ofx_op_state_new(op, sizeof(integer_state)));
  integer_state *s = op->state;
  s->qlinear = qlinear;
  s->x = 0;
  s->x_zp = 2;
  s->w = qlinear ? 3 : 1;
  s->w_zp = qlinear ? 5 : 3;
  if (qlinear) qlinear_pack(op, s);
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
    if (!ofx_is_8bit(in[i].dtype))
      return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input %zu has type %s: uint8 and int8 are supported", i,
                          onnx_dtype_name((int32_t)in[i].dtype));
  }
  if (s->qlinear) {
    OFX_TRY(ofx_quant_check_params(op, in, 1, 2, 0, true));
    OFX_TRY(ofx_quant_check_params(op, in, 4, 5, w_channels, true));
    OFX_TRY(ofx_quant_check_params(op, in, 6, 7, 0, true));
    return OFX_OK;
  }
  const size_t zps[2] = {s->x_zp, s->w_zp};
  for (size_t k = 0; k < 2; k++) {
    const size_t z = zps[k];
    if (z >= op->node->n_inputs || op->node->inputs[z] < 0) continue;
    const size_t n = ofx_tensor_numel(&in[z]);
    if (!ofx_is_8bit(in[z].dtype) || in[z].dtype != in[k ? s->w : s->x].dtype)
      return ofx_op_error(op, OFX_BAD_MODEL, "zero point (input %zu) has type %s, its operand %s", z,
                          onnx_dtype_name((int32_t)in[z].dtype), onnx_dtype_name((int32_t)in[k ? s->w : s->x].dtype));
    if (n != 1 && !(k == 1 && w_channels && n == w_channels))
      return ofx_op_error(op, OFX_BAD_MODEL, "zero point (input %zu) has %zu elements: a scalar%s is supported", z, n,
                          k == 1 && w_channels ? " or one per output channel" : "");
  }
  return OFX_OK;
}

/* The output type and the requantization of QLinear ops: y = ofx_quant_saturate(round(acc * x_scale *
 * w_scale[c] / y_scale) + y_zp); ConvInteger / MatMulInteger store acc as int32. */
static void store_acc(const ofx_op *op, const ofx_tensor *in, ofx_tensor *out, size_t e, size_t c, int64_t acc) {
  const integer_state *s = op->state;
  if (!s->qlinear) {
    ((int32_t *)out[0].data)[e] = (int32_t)acc;
    return;
  }
  const float scale = ofx_quant_param_f32(&in[1], 0) * ofx_quant_param_f32(&in[4], c) / ofx_quant_param_f32(&in[6], 0);
  const double q = (double)nearbyintf((float)acc * scale) + ofx_quant_param_i32(&in[7], 0);
  ofx_store_i64(out[0].data, out[0].dtype, e, ofx_quant_saturate(q, out[0].dtype));
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
  const ofx_tensor *xz = ofx_quant_optional_input(op, in, s->x_zp), *wz = ofx_quant_optional_input(op, in, s->w_zp);
  const size_t batch = (size_t)x->dims[0], cin = (size_t)x->dims[1], ih = (size_t)x->dims[2], iw = (size_t)x->dims[3];
  const size_t cout = (size_t)w->dims[0], cg = (size_t)w->dims[1], kh = (size_t)w->dims[2], kw = (size_t)w->dims[3];
  const size_t oh = (size_t)out[0].dims[2], ow = (size_t)out[0].dims[3], og = cout / s->groups;
  const int32_t x_zp = ofx_quant_param_i32(xz, 0);
  const bool has_bias = s->qlinear && op->node->n_inputs > 8 && in[8].rank >= 0, nhwc = x->layout == OFX_LAYOUT_NHWC;
  for (size_t b = 0; b < batch; b++)
    for (size_t oc = 0; oc < cout; oc++) {
      const size_t g = oc / og;
      const int32_t w_zp = ofx_quant_param_i32(wz, oc);
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
                const size_t ch = g * cg + c;
                const size_t xi = nhwc ? ((b * ih + (size_t)yy) * iw + (size_t)xx) * cin + ch : ((b * cin + ch) * ih + (size_t)yy) * iw + (size_t)xx;
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
  const ofx_tensor *az = ofx_quant_optional_input(op, in, s->x_zp), *bz = ofx_quant_optional_input(op, in, s->w_zp);
  const int32_t a_zp = ofx_quant_param_i32(az, 0);
  const size_t m = s->m, k = s->k, n = s->n;
  const ofx_bcast *bc = &s->bcast;
  OFX_BCAST_FOR(bc, {
    const size_t ao = off[0] * m * k, bo = off[1] * k * n, yo = e * m * n;
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        int64_t acc = 0;
        const int32_t b_zp = ofx_quant_param_i32(bz, j);
        for (size_t kk = 0; kk < k; kk++)
          acc += (int64_t)(ofx_load_i64(a->data, a->dtype, ao + i * k + kk) - a_zp) *
                 (ofx_load_i64(b->data, b->dtype, bo + kk * n + j) - b_zp);
        store_acc(op, in, out, yo + i * n + j, j, acc);
      }
  });
}

/* ---- the 8-bit GEMM paths ---- */

/* The dynamic chain (pass-fuse.c): ConvInteger / MatMulInteger -> Cast -> Mul(x_scale * w_scale)
 * [-> Add(bias)] becomes this op writing y = float(acc) * x_scale * w_scale[j] + bias[j]; the
 * block headers get x_scale at each run (it comes from the run's DynamicQuantizeLinear). */
static bool integer_fuse_dequantize(ofx_op *op, int x_scale, const ofx_value *w_scale, const ofx_value *bias) {
  integer_state *s = op->state;
  const ofx_value *w = ofx_op_const_input(op, s->w), *w_zp = ofx_op_const_input(op, s->w_zp);
  const bool conv = is_conv(op);
  if (s->qlinear || s->path != PATH_REFERENCE || op->shapes_only || w == NULL || w_scale->dtype != OFX_DTYPE_FLOAT32) return false;
  if (ofx_op_has_input(op, s->w_zp) && w_zp == NULL) return false;
  const size_t n = w->rank >= 2 ? (size_t)w->dims[conv ? 0 : w->rank - 1] : 0;
  /* a per-column Mul broadcasts along MatMul's last axis only (along W for a conv's NCHW) */
  if (w_scale->nbytes != sizeof(float) && (conv || w_scale->nbytes != n * sizeof(float))) return false;
  float *bias_f = NULL;
  if (bias) { /* conv: [1, N, 1, 1] or [N, 1, 1]; MatMul: [N] */
    const bool shaped = conv ? (bias->rank == 4 && bias->dims[0] == 1 && bias->dims[2] == 1 && bias->dims[3] == 1) ||
                                   (bias->rank == 3 && bias->dims[1] == 1 && bias->dims[2] == 1)
                             : bias->rank == 1;
    if (bias->dtype != OFX_DTYPE_FLOAT32 || bias->nbytes != n * sizeof(float) || !shaped || (bias_f = malloc(bias->nbytes)) == NULL)
      return false;
    memcpy(bias_f, bias->data, bias->nbytes);
  }
  int64_t group = 1;
  if (conv && ofx_node_attr_int(op->node, "group", 1, &group) != OFX_OK) {
    ofx_error_clear();
    free(bias_f);
    return false;
  }
  const ofx_q8_weights weights = {w, w_scale, w_zp, conv ? 0 : 1, group > 0 ? (size_t)group : 0};
  const bool packed = ofx_q8_product_pack(&s->q8, conv, &weights, bias_f, NULL, 1.0f);
  free(bias_f);
  if (!packed) return false;
  s->path = PATH_DEQUANTIZE;
  op->packed_bytes = s->q8.packed_bytes;
  ofx_op_mark_input(op, s->w, OFX_INPUT_PACKED);
  return true;
}

static bool integer_fuse_activation(ofx_op *op, const ofx_activation *act) {
  integer_state *s = op->state;
  if (s->path != PATH_DEQUANTIZE && s->path != PATH_QDQ) return false;
  if (act->kind == OFX_ACTIVATION_ROUND_TRIP) { /* once, on the float result */
    if (s->round_trip.scale != 0) return false;
    s->round_trip = *act;
    s->after_min = -INFINITY, s->after_max = INFINITY;
    return true;
  }
  if (act->kind != OFX_ACTIVATION_CLAMP) return false;
  float *lo = s->round_trip.scale != 0 ? &s->after_min : &s->q8.output_min, *hi = lo == &s->after_min ? &s->after_max : &s->q8.output_max;
  *lo = fmaxf(*lo, act->min);
  *hi = fminf(*hi, act->max);
  return true;
}

/* The fused round trip, then the clamp after it (the unfused nodes' bits: f32-qu8.h). */
static void apply_round_trip(const integer_state *s, float *y, size_t n) {
  const ofx_activation *r = &s->round_trip;
  ofx_kernels()->f32_vqdq(n, y, r->scale, r->zero_point, r->min, r->max, s->after_min, s->after_max, y);
}

/* A convolution's geometry for input x and output y (reshaped already). */
static void set_geometry(integer_state *s, const ofx_tensor *x, const ofx_tensor *y) {
  s->geometry = (ofx_q8_geometry){
      .batch = (size_t)x->dims[0], .in_c = (size_t)x->dims[1], .in_h = (size_t)x->dims[2], .in_w = (size_t)x->dims[3],
      .out_h = (size_t)y->dims[2], .out_w = (size_t)y->dims[3],
      .stride = {(size_t)s->spatial.strides[0], (size_t)s->spatial.strides[1]},
      .dilation = {(size_t)s->spatial.dilations[0], (size_t)s->spatial.dilations[1]},
      .pad_top = s->pads_begin[0], .pad_left = s->pads_begin[1]};
}

/* Scratch for the GEMM path (QLinear ops first hold the float result there), or OUT_OF_MEMORY. */
static ofx_status q8_scratch(ofx_op *op, integer_state *s, const ofx_tensor *x, const ofx_tensor *y, bool float_result) {
  const size_t rows = is_conv(op) ? (size_t)(y->dims[2] * y->dims[3]) : s->rows;
  if (rows > SIZE_MAX / 8 / s->q8.k_stride || (float_result && ofx_tensor_numel(y) > SIZE_MAX / 8))
    return ofx_op_error(op, OFX_OUT_OF_MEMORY, "its widened rows would not fit in memory");
  op->scratch_bytes = (float_result ? ofx_round_up(ofx_tensor_numel(y) * sizeof(float), 16) : 0) +
                      (is_conv(op) ? ofx_q8_conv_scratch(&s->q8, &s->geometry, x) : ofx_q8_matmul_scratch(&s->q8, rows, x));
  return OFX_OK;
}

/* MatMul's A as rows of K: the GEMM paths take a 2-D B, so every batch of A is more rows. */
static ofx_status set_rows(ofx_op *op, integer_state *s, const ofx_tensor *a) {
  if (a->rank < 1 || (size_t)a->dims[a->rank - 1] != s->q8.k) {
    char shape[96];
    return ofx_op_error(op, OFX_BAD_INPUT, "input has shape %s, the weights expect %zu elements along its last axis",
                        ofx_shape_str(a->dims, a->rank, shape, sizeof shape), s->q8.k);
  }
  s->rows = ofx_tensor_numel(a) / s->q8.k;
  return OFX_OK;
}

/* Reshape for the integer ops: the reference's shapes and checks, then the GEMM path's output
 * type, layout and scratch. */
static ofx_status integer_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  integer_state *s = op->state;
  const bool conv = is_conv(op);
  OFX_TRY(conv ? integer_conv_reshape(op, in, out) : integer_matmul_reshape(op, in, out));
  if (s->path == PATH_REFERENCE) return OFX_OK;
  if (conv) set_geometry(s, &in[s->x], &out[0]);
  else OFX_TRY(set_rows(op, s, &in[s->x]));
  if (s->path == PATH_QLINEAR) {
    if (conv) out[0].layout = OFX_LAYOUT_NHWC; /* as the GEMM writes it: the next quantized op reads it so */
    return q8_scratch(op, s, &in[s->x], &out[0], true);
  }
  const ofx_tensor *x_scale = &in[op->node->n_inputs];
  if (x_scale->rank < 0 || x_scale->dtype != OFX_DTYPE_FLOAT32 || ofx_tensor_numel(x_scale) != 1)
    return ofx_op_error(op, OFX_BAD_MODEL, "the activation scale its dequantizing Mul reads must be one float32");
  out[0].dtype = OFX_DTYPE_FLOAT32;
  if (conv) out[0].layout = OFX_LAYOUT_NHWC; /* the GEMM writes pixels by channels */
  return q8_scratch(op, s, &in[s->x], &out[0], false);
}

/* QLinear ops: the GEMM's float result (already divided by y_scale) rounded, offset by the
 * output zero point and saturated, in the GEMM's order (a convolution's stays NHWC). */
static void requantize(const integer_state *s, const float *f, ofx_tensor *y) {
  const size_t total = ofx_tensor_numel(y);
  if (y->dtype == OFX_DTYPE_UINT8) {
    ofx_kernels()->f32_qu8_vcvt(total, f, 1.0f, s->y_zero_point, y->data);
    return;
  }
  for (size_t e = 0; e < total; e++) {
    const float q = nearbyintf(f[e]) + (float)s->y_zero_point;
    ofx_store_i64(y->data, y->dtype, e, ofx_quant_saturate(q == q ? q : 0.0, y->dtype));
  }
}

static void integer_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  integer_state *s = op->state;
  const bool conv = is_conv(op);
  if (s->path == PATH_REFERENCE) {
    (conv ? integer_conv_run : integer_matmul_run)(op, in, out, ctx);
    return;
  }
  ofx_q8_source src = {&in[s->x], 1.0f, s->x_zero_point, in[s->x].dtype};
  float *y = out[0].data;
  char *scratch = ctx->scratch;
  if (s->path == PATH_DEQUANTIZE) {
    ofx_q8_product_set_scale(&s->q8, *(const float *)in[op->node->n_inputs].data);
    src.zero_point = ofx_quant_param_i32(ofx_quant_optional_input(op, in, s->x_zp), 0);
  } else { /* PATH_QLINEAR: the float result first goes to scratch */
    y = ctx->scratch;
    scratch += ofx_round_up(ofx_tensor_numel(&out[0]) * sizeof(float), 16);
  }
  if (conv) ofx_q8_conv_run(&s->q8, &s->geometry, &src, y, scratch, ctx->pool);
  else ofx_q8_matmul_run(&s->q8, s->rows, &src, y, scratch, ctx->pool);
  if (s->path == PATH_QLINEAR) requantize(s, y, &out[0]);
  else if (s->round_trip.scale != 0) apply_round_trip(s, y, ofx_tensor_numel(&out[0]));
}

const ofx_op_def ofx_op_conv_integer = {.op_type = "ConvInteger", .kind = OFX_OP_ConvInteger, .init = conv_integer_init,
                                        .reshape = integer_reshape, .run = integer_run, .destroy = integer_destroy,
                                        .input_layout = OFX_OP_WANTS_NHWC,
                                        .fuse_dequantize = integer_fuse_dequantize, .fuse_activation = integer_fuse_activation,
                                        .torch_name = "conv", .output_type = OFX_OUTPUT_INT32,
                                        .trait_flags = OFX_TRAIT_INTEGER_PRODUCT};
const ofx_op_def ofx_op_qlinear_conv = {.op_type = "QLinearConv", .kind = OFX_OP_QLinearConv, .init = qlinear_init,
                                        .reshape = integer_reshape, .run = integer_run, .destroy = integer_destroy,
                                        .input_layout = OFX_OP_WANTS_NHWC,
                                        .torch_name = "conv", .output_type = OFX_OUTPUT_ZERO_POINT};
const ofx_op_def ofx_op_matmul_integer = {.op_type = "MatMulInteger", .kind = OFX_OP_MatMulInteger, .init = conv_integer_init,
                                          .reshape = integer_reshape, .run = integer_run, .destroy = integer_destroy,
                                          .fuse_dequantize = integer_fuse_dequantize, .fuse_activation = integer_fuse_activation,
                                          .torch_name = "matmul", .output_type = OFX_OUTPUT_INT32,
                                          .trait_flags = OFX_TRAIT_INTEGER_PRODUCT};
const ofx_op_def ofx_op_qlinear_matmul = {.op_type = "QLinearMatMul", .kind = OFX_OP_QLinearMatMul, .init = qlinear_init,
                                          .reshape = integer_reshape, .run = integer_run, .destroy = integer_destroy,
                                          .torch_name = "matmul", .output_type = OFX_OUTPUT_ZERO_POINT};

/* ---- Conv and MatMul over QDQ operands ---- */

/* Shapes for the float op's node (x_dq, w_dq[, bias]) from the float input it now reads. */
static ofx_status qdq_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  integer_state *s = op->state;
  const ofx_tensor *x = &in[op->node->n_inputs];
  const ofx_q8_product *p = &s->q8;
  if (is_conv(op)) {
    if (x->rank != 4 || (size_t)x->dims[1] != p->cg * p->groups) {
      char shape[96];
      return ofx_op_error(op, OFX_BAD_INPUT, "input has shape %s, the weights expect %zu channels",
                          ofx_shape_str(x->dims, x->rank, shape, sizeof shape), p->cg * p->groups);
    }
    int64_t spatial[2];
    OFX_TRY(ofx_spatial_output_shape(op, &s->spatial, x->dims + 2, spatial, s->pads_begin, NULL));
    out[0] = (ofx_tensor){.dtype = OFX_DTYPE_FLOAT32, .rank = 4, .dims = {x->dims[0], (int64_t)p->n, spatial[0], spatial[1]},
                          .layout = OFX_LAYOUT_NHWC};
    set_geometry(s, x, &out[0]);
  } else {
    OFX_TRY(set_rows(op, s, x));
    out[0] = *x;
    out[0].dtype = OFX_DTYPE_FLOAT32;
    out[0].dims[out[0].rank - 1] = (int64_t)p->n;
  }
  return q8_scratch(op, s, x, &out[0], false);
}

static void qdq_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  integer_state *s = op->state;
  const ofx_q8_source src = {&in[op->node->n_inputs], s->x_scale, s->x_zero_point, s->x_type};
  if (is_conv(op)) ofx_q8_conv_run(&s->q8, &s->geometry, &src, out[0].data, ctx->scratch, ctx->pool);
  else ofx_q8_matmul_run(&s->q8, s->rows, &src, out[0].data, ctx->scratch, ctx->pool);
  if (s->round_trip.scale != 0) apply_round_trip(s, out[0].data, ofx_tensor_numel(&out[0]));
}

static const ofx_op_def qdq_conv = {.op_type = "Conv", .kind = OFX_OP_Conv, .reshape = qdq_reshape, .run = qdq_run,
                                    .destroy = integer_destroy, .fuse_activation = integer_fuse_activation};
static const ofx_op_def qdq_matmul = {.op_type = "MatMul", .kind = OFX_OP_MatMul, .reshape = qdq_reshape, .run = qdq_run,
                                      .destroy = integer_destroy, .fuse_activation = integer_fuse_activation};

/* .fuse_quantized of Conv (2-D, constant float bias) and MatMul (2-D weights): packs the 8-bit
 * weights with x_scale * w_scale[j] and the bias, then hands the node to the definitions above
 * (the runtime reads op->def after init, as pool-nd.h's dispatch relies on). */
bool ofx_q8_fuse_quantized(ofx_op *op, const ofx_quantized_operands *q) {
  const bool conv = op->def->kind == OFX_OP_Conv;
  if (op->shapes_only || !(q->x_scale > 0) || !isfinite(q->x_scale) || (conv ? q->w->rank != 4 : q->w->rank != 2)) return false;
  integer_state *s = calloc(1, sizeof *s);
  float *bias = NULL;
  int64_t group = 1;
  bool ok = s != NULL;
  if (ok && conv) {
    const int64_t kernel[2] = {q->w->dims[2], q->w->dims[3]};
    ok = ofx_node_attr_int(op->node, "group", 1, &group) == OFX_OK && group > 0 &&
         ofx_spatial_attrs_read(op, 2, kernel, true, &s->spatial) == OFX_OK;
    if (!ok) ofx_error_clear();
    const ofx_value *b = ofx_op_has_input(op, 2) ? ofx_op_const_input(op, 2) : NULL;
    if (ok && ofx_op_has_input(op, 2)) {
      ok = b && b->dtype == OFX_DTYPE_FLOAT32 && b->nbytes == (size_t)q->w->dims[0] * sizeof(float) && (bias = malloc(b->nbytes));
      if (ok) memcpy(bias, b->data, b->nbytes);
    }
  }
  const ofx_q8_weights weights = {q->w, q->w_scale, q->w_zero_point, q->w_axis, (size_t)group};
  ok = ok && ofx_q8_product_pack(&s->q8, conv, &weights, bias, NULL, q->x_scale);
  free(bias);
  if (!ok) {
    free(s);
    return false;
  }
  s->path = PATH_QDQ;
  s->x_scale = q->x_scale;
  s->x_zero_point = q->x_zero_point;
  s->x_type = q->x_type;
  if (op->def->destroy) op->def->destroy(op);
  else free(op->state);
  op->state = s;
  op->def = conv ? &qdq_conv : &qdq_matmul;
  op->packed_bytes = s->q8.packed_bytes;
  memset(op->input_flags, 0, op->node->n_inputs);
  ofx_op_mark_input(op, 0, OFX_INPUT_SHAPE_ONLY);
  ofx_op_mark_input(op, 1, OFX_INPUT_PACKED);
  if (conv) ofx_op_mark_input(op, 2, OFX_INPUT_PACKED);
  return true;
}
