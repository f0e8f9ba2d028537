/* Elementwise unary maths and activations (float32; Abs, Neg, Sign also on int64/int32; Not
 * on bool; IsNaN/IsInf give bool). One table of kinds, one loop with a switch: correctness
 * first, these are rarely hot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/elementwise-driver.h"
#include "kernels/kernel-config.h"
#include "ops/op.h"
#include "ops/typed.h"

typedef enum unary_kind {
  U_ABS, U_NEG, U_SIGN, U_SQRT, U_EXP, U_LOG, U_TANH, U_ERF, U_RECIPROCAL, U_FLOOR, U_CEIL, U_ROUND,
  U_SIN, U_COS, U_TAN, U_ASIN, U_ACOS, U_ATAN, U_SINH, U_COSH, U_ASINH, U_ACOSH, U_ATANH,
  U_SOFTPLUS, U_SOFTSIGN, U_LEAKY_RELU, U_ELU, U_SELU, U_CELU, U_HARD_SIGMOID, U_HARD_SWISH,
  U_THRESHOLDED_RELU, U_GELU, U_SHRINK, U_IS_NAN, U_IS_INF, U_NOT,
} unary_kind;

typedef struct unary_state {
  unary_kind kind;
  float alpha, beta, gamma;
  bool tanh_gelu, detect_negative, detect_positive;
} unary_state;

static ofx_status unary_make(ofx_op *op, unary_kind kind) {
  OFX_TRY(ofx_op_state_new(op, sizeof(unary_state)));
  unary_state *s = op->state;
  s->kind = kind;
  switch (kind) {
    case U_LEAKY_RELU: return ofx_node_attr_float(op->node, "alpha", 0.01f, &s->alpha);
    case U_ELU: case U_CELU: case U_THRESHOLDED_RELU: return ofx_node_attr_float(op->node, "alpha", 1.0f, &s->alpha);
    case U_SELU:
      OFX_TRY(ofx_node_attr_float(op->node, "alpha", 1.67326319217681884765625f, &s->alpha));
      return ofx_node_attr_float(op->node, "gamma", 1.05070102214813232421875f, &s->gamma);
    case U_HARD_SIGMOID:
      OFX_TRY(ofx_node_attr_float(op->node, "alpha", 0.2f, &s->alpha));
      return ofx_node_attr_float(op->node, "beta", 0.5f, &s->beta);
    case U_SHRINK:
      OFX_TRY(ofx_node_attr_float(op->node, "bias", 0.0f, &s->beta));
      return ofx_node_attr_float(op->node, "lambd", 0.5f, &s->alpha);
    case U_GELU: {
      char approximate[16];
      OFX_TRY(ofx_node_attr_string(op->node, "approximate", "none", approximate, sizeof approximate));
      if (strcmp(approximate, "none") != 0 && strcmp(approximate, "tanh") != 0)
        return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'approximate' must be 'none' or 'tanh', got '%s'", approximate);
      s->tanh_gelu = approximate[0] == 't';
      return OFX_OK;
    }
    case U_IS_INF: {
      int64_t neg, pos;
      OFX_TRY(ofx_node_attr_int(op->node, "detect_negative", 1, &neg));
      OFX_TRY(ofx_node_attr_int(op->node, "detect_positive", 1, &pos));
      s->detect_negative = neg != 0;
      s->detect_positive = pos != 0;
      return OFX_OK;
    }
    default: return OFX_OK;
  }
}

static ofx_status unary_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  const unary_state *s = op->state;
  if (op->node->n_inputs < 1 || in[0].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input 0 is missing");
  ofx_dtype t = in[0].dtype;
  bool ok = t == OFX_DTYPE_FLOAT32;
  if (s->kind == U_ABS || s->kind == U_NEG || s->kind == U_SIGN) ok |= t == OFX_DTYPE_INT64 || t == OFX_DTYPE_INT32;
  if (s->kind == U_NOT) ok = t == OFX_DTYPE_BOOL;
  if (!ok)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input 0 has type %s, which is not supported", onnx_dtype_name((int32_t)t));
  out[0] = in[0];
  out[0].data = NULL;
  if (s->kind == U_IS_NAN || s->kind == U_IS_INF) out[0].dtype = OFX_DTYPE_BOOL;
  return OFX_OK;
}

static float unary_f32(const unary_state *s, float x) {
  switch (s->kind) {
    case U_ABS: return fabsf(x);
    case U_NEG: return -x;
    case U_SIGN: return x > 0 ? 1.0f : x < 0 ? -1.0f : 0.0f;
    case U_SQRT: return sqrtf(x);
    case U_EXP: return expf(x);
    case U_LOG: return logf(x);
    case U_TANH: return tanhf(x);
    case U_ERF: return erff(x);
    case U_RECIPROCAL: return 1.0f / x;
    case U_FLOOR: return floorf(x);
    case U_CEIL: return ceilf(x);
    case U_ROUND: return nearbyintf(x); /* ties to even, the default rounding mode */
    case U_SIN: return sinf(x);
    case U_COS: return cosf(x);
    case U_TAN: return tanf(x);
    case U_ASIN: return asinf(x);
    case U_ACOS: return acosf(x);
    case U_ATAN: return atanf(x);
    case U_SINH: return sinhf(x);
    case U_COSH: return coshf(x);
    case U_ASINH: return asinhf(x);
    case U_ACOSH: return acoshf(x);
    case U_ATANH: return atanhf(x);
    case U_SOFTPLUS: return x > 20.0f ? x : log1pf(expf(x));
    case U_SOFTSIGN: return x / (1.0f + fabsf(x));
    case U_LEAKY_RELU: return x < 0 ? s->alpha * x : x;
    case U_ELU: return x < 0 ? s->alpha * expm1f(x) : x;
    case U_SELU: return s->gamma * (x <= 0 ? s->alpha * expm1f(x) : x);
    case U_CELU: return fmaxf(0.0f, x) + fminf(0.0f, s->alpha * expm1f(x / s->alpha));
    case U_HARD_SIGMOID: return fmaxf(0.0f, fminf(1.0f, s->alpha * x + s->beta));
    case U_HARD_SWISH: return x * fmaxf(0.0f, fminf(1.0f, x / 6.0f + 0.5f));
    case U_THRESHOLDED_RELU: return x > s->alpha ? x : 0.0f;
    case U_GELU:
      if (s->tanh_gelu) return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
      return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
    case U_SHRINK: return x < -s->alpha ? x + s->beta : x > s->alpha ? x - s->beta : 0.0f;
    default: return x;
  }
}

static void unary_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const unary_state *s = op->state;
  size_t n = ofx_tensor_numel(&in[0]);
  if (s->kind == U_NOT) {
    const uint8_t *x = in[0].data;
    uint8_t *y = out[0].data;
    for (size_t i = 0; i < n; i++) y[i] = !x[i];
  } else if (s->kind == U_IS_NAN || s->kind == U_IS_INF) {
    const float *x = in[0].data;
    uint8_t *y = out[0].data;
    for (size_t i = 0; i < n; i++)
      y[i] = s->kind == U_IS_NAN ? isnan(x[i]) : isinf(x[i]) && (x[i] > 0 ? s->detect_positive : s->detect_negative);
  } else if (in[0].dtype != OFX_DTYPE_FLOAT32) {
    for (size_t i = 0; i < n; i++) {
      int64_t x = ofx_load_i64(in[0].data, in[0].dtype, i);
      int64_t y = s->kind == U_ABS ? (x < 0 ? ofx_i64_sub_wrap(0, x) : x)
                  : s->kind == U_NEG ? ofx_i64_sub_wrap(0, x) : (x > 0) - (x < 0);
      ofx_store_i64(out[0].data, out[0].dtype, i, y);
    }
  } else if (s->kind == U_HARD_SWISH) { /* mobilenet_v3 when not fused into its Conv */
    ofx_f32_vunary(ofx_kernels()->f32_vhardswish, n, in[0].data, out[0].data, ctx->pool);
  } else if (s->kind == U_ERF) { /* GELU's Div-Erf-Add-Mul-Mul in transformers: vectorized */
    ofx_f32_vunary(ofx_kernels()->f32_verf, n, in[0].data, out[0].data, ctx->pool);
  } else {
    const float *x = in[0].data;
    float *y = out[0].data;
    for (size_t i = 0; i < n; i++) y[i] = unary_f32(s, x[i]);
  }
}

/* name: the op's row in op-defs.inc (its .op_type and .kind); math: its unary_kind; trailing
 * arguments are more fields of the definition. */
#define DEFINE_UNARY(name, fn, math, ...)                                                       \
  static ofx_status fn##_init(ofx_op *op) { return unary_make(op, math); }                     \
  const ofx_op_def ofx_op_##fn = {.op_type = #name, .kind = OFX_OP_##name, .init = fn##_init,  \
                                  .reshape = unary_reshape, .run = unary_run,                  \
                                  .input_layout = OFX_OP_ANY_LAYOUT, __VA_ARGS__};

DEFINE_UNARY(Abs, abs, U_ABS)
DEFINE_UNARY(Neg, neg, U_NEG)
DEFINE_UNARY(Sign, sign, U_SIGN)
DEFINE_UNARY(Sqrt, sqrt, U_SQRT)
DEFINE_UNARY(Exp, exp, U_EXP)
DEFINE_UNARY(Log, log, U_LOG)
DEFINE_UNARY(Tanh, tanh, U_TANH)
DEFINE_UNARY(Erf, erf, U_ERF)
DEFINE_UNARY(Reciprocal, reciprocal, U_RECIPROCAL)
DEFINE_UNARY(Floor, floor, U_FLOOR)
DEFINE_UNARY(Ceil, ceil, U_CEIL)
DEFINE_UNARY(Round, round, U_ROUND)
DEFINE_UNARY(Sin, sin, U_SIN)
DEFINE_UNARY(Cos, cos, U_COS)
DEFINE_UNARY(Tan, tan, U_TAN)
DEFINE_UNARY(Asin, asin, U_ASIN)
DEFINE_UNARY(Acos, acos, U_ACOS)
DEFINE_UNARY(Atan, atan, U_ATAN)
DEFINE_UNARY(Sinh, sinh, U_SINH)
DEFINE_UNARY(Cosh, cosh, U_COSH)
DEFINE_UNARY(Asinh, asinh, U_ASINH)
DEFINE_UNARY(Acosh, acosh, U_ACOSH)
DEFINE_UNARY(Atanh, atanh, U_ATANH)
DEFINE_UNARY(Softplus, softplus, U_SOFTPLUS)
DEFINE_UNARY(Softsign, softsign, U_SOFTSIGN)
DEFINE_UNARY(LeakyRelu, leaky_relu, U_LEAKY_RELU)
DEFINE_UNARY(Elu, elu, U_ELU)
DEFINE_UNARY(Selu, selu, U_SELU)
DEFINE_UNARY(Celu, celu, U_CELU)
static ofx_status hard_sigmoid_init(ofx_op *op) { return unary_make(op, U_HARD_SIGMOID); }
static ofx_status hard_swish_init(ofx_op *op) { return unary_make(op, U_HARD_SWISH); }
static bool hard_swish_activation(const ofx_op *op, ofx_activation *act) {
  *act = (ofx_activation){OFX_ACTIVATION_HARDSWISH, 0, 0};
  return true;
}
/* HardSigmoid as mobilenet_v3 exports HardSwish (opset < 14): x * HardSigmoid(x) */
static bool hard_sigmoid_activation(const ofx_op *op, ofx_activation *act) {
  const unary_state *s = op->state;
  *act = (ofx_activation){OFX_ACTIVATION_HARDSIGMOID, 0, 0};
  return s->alpha == 1.0f / 6.0f && s->beta == 0.5f;
}
const ofx_op_def ofx_op_hard_sigmoid = {.op_type = "HardSigmoid", .kind = OFX_OP_HardSigmoid,
                                        .init = hard_sigmoid_init, .reshape = unary_reshape, .run = unary_run,
                                        .input_layout = OFX_OP_ANY_LAYOUT, .activation = hard_sigmoid_activation};
const ofx_op_def ofx_op_hard_swish = {.op_type = "HardSwish", .kind = OFX_OP_HardSwish, .init = hard_swish_init,
                                      .reshape = unary_reshape, .run = unary_run, .input_layout = OFX_OP_ANY_LAYOUT,
                                      .activation = hard_swish_activation};
DEFINE_UNARY(ThresholdedRelu, thresholded_relu, U_THRESHOLDED_RELU)
DEFINE_UNARY(Gelu, gelu, U_GELU)
DEFINE_UNARY(Shrink, shrink, U_SHRINK)
DEFINE_UNARY(IsNaN, is_nan, U_IS_NAN, .output_type = OFX_OUTPUT_BOOL)
DEFINE_UNARY(IsInf, is_inf, U_IS_INF, .output_type = OFX_OUTPUT_BOOL)
DEFINE_UNARY(Not, not, U_NOT, .output_type = OFX_OUTPUT_BOOL)
